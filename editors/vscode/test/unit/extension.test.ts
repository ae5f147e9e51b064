// The extension end to end inside the mocked `vscode`, talking JSON-RPC to
// the contract-only fake server in a child process.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import * as vscode from 'vscode';
import { activateWith, commandIds } from '../../src/main';
import { serverCommands } from '../../src/protocol';
import { terminalProfileId } from '../../src/terminals';
import { taskType } from '../../src/tasks';
import { ProcessClients, fakeClients } from '../support/processClient';
import { waitFor as wait } from '../support/wait';
import { copyTree, repoRoot } from '../support/paths';
import { EnvironmentVariableCollection, Task, Uri, mock, workspace } from '../vscodeMock/vscode';

let root: string;
let context: { subscriptions: { dispose(): unknown }[]; environmentVariableCollection: EnvironmentVariableCollection };

beforeEach(() => {
  mock.reset();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'monoflake-vscode-'));
  copyTree(path.join(repoRoot(), 'testdata', 'monorepo'), root);
  fs.mkdirSync(path.join(root, 'broken', 'nix'), { recursive: true });
  fs.writeFileSync(path.join(root, 'broken', 'nix', 'outputs.nix'), '{ }\n');
  workspace.workspaceFolders = [{ uri: Uri.file(root), name: 'monorepo', index: 0 }];
  context = { subscriptions: [], environmentVariableCollection: new EnvironmentVariableCollection() };
});

let clients: ProcessClients;

afterEach(async () => {
  context.subscriptions.forEach((d) => d.dispose());
  // Each fake server is a child process: the test process exits only once all are gone.
  await Promise.all(clients.created.map((c) => c.stop().catch(() => undefined)));
  fs.rmSync(root, { recursive: true, force: true });
});

function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<true> {
  return wait(what, () => condition() || undefined, timeoutMs, () => `status bar: ${mock.statusBar().text}`);
}

function statusIs(text: string): () => boolean {
  return () => mock.statusBar().visible && mock.statusBar().text.endsWith(text);
}

function file(rel: string): string {
  return path.join(root, rel);
}


test('moving between components switches the status bar and the environment of new terminals', async () => {
  clients = fakeClients(Uri.file(root).toString());
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  const collection = context.environmentVariableCollection;
  assert.equal(collection.persistent, false);

  mock.openEditor(file('backend/src/main.rs'));
  await waitFor('backend to evaluate', statusIs('backend: fresh'));
  assert.equal(collection.get('MONOREPO_COMPONENT')?.value, 'backend');
  assert.deepEqual(collection.get('PATH'), { type: 'prepend', value: '/fake/backend/bin:' });
  assert.match(collection.description ?? '', /backend/);

  mock.openEditor(file('frontend/src/index.js'));
  await waitFor('frontend to evaluate', statusIs('frontend: fresh'));
  assert.equal(collection.get('MONOREPO_COMPONENT')?.value, 'frontend');
  assert.deepEqual(collection.get('PATH'), { type: 'prepend', value: '/fake/frontend/bin:' });

  mock.openEditor(file('flake.nix'));
  await waitFor('the status bar to hide outside components', () => !mock.statusBar().visible);
  assert.equal(collection.mutators.size, 0);
  assert.equal(collection.scoped.size, 0, 'a single-folder window uses the window collection');
});

test('the component shell profile, tasks and the exported API use the component environment', async () => {
  clients = fakeClients(Uri.file(root).toString());
  const api = await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  mock.openEditor(file('backend/src/main.rs'));
  await waitFor('backend to evaluate', statusIs('backend: fresh'));

  const profile = await mock.terminalProfileProviders.get(terminalProfileId).provideTerminalProfile();
  assert.equal(profile.options.name, 'backend devShell');
  assert.equal(profile.options.cwd, file('backend'));
  assert.equal(profile.options.env.MONOREPO_COMPONENT, 'backend');
  assert.match(profile.options.env.PATH, /^\/fake\/backend\/bin:./);

  // Asked for frontend for the first time: the fake answers "evaluating" without variables.
  const folder = workspace.workspaceFolders![0];
  const definition = { type: taskType, command: 'npm test', path: 'frontend' };
  const provider = mock.taskProviders.get(taskType);
  await assert.rejects(provider.resolveTask(new Task(definition, folder, '', taskType)), /frontend: its environment is evaluating/);
  await new Promise((r) => setTimeout(r, 150));
  const task = await provider.resolveTask(new Task(definition, folder, '', taskType));
  assert.equal(task.name, 'npm test');
  assert.equal(task.execution.commandLine, 'npm test');
  assert.equal(task.execution.options.cwd, file('frontend'));
  assert.equal(task.execution.options.env.MONOREPO_COMPONENT, 'frontend');

  const env = await api.processEnvironment(vscode.Uri.file(file('backend/Cargo.toml')));
  assert.equal(env?.MONOREPO_COMPONENT, 'backend');
  assert.equal(await api.processEnvironment(vscode.Uri.file(file('flake.nix'))), undefined);
});

