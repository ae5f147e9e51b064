#!/usr/bin/env node
// A stand-in for nil or nixd, the single-file Nix language servers users run
// beside monoflake, for tests of the two attached to the same buffer. It
// keeps whole-text copies of the documents (textDocumentSync full), publishes
// one diagnostic with source "nil" and code "syntax" on every line holding
// `= ;` (an attribute without a value: a parse error), and offers one code
// action of its own everywhere. `other/log` returns the methods received.
// No dependencies, so every editor test can run it.
'use strict';

const { send, serve, standard } = require('./stdio');

const log = [];

function publish(uri, text) {
  const diagnostics = [];
  text.split('\n').forEach((line, i) => {
    const at = line.indexOf('= ;');
    if (at >= 0) {
      diagnostics.push({
        range: { start: { line: i, character: at + 2 }, end: { line: i, character: at + 3 } },
        severity: 1,
        source: 'nil',
        code: 'syntax',
        message: 'unexpected ;, expected an expression',
      });
    }
  });
  send({ method: 'textDocument/publishDiagnostics', params: { uri, diagnostics } });
}

function handle(message) {
  const { id, method, params } = message;
  if (method !== undefined) {
    log.push(method);
  }
  const reply = (result) => send({ id, result });
  switch (method) {
    case 'initialize':
      return reply({
        capabilities: { textDocumentSync: 1, codeActionProvider: true },
        serverInfo: { name: 'other-nix-server', version: '0' },
      });
    case 'textDocument/didOpen':
      return publish(params.textDocument.uri, params.textDocument.text);
    case 'textDocument/didChange':
      return publish(params.textDocument.uri, params.contentChanges[params.contentChanges.length - 1].text);
    case 'textDocument/codeAction':
      return reply([{ title: 'Stand-in action (does nothing)', kind: 'quickfix', command: { title: 'nothing', command: 'other.nothing' } }]);
    case 'workspace/executeCommand':
      return reply(null);
    case 'other/log':
      return reply(log);
    default:
      return standard(message);
  }
}

serve(handle);
