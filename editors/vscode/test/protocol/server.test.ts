// Drives the real `monoflake serve` over stdio with the protocol library
// vscode-languageclient is built on: the standard features on the monorepo
// fixture, and the custom monoflake/environment request, first untrusted
// (static features only) and then with nix evaluation in a trusted copy.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import {
  CodeAction,
  CodeActionRequest,
  CodeLensRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentLinkRequest,
  DocumentSymbolRequest,
  ExecuteCommandRequest,
  HoverRequest,
  Location,
  LocationLink,
  PublishDiagnosticsNotification,
  PrepareRenameRequest,
  PublishDiagnosticsParams,
  ReferencesRequest,
  RenameRequest,
  WorkspaceSymbolRequest,
} from 'vscode-languageserver-protocol/node';
import { EnvironmentChangedParams, EnvironmentResult, environmentChangedNotification, environmentRequest, serverCommands } from '../../src/protocol';
import { RunningServer, fixtureCopy, have, isolatedEnv, serverBinary, startServer } from '../support/server';
import { waitFor as wait } from '../support/wait';

let root: string;
let server: RunningServer;
const diagnostics = new Map<string, PublishDiagnosticsParams[]>();

function uri(rel: string): string {
  return `file://${path.join(root, rel)}`;
}

function text(rel: string): string {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

/** Line and UTF-16 column of the first occurrence of `needle` (plus `offset` characters). */
function position(rel: string, needle: string, offset = 0): { line: number; character: number } {
  const lines = text(rel).split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `${needle} not found in ${rel}`);
  return { line, character: lines[line].indexOf(needle) + offset };
}

function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return wait(what, probe, timeoutMs, () => `server stderr:\n${server?.stderr() ?? ''}`);
}

function targetOf(result: Location | Location[] | LocationLink[] | null): { uri: string; line: number } {
  assert.ok(result, 'definition returned nothing');
  const first = Array.isArray(result) ? result[0] : result;
  assert.ok(first, 'definition returned an empty list');
  if ('targetUri' in first) {
    return { uri: first.targetUri, line: first.targetSelectionRange.start.line };
  }
  return { uri: first.uri, line: first.range.start.line };
}

const reference = "self'.packages.backend";
const referenceOffset = "self'.packages.".length + 1; // inside "backend"

before(async () => {
  serverBinary(); // fails with a clear message before anything else
  root = fixtureCopy('monorepo');
  server = await startServer(root, { trusted: false, evaluation: { enabled: false }, system: null }, isolatedEnv(root + '.state'));
  server.connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    diagnostics.set(p.uri, [...(diagnostics.get(p.uri) ?? []), p]);
  });
  for (const rel of ['frontend/nix/outputs.nix', 'backend/nix/outputs.nix']) {
    await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: uri(rel), languageId: 'nix', version: 1, text: text(rel) },
    });
  }
});

after(async () => {
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(root + '.state', { recursive: true, force: true });
});

test('initialize announces the features the extension relies on', () => {
  const caps = server.initializeResult.capabilities;
  for (const provider of [
    'definitionProvider',
    'referencesProvider',
    'hoverProvider',
    'documentSymbolProvider',
    'workspaceSymbolProvider',
    'completionProvider',
    'renameProvider',
    'documentLinkProvider',
    'codeLensProvider',
    'codeActionProvider',
  ] as const) {
    assert.ok(caps[provider], `${provider} missing from ${JSON.stringify(caps)}`);
  }
  assert.deepEqual(
    [...(caps.executeCommandProvider?.commands ?? [])].filter((c) => c.startsWith('monoflake.')).sort(),
    Object.values(serverCommands).sort(),
  );
});

test('diagnostics are published for an opened file and follow edits', async () => {
  const file = uri('frontend/nix/outputs.nix');
  await waitFor('first diagnostics of frontend', () => diagnostics.get(file)?.[0], 10000);
  const broken = text('frontend/nix/outputs.nix').replace(reference, "self'.packages.backedn");
  await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: file, version: 2 },
    contentChanges: [{ text: broken }],
  });
  const published = await waitFor(
    'a diagnostic about packages.backedn',
    () => diagnostics.get(file)?.find((p) => p.diagnostics.some((d) => /backedn/.test(d.message))),
    10000,
  );
  const diagnostic = published.diagnostics.find((d) => /backedn/.test(d.message))!;
  assert.equal(diagnostic.range.start.line, position('frontend/nix/outputs.nix', reference).line);
  await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: file, version: 3 },
    contentChanges: [{ text: text('frontend/nix/outputs.nix') }],
  });
  await waitFor(
    'the diagnostic to go away after the fix',
    () => (diagnostics.get(file)?.at(-1)?.diagnostics.some((d) => /backedn/.test(d.message)) === false ? true : undefined),
    10000,
  );
});