test('commands: show, reload and open outputs', async () => {
  clients = fakeClients(Uri.file(root).toString(), { ...process.env, FAKE_EVAL_DELAY_MS: '300' });
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  mock.openEditor(file('backend/src/main.rs'));
  await waitFor('backend to evaluate', statusIs('backend: fresh'));

  await vscode.commands.executeCommand(commandIds.show);
  const shown = mock.shownDocuments.at(-1);
  assert.equal(shown?.language, 'shellscript');
  assert.match(shown?.content ?? '', /^export MONOREPO_COMPONENT='backend'$/m);

  await vscode.commands.executeCommand(commandIds.reload);
  assert.ok((await clients.created[0].log()).includes('workspace/executeCommand'));
  assert.equal(mock.statusBar().text, '$(sync~spin) backend: evaluating');
  assert.equal(
    context.environmentVariableCollection.get('MONOREPO_COMPONENT')?.value,
    'backend',
    'terminals keep the environment while it re-evaluates',
  );
  await waitFor('backend to evaluate again', statusIs('backend: fresh'));

  await vscode.commands.executeCommand(commandIds.openOutputs);
  assert.equal(mock.shownDocuments.at(-1)?.uri?.fsPath, file('backend/nix/outputs.nix'));

  // Outside components, the command asks which component.
  mock.openEditor(file('flake.nix'));
  await waitFor('the status bar to hide outside components', () => !mock.statusBar().visible);
  mock.files = [Uri.file(file('backend/nix/outputs.nix')), Uri.file(file('frontend/nix/outputs.nix'))];
  let offered: string[] = [];
  mock.quickPickChoice = (items) => {
    offered = items.map((i) => i.label);
    return items[1];
  };
  await vscode.commands.executeCommand(commandIds.openOutputs);
  assert.deepEqual(offered, ['backend', 'frontend']);
  assert.equal(mock.shownDocuments.at(-1)?.uri?.fsPath, file('frontend/nix/outputs.nix'));
  mock.openEditor(file('backend/src/main.rs'));

  await vscode.commands.executeCommand(commandIds.restart);
  assert.equal(clients.created.length, 2);
  assert.equal(clients.created[0].stopped, true);
  await waitFor('the new server to answer', statusIs('backend: fresh'));
});

test('a devShell that fails shows its error and offers a reload', async () => {
  clients = fakeClients(Uri.file(root).toString());
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  mock.openEditor(file('broken/nix/outputs.nix'));
  await waitFor('broken to fail', statusIs('broken: failed'));
  assert.ok(mock.statusBar().backgroundColor, 'a failure is coloured');
  assert.match(String(mock.statusBar().tooltip), /failed to evaluate/);
  assert.equal(context.environmentVariableCollection.mutators.size, 0);

  mock.messageChoice = 'Reload environment';
  await vscode.commands.executeCommand(commandIds.show);
  const error = mock.messages.find((m) => m.severity === 'error');
  assert.match(error?.text ?? '', /devShell of broken failed to evaluate: error: attribute/);
  assert.deepEqual(error?.items, ['Reload environment']);
  assert.ok((await clients.created[0].log()).includes('workspace/executeCommand'), 'the button reloads');
});

test('an untrusted workspace gets static features only until trust is granted', async () => {
  workspace.isTrusted = false;
  mock.configuration['monoflake.system'] = 'aarch64-linux';
  clients = fakeClients(Uri.file(root).toString());
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  assert.deepEqual(clients.created[0].initializationOptions, { trusted: false, evaluation: { enabled: false }, system: 'aarch64-linux', diagnostics: { syntax: true } });

  mock.openEditor(file('backend/src/main.rs'));
  await waitFor('backend to be untrusted', statusIs('backend: untrusted'));
  assert.equal(context.environmentVariableCollection.mutators.size, 0);

  mock.messageChoice = 'Manage Workspace Trust';
  await vscode.commands.executeCommand(commandIds.trust);
  assert.ok(mock.executedCommands.some((c) => c.command === 'workbench.trust.manage'));
  assert.ok(!(await clients.created[0].log()).includes('workspace/executeCommand'), 'nothing is trusted behind VS Code’s back');

  workspace.isTrusted = true;
  mock.trustEmitter.fire();
  await waitFor('a restart with trust', () => clients.created.length === 2 && clients.created[1].initializationOptions !== undefined);
  assert.deepEqual(clients.created[1].initializationOptions, { trusted: true, evaluation: { enabled: true }, system: 'aarch64-linux', diagnostics: { syntax: true } });
  await waitFor('backend to evaluate once VS Code trusts the workspace', statusIs('backend: fresh'));

  // Trusting it for monoflake too (for the command line and direnv) goes to the server.
  await vscode.commands.executeCommand(commandIds.trust);
  assert.ok((await clients.created[1].log()).includes('workspace/executeCommand'));
});

