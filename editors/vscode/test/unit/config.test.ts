import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { beforeEach, test } from 'node:test';
import { affectsServer, initializationOptions, readSettings } from '../../src/config';
import { mock } from '../vscodeMock/vscode';

beforeEach(() => mock.reset());

test('readSettings applies defaults and expands ~ in serverPath', () => {
  const cases: { config: Record<string, unknown>; want: ReturnType<typeof readSettings> }[] = [
    { config: {}, want: { serverPath: 'monoflake', evaluationEnabled: true, system: null, syntaxDiagnostics: true } },
    { config: { 'monoflake.serverPath': '' }, want: { serverPath: 'monoflake', evaluationEnabled: true, system: null, syntaxDiagnostics: true } },
    {
      config: { 'monoflake.serverPath': '~/bin/monoflake', 'monoflake.evaluation.enabled': false, 'monoflake.system': 'x86_64-linux' },
      want: { serverPath: `${os.homedir()}/bin/monoflake`, evaluationEnabled: false, system: 'x86_64-linux', syntaxDiagnostics: true },
    },
    { config: { 'monoflake.serverPath': '/opt/m~/monoflake', 'monoflake.system': '' }, want: { serverPath: '/opt/m~/monoflake', evaluationEnabled: true, system: null, syntaxDiagnostics: true } },
    { config: { 'monoflake.diagnostics.syntax': false }, want: { serverPath: 'monoflake', evaluationEnabled: true, system: null, syntaxDiagnostics: false } },
  ];
  for (const c of cases) {
    mock.configuration = c.config;
    assert.deepEqual(readSettings(), c.want, JSON.stringify(c.config));
  }
});

test('initializationOptions never evaluates an untrusted workspace', () => {
  const settings = { serverPath: 'monoflake', evaluationEnabled: true, system: 'aarch64-darwin', syntaxDiagnostics: true };
  assert.deepEqual(initializationOptions(settings, true), { trusted: true, evaluation: { enabled: true }, system: 'aarch64-darwin', diagnostics: { syntax: true } });
  assert.deepEqual(initializationOptions(settings, false), { trusted: false, evaluation: { enabled: false }, system: 'aarch64-darwin', diagnostics: { syntax: true } });
  assert.deepEqual(initializationOptions({ ...settings, evaluationEnabled: false }, true).evaluation, { enabled: false });
});

test('initializationOptions: syntax diagnostics follow the setting, trusted or not', () => {
  const settings = { serverPath: 'monoflake', evaluationEnabled: true, system: null, syntaxDiagnostics: false };
  assert.deepEqual(initializationOptions(settings, true).diagnostics, { syntax: false });
  assert.deepEqual(initializationOptions(settings, false).diagnostics, { syntax: false });
});

test('affectsServer: only settings the server is started with', () => {
  const cases: [string, boolean][] = [
    ['monoflake.serverPath', true],
    ['monoflake.evaluation.enabled', true],
    ['monoflake.system', true],
    ['monoflake.diagnostics.syntax', true],
    ['monoflake.trace.server', false],
    ['editor.fontSize', false],
  ];
  for (const [setting, want] of cases) {
    const event = { affectsConfiguration: (s: string) => s === setting };
    assert.equal(affectsServer(event as never), want, setting);
  }
});