test('a quick fix replaces a misspelled output with its close match', async () => {
  const file = uri('frontend/nix/outputs.nix');
  const broken = text('frontend/nix/outputs.nix').replace(reference, "self'.packages.backedn");
  await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: file, version: 4 },
    contentChanges: [{ text: broken }],
  });
  const at = position('frontend/nix/outputs.nix', reference, referenceOffset);
  const actions = (await server.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri: file },
    range: { start: at, end: at },
    context: { diagnostics: [], only: ['quickfix'] },
  })) as CodeAction[];
  const fix = actions.find((a) => a.title === 'Change backedn to backend');
  assert.ok(fix, JSON.stringify(actions));
  assert.equal(fix.kind, 'quickfix');
  assert.equal(fix.isPreferred, true);
  assert.equal(fix.diagnostics?.[0]?.code, 'unknown-output');
  assert.deepEqual(fix.edit?.changes?.[file]?.map((e) => e.newText), ['backend']);
  await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: file, version: 5 },
    contentChanges: [{ text: text('frontend/nix/outputs.nix') }],
  });
});

test('definition, references, hover and symbols cross components', async () => {
  const c = server.connection;
  const at = { textDocument: { uri: uri('frontend/nix/outputs.nix') }, position: position('frontend/nix/outputs.nix', reference, referenceOffset) };

  const target = targetOf(await c.sendRequest(DefinitionRequest.type, at));
  assert.equal(target.uri, uri('backend/nix/outputs.nix'));
  assert.equal(target.line, position('backend/nix/outputs.nix', 'packages.backend =').line);

  const refs = await c.sendRequest(ReferencesRequest.type, { ...at, context: { includeDeclaration: true } });
  const files = new Set((refs ?? []).map((r) => r.uri));
  assert.ok(files.has(uri('frontend/nix/outputs.nix')), JSON.stringify(refs));
  assert.ok(files.has(uri('backend/nix/outputs.nix')), JSON.stringify(refs));

  const hover = await c.sendRequest(HoverRequest.type, at);
  assert.ok(hover, 'no hover on a cross-component reference');

  const symbols = await c.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uri('backend/nix/outputs.nix') } });
  assert.ok(symbols && symbols.length > 0, 'no document symbols in backend/nix/outputs.nix');
  assert.ok(JSON.stringify(symbols).includes('backend'));

  const found = await c.sendRequest(WorkspaceSymbolRequest.type, { query: 'backend' });
  assert.ok(found && found.length > 0, 'workspace/symbol found nothing for "backend"');
});

test('completion, rename, document links and code lenses answer', async () => {
  const c = server.connection;
  const frontend = { uri: uri('frontend/nix/outputs.nix') };
  const afterDot = position('frontend/nix/outputs.nix', reference, "self'.packages.".length);

  const completion = await c.sendRequest(CompletionRequest.type, { textDocument: frontend, position: afterDot });
  const items = Array.isArray(completion) ? completion : (completion?.items ?? []);
  assert.ok(items.some((i) => i.label === 'backend'), `no completion "backend" after self'.packages.: ${JSON.stringify(items.map((i) => i.label))}`);

  const at = { textDocument: frontend, position: position('frontend/nix/outputs.nix', reference, referenceOffset) };
  const prepared = await c.sendRequest(PrepareRenameRequest.type, at);
  assert.ok(prepared, 'prepareRename refused a cross-component reference');
  const edit = await c.sendRequest(RenameRequest.type, { ...at, newName: 'api' });
  const touched = new Set([
    ...Object.keys(edit?.changes ?? {}),
    ...(edit?.documentChanges ?? []).map((d) => ('textDocument' in d ? d.textDocument.uri : '')),
  ]);
  assert.ok(touched.has(uri('frontend/nix/outputs.nix')) && touched.has(uri('backend/nix/outputs.nix')), JSON.stringify(edit));

  const links = await c.sendRequest(DocumentLinkRequest.type, { textDocument: frontend });
  assert.ok(Array.isArray(links), 'documentLink answered no list');
  const lenses = await c.sendRequest(CodeLensRequest.type, { textDocument: { uri: uri('backend/nix/outputs.nix') } });
  assert.ok(Array.isArray(lenses) && lenses.length > 0, `no code lenses on backend/nix/outputs.nix: ${JSON.stringify(lenses)}`);
});

