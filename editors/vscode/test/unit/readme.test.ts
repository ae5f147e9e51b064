// The README packaged into the .vsix is the extension's page in VS Code: it
// must list every setting and command package.json contributes and every
// text the status bar item can show.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { stateIcons, statusView } from '../../src/statusBar';
import type { EnvironmentState } from '../../src/protocol';
import { repoRoot } from '../support/paths';

const dir = path.join(repoRoot(), 'editors', 'vscode');
const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
  license: string;
  contributes: { configuration: { properties: Record<string, unknown> }; commands: { title: string }[] };
};

test('the README lists every setting', () => {
  const settings = Object.keys(manifest.contributes.configuration.properties);
  assert.ok(settings.length > 0);
  for (const name of settings) {
    assert.ok(readme.includes('`' + name + '`'), `${name} is not in README.md`);
  }
});

test('the README lists every command', () => {
  for (const { title } of manifest.contributes.commands) {
    assert.ok(readme.includes(`**${title}**`), `${title} is not in README.md`);
  }
});

test('the README shows every state of the status bar item', () => {
  const active = (state: EnvironmentState) => ({
    uri: 'file:///repo/backend/x',
    result: { root: '/repo', component: 'backend', shell: null, state, variables: {}, error: null },
  });
  const texts = (Object.keys(stateIcons) as EnvironmentState[]).map((state) => statusView(active(state))!.text);
  texts.push(statusView({ uri: 'file:///x' })!.text, statusView({ uri: 'file:///x', requestError: 'gone' })!.text);
  for (const text of texts) {
    assert.ok(readme.includes('`' + text + '`'), `the status bar text ${text} is not in README.md`);
  }
});

test('the license is MIT, as the repository says', () => {
  assert.equal(manifest.license, 'MIT');
  assert.match(fs.readFileSync(path.join(repoRoot(), 'LICENSE'), 'utf8'), /^MIT License\n/);
});
