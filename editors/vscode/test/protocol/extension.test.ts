// The extension (inside the mocked `vscode`) against the real
// `monoflake serve` with nix evaluation: moving the active editor between
// components switches the status bar, the environment of new terminals and
// the component shell profile, with the server's own answers.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as vscode from 'vscode';
import { activateWith, commandIds } from '../../src/main';
import { terminalProfileId } from '../../src/terminals';
import { ProcessClients, processClients } from '../support/processClient';
import { fixtureCopy, have, isolatedEnv, serverBinary } from '../support/server';
import { waitFor as wait } from '../support/wait';
import { EnvironmentVariableCollection, Uri, mock, workspace } from '../vscodeMock/vscode';

const evaluationTimeoutMs = 120_000;
let repo: string;
let clients: ProcessClients;
let context: { subscriptions: { dispose(): unknown }[]; environmentVariableCollection: EnvironmentVariableCollection };

function waitFor(what: string, condition: () => boolean): Promise<true> {
  return wait(what, () => condition() || undefined, evaluationTimeoutMs, () => {
    const item = mock.statusBar();
    return `status bar: ${item.text}, tooltip: ${String(item.tooltip)}`;
  });
}

function statusIs(text: string): () => boolean {
  return () => mock.statusBar().visible && mock.statusBar().text.endsWith(text);
}

before(() => {
  if (!have('nix')) {
    if (process.env.CI === 'true') {
      throw new Error('nix is not installed; run tools/install-deps');
    }
    return;
  }
  mock.reset();
  repo = fixtureCopy('monorepo');
  workspace.workspaceFolders = [{ uri: Uri.file(repo), name: 'monorepo', index: 0 }];
  workspace.isTrusted = true; // VS Code's trust is enough for the server to evaluate
  context = { subscriptions: [], environmentVariableCollection: new EnvironmentVariableCollection() };
  clients = processClients([serverBinary(), 'serve'], Uri.file(repo).toString(), isolatedEnv(repo + '.state'));
});

after(async () => {
  context?.subscriptions.forEach((d) => d.dispose());
  await Promise.all((clients?.created ?? []).map((c) => c.stop()));
  if (repo) {
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(repo + '.state', { recursive: true, force: true });
  }
});

test('switching components with the real server', { timeout: 3 * evaluationTimeoutMs }, async (t) => {
  if (!have('nix')) {
    t.skip('nix is not installed');
    return;
  }
  const collection = context.environmentVariableCollection;
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  assert.deepEqual(clients.created[0].initializationOptions, { trusted: true, evaluation: { enabled: true }, system: null, diagnostics: { syntax: true } });

  mock.openEditor(path.join(repo, 'backend', 'src', 'main.rs'));
  await waitFor('backend to evaluate', statusIs('backend: fresh'));
  assert.equal(collection.get('MONOREPO_COMPONENT')?.value, 'backend');
  assert.equal(collection.get('BACKEND_PORT')?.value, '8080');
  assert.equal(collection.get('PATH')?.type, 'prepend');
  assert.match(collection.get('PATH')?.value ?? '', /-cargo\/bin.*:$/);
  assert.equal(collection.get('HOME'), undefined);

  mock.openEditor(path.join(repo, 'frontend', 'src', 'index.js'));
  await waitFor('frontend to evaluate', statusIs('frontend: fresh'));
  assert.equal(collection.get('MONOREPO_COMPONENT')?.value, 'frontend');
  assert.equal(collection.get('FRONTEND_PORT')?.value, '3000');
  assert.equal(collection.get('BACKEND_PORT'), undefined, "backend's variables are gone");

  const profile = await mock.terminalProfileProviders.get(terminalProfileId).provideTerminalProfile();
  assert.equal(profile.options.cwd, path.join(repo, 'frontend'));
  assert.equal(profile.options.env.MONOREPO_COMPONENT, 'frontend');

  await vscode.commands.executeCommand(commandIds.show);
  assert.match(mock.shownDocuments.at(-1)?.content ?? '', /^export FRONTEND_PORT='3000'$/m);

  mock.openEditor(path.join(repo, 'backend', 'Cargo.toml'));
  await waitFor('back to backend', statusIs('backend: fresh'));
  assert.equal(collection.get('MONOREPO_COMPONENT')?.value, 'backend');
});