test('monoflake/environment names the component and evaluates nothing with evaluation off', async () => {
  const result = await server.connection.sendRequest<EnvironmentResult>(environmentRequest, { uri: uri('backend/src/main.rs') });
  assert.equal(result.component, 'backend');
  assert.equal(result.state, 'none');
  assert.deepEqual(result.variables, {});
  assert.equal(fs.realpathSync(result.root.replace(/^file:\/\//, '')), fs.realpathSync(root));

  // Outside every component the server offers the flake's own default shell.
  const outside = await server.connection.sendRequest<EnvironmentResult>(environmentRequest, { uri: uri('flake.nix') });
  assert.ok(outside.component === null || outside.shell === 'default', JSON.stringify(outside));
  assert.notEqual(outside.component, 'backend');
});

// The editor does not vouch for the repository (trusted: false, as the Neovim
// plugin starts by default); monoflake's own trust, given through the
// server's command, lets it evaluate.
test('trusted through the server, each component gets its own devShell environment', { timeout: 150_000 }, async (t) => {
  if (!have('nix')) {
    if (process.env.CI === 'true') {
      assert.fail('nix is not installed; run tools/install-deps');
    }
    t.skip('nix is not installed');
    return;
  }
  const repo = fixtureCopy('monorepo');
  const env = isolatedEnv(repo + '.state');
  const evaluating = await startServer(repo, { trusted: false, evaluation: { enabled: true }, system: null }, env);
  const changes: EnvironmentChangedParams[] = [];
  evaluating.connection.onNotification(environmentChangedNotification, (p: EnvironmentChangedParams) => changes.push(p));
  const execute = (command: string, arg: string) =>
    evaluating.connection.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] });
  try {
    // Neither the editor nor monoflake trusts the repository yet: nothing is evaluated.
    const before = await evaluating.connection.sendRequest<EnvironmentResult>(environmentRequest, {
      uri: `file://${path.join(repo, 'backend', 'src', 'main.rs')}`,
    });
    assert.equal(before.state, 'untrusted');
    await execute(serverCommands.trustWorkspace, `file://${repo}`);

    const settled = async (component: string): Promise<EnvironmentResult> => {
      const file = `file://${path.join(repo, component, 'nix', 'outputs.nix')}`;
      return waitFor(
        `${component} to evaluate`,
        async () => {
          const r = await evaluating.connection.sendRequest<EnvironmentResult>(environmentRequest, { uri: file });
          assert.equal(r.component, component);
          assert.notEqual(r.state, 'untrusted', 'trusted with `monoflake trust` yet untrusted');
          assert.notEqual(r.state, 'failed', `evaluation failed: ${r.error}`);
          return r.state === 'fresh' ? r : undefined;
        },
        120_000,
      );
    };
    const backend = await settled('backend');
    const frontend = await settled('frontend');
    assert.equal(backend.variables.MONOREPO_COMPONENT, 'backend');
    assert.equal(frontend.variables.MONOREPO_COMPONENT, 'frontend');
    assert.equal(frontend.variables.FRONTEND_PORT, '3000');
    assert.equal(backend.variables.FRONTEND_PORT, undefined);
    assert.match(backend.variables.PATH, /-cargo\/bin/);
    // The server leaves out the build sandbox's variables, by direnv's list.
    for (const name of ['HOME', 'TMPDIR', 'NIX_BUILD_TOP', 'PWD', 'SHLVL']) {
      assert.equal(backend.variables[name], undefined, `${name} reached the editor`);
    }
    assert.ok(changes.some((c) => c.component === 'backend'), 'no monoflake/environmentChanged for backend');

    await execute(serverCommands.reloadEnvironment, `file://${path.join(repo, 'backend', 'src', 'main.rs')}`);
    const reloaded = await settled('backend');
    assert.equal(reloaded.variables.MONOREPO_COMPONENT, 'backend');
  } finally {
    await evaluating.stop();
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(repo + '.state', { recursive: true, force: true });
  }
});
