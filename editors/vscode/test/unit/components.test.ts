import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { componentDirectory, outputsFile, rootPath } from '../../src/components';

function tree(files: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'monoflake-components-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '{ }\n');
  }
  return root;
}

test('componentDirectory finds the owning component in both layouts', () => {
  const root = tree([
    'flake.nix',
    'nix/pkgs.nix',
    'backend/nix/outputs.nix',
    'backend/src/main.rs',
    'services/api/flake.nix',
    'services/api/cmd/main.go',
    'docs/index.md',
  ]);
  const cases: [string, string | undefined][] = [
    ['backend/src/main.rs', 'backend'],
    ['backend/nix/outputs.nix', 'backend'],
    ['backend', 'backend'],
    ['services/api/cmd/main.go', 'services/api'],
    ['docs/index.md', undefined],
    ['flake.nix', undefined],
    ['nix/pkgs.nix', undefined],
  ];
  for (const [file, want] of cases) {
    const got = componentDirectory(path.join(root, file), root);
    assert.equal(got, want === undefined ? undefined : path.join(root, want), file);
  }
  assert.equal(outputsFile(path.join(root, 'backend')), path.join(root, 'backend/nix/outputs.nix'));
  assert.equal(outputsFile(path.join(root, 'services/api')), path.join(root, 'services/api/flake.nix'));
  assert.equal(outputsFile(path.join(root, 'docs')), undefined);
});

test('rootPath accepts paths and file URIs', () => {
  assert.equal(rootPath('/a b/repo'), '/a b/repo');
  assert.equal(rootPath('file:///a%20b/repo'), '/a b/repo');
});
