#!/usr/bin/env node
// A stand-in for `monoflake serve` that speaks only the editor contract:
// initialize, monoflake/environment, monoflake/environmentChanged and the two
// server commands. Editor tests use it where the real server would need nix;
// it has no dependencies so both the VS Code and the Neovim tests can run it.
//
// Components are the directories under the workspace root that hold
// nix/outputs.nix. A component's environment is "evaluating" when first asked
// for and "fresh" 50 ms (FAKE_EVAL_DELAY_MS) later, announced with monoflake/environmentChanged; a
// component named "broken" fails. As in the real server, evaluation needs the
// editor's trust (initializationOptions.trusted) or monoflake's own
// (monoflake.trustWorkspace). `fake/log` returns the methods received.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { send, serve, standard } = require('./stdio');

const evaluationDelayMs = Number(process.env.FAKE_EVAL_DELAY_MS || 50);
let root = null;
let options = { trusted: false, evaluation: { enabled: false }, system: null };
const trustedRoots = new Set();
const environments = new Map(); // component -> 'evaluating' | 'fresh' | 'failed'
const log = [];

function uriPath(uri) {
  return decodeURIComponent(new URL(uri).pathname);
}

function componentOf(file) {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    return null;
  }
  const first = rel.split(path.sep)[0];
  return fs.existsSync(path.join(root, first, 'nix', 'outputs.nix')) ? first : null;
}

function evaluate(component) {
  environments.set(component, 'evaluating');
  setTimeout(() => {
    const state = component === 'broken' ? 'failed' : 'fresh';
    environments.set(component, state);
    send({ method: 'monoflake/environmentChanged', params: { root, component, state } });
  }, evaluationDelayMs);
}

function environment(uri) {
  const component = componentOf(uriPath(uri));
  const result = { root, component, shell: null, state: 'none', variables: {}, error: null };
  if (component === null) {
    return result;
  }
  result.shell = `devShells.x86_64-linux.${component}`;
  if (!options.evaluation.enabled) {
    return result;
  }
  if (!options.trusted && !trustedRoots.has(root)) {
    result.state = 'untrusted';
    return result;
  }
  if (!environments.has(component)) {
    evaluate(component);
  }
  result.state = environments.get(component);
  if (result.state === 'fresh') {
    // As the real server, it sends what a process in the devShell gets: no
    // HOME, TMPDIR or other variables of the build sandbox.
    result.variables = {
      MONOREPO_COMPONENT: component,
      PATH: `/fake/${component}/bin`,
    };
  } else if (result.state === 'failed') {
    result.error = `error: attribute 'devShells.x86_64-linux.${component}' failed to evaluate`;
  }
  return result;
}

function handle(message) {
  const { id, method, params } = message;
  if (method !== undefined) {
    log.push(method);
  }
  const reply = (result) => send({ id, result });
  switch (method) {
    case 'initialize':
      root = params.rootUri ? uriPath(params.rootUri) : params.rootPath;
      options = { ...options, ...(params.initializationOptions || {}) };
      return reply({
        capabilities: {
          textDocumentSync: 1,
          executeCommandProvider: { commands: ['monoflake.reloadEnvironment', 'monoflake.trustWorkspace'] },
        },
        serverInfo: { name: 'monoflake-fake', version: '0' },
      });
    case 'monoflake/environment':
      return reply(environment(params.uri));
    case 'workspace/executeCommand': {
      const [arg] = params.arguments || [];
      if (params.command === 'monoflake.trustWorkspace') {
        trustedRoots.add(uriPath(arg));
      } else if (params.command === 'monoflake.reloadEnvironment') {
        const component = componentOf(uriPath(arg));
        if (component !== null) {
          evaluate(component);
        }
      } else {
        return send({ id, error: { code: -32602, message: `unknown command ${params.command}` } });
      }
      return reply(null);
    }
    case 'fake/log':
      return reply(log);
    default:
      return standard(message);
  }
}

serve(handle);