test('settings: evaluation and syntax diagnostics can be turned off, and changing them restarts the server', async () => {
  mock.configuration['monoflake.evaluation.enabled'] = false;
  clients = fakeClients(Uri.file(root).toString());
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  assert.deepEqual(clients.created[0].initializationOptions, { trusted: true, evaluation: { enabled: false }, system: null, diagnostics: { syntax: true } });

  mock.configuration['monoflake.evaluation.enabled'] = true;
  mock.configurationEmitter.fire({ affectsConfiguration: (s: string) => s === 'monoflake.evaluation.enabled' });
  await waitFor('a restart', () => clients.created[1]?.initializationOptions !== undefined);
  assert.equal(clients.created[1].initializationOptions?.evaluation.enabled, true);

  // Beside nil or nixd: the server restarts without syntax diagnostics.
  mock.configuration['monoflake.diagnostics.syntax'] = false;
  mock.configurationEmitter.fire({ affectsConfiguration: (s: string) => s === 'monoflake.diagnostics.syntax' });
  await waitFor('a restart without syntax diagnostics', () => clients.created[2]?.initializationOptions !== undefined);
  assert.deepEqual(clients.created[2].initializationOptions?.diagnostics, { syntax: false });

  mock.configurationEmitter.fire({ affectsConfiguration: (s: string) => s === 'editor.fontSize' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(clients.created.length, 3, 'unrelated settings leave the server alone');
});

test('a multi-root window keeps one environment per workspace folder', async () => {
  const backend = { uri: Uri.file(file('backend')), name: 'backend', index: 0 };
  const frontend = { uri: Uri.file(file('frontend')), name: 'frontend', index: 1 };
  workspace.workspaceFolders = [backend, frontend];
  clients = fakeClients(Uri.file(root).toString());
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  const collection = context.environmentVariableCollection;

  mock.openEditor(file('backend/src/main.rs'));
  await waitFor('backend to evaluate', statusIs('backend: fresh'));
  mock.openEditor(file('frontend/src/index.js'));
  await waitFor('frontend to evaluate', statusIs('frontend: fresh'));

  assert.equal(collection.getScoped({ workspaceFolder: backend }).get('MONOREPO_COMPONENT')?.value, 'backend');
  assert.equal(collection.getScoped({ workspaceFolder: frontend }).get('MONOREPO_COMPONENT')?.value, 'frontend');
  assert.equal(collection.mutators.size, 0, 'the window-wide collection stays empty');
});

test('every contributed command is registered and none shadows a server command', async () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'editors', 'vscode', 'package.json'), 'utf8'));
  clients = fakeClients(Uri.file(root).toString());
  await activateWith(context as unknown as vscode.ExtensionContext, clients.factory);
  const contributed: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...contributed].sort(), Object.values(commandIds).sort());
  for (const id of contributed) {
    assert.ok(mock.commands.has(id), `${id} is registered`);
    assert.ok(!(Object.values(serverCommands) as string[]).includes(id), `${id} would clash with the language client`);
  }
  assert.deepEqual(
    manifest.contributes.terminal.profiles.map((p: { id: string }) => p.id),
    [terminalProfileId],
  );
  assert.equal(manifest.contributes.taskDefinitions[0].type, taskType);
  assert.equal(manifest.contributes.configuration.properties['monoflake.serverPath'].scope, 'machine-overridable');
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('a server that cannot start is reported with the setting to fix', async () => {
  mock.configuration['monoflake.serverPath'] = '/nowhere/monoflake';
  let stopped = false;
  clients = { created: [], factory: () => null as never };
  const failing = {
    start: () => Promise.reject(new Error('spawn /nowhere/monoflake ENOENT')),
    stop: async () => {
      stopped = true;
    },
    sendRequest: () => Promise.reject(new Error('not running')),
    onNotification: () => ({ dispose() {} }),
  };
  await activateWith(context as unknown as vscode.ExtensionContext, () => failing);
  const error = mock.messages.find((m) => m.severity === 'error');
  assert.match(error?.text ?? '', /could not start "\/nowhere\/monoflake serve" \(spawn \/nowhere\/monoflake ENOENT\); set monoflake.serverPath/);
  assert.ok(stopped, 'the failed client is stopped');
  mock.openEditor(file('backend/src/main.rs'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(mock.statusBar().visible, false, 'no status without a server');
});

test('a server that cannot be stopped does not block restarts', async () => {
  clients = fakeClients(Uri.file(root).toString());
  const factory = clients.factory;
  let first = true;
  const wrapped: typeof factory = (settings, options) => {
    const client = factory(settings, options);
    if (first) {
      first = false;
      const stop = client.stop.bind(client);
      client.stop = async () => {
        await stop();
        throw new Error('connection got disposed');
      };
    }
    return client;
  };
  await activateWith(context as unknown as vscode.ExtensionContext, wrapped);
  await vscode.commands.executeCommand(commandIds.restart);
  await vscode.commands.executeCommand(commandIds.restart);
  assert.equal(clients.created.length, 3);
  mock.openEditor(file('backend/src/main.rs'));
  await waitFor('the third server to answer', statusIs('backend: fresh'));
});
