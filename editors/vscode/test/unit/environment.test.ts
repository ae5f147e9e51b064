import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportScript, mutations, processEnvironment, shellQuote } from '../../src/environment';
import type { EnvironmentResult } from '../../src/protocol';

function result(variables: Record<string, string>, extra: Partial<EnvironmentResult> = {}): EnvironmentResult {
  return { root: '/repo', component: 'backend', shell: null, state: 'fresh', variables, error: null, ...extra };
}

test('mutations prepend PATH and replace the rest', () => {
  const got = mutations(result({ PATH: '/nix/store/a/bin', RUST_LOG: 'debug' }));
  assert.deepEqual(got, [
    { name: 'PATH', kind: 'prepend', value: '/nix/store/a/bin:' },
    { name: 'RUST_LOG', kind: 'replace', value: 'debug' },
  ]);
});

test('processEnvironment combines PATH with the base', () => {
  const cases: { name: string; base: NodeJS.ProcessEnv; vars: Record<string, string>; want: Record<string, string> }[] = [
    { name: 'base PATH kept behind', base: { PATH: '/usr/bin', A: 'x' }, vars: { PATH: '/s/bin', A: 'y' }, want: { PATH: '/s/bin:/usr/bin', A: 'y' } },
    { name: 'no base PATH', base: {}, vars: { PATH: '/s/bin' }, want: { PATH: '/s/bin' } },
    { name: 'value ending in a colon is kept', base: {}, vars: { MANPATH: '/s/man:' }, want: { MANPATH: '/s/man:' } },
  ];
  for (const c of cases) {
    assert.deepEqual(processEnvironment(result(c.vars), c.base), c.want, c.name);
  }
});

test('shellQuote survives quotes and newlines', () => {
  const cases: [string, string][] = [
    ['plain', `'plain'`],
    ["it's", `'it'\\''s'`],
    ['a\nb', `'a\nb'`],
    ['', `''`],
  ];
  for (const [input, want] of cases) {
    assert.equal(shellQuote(input), want, input);
  }
});

test('exportScript lists every variable sorted, with the state and the error', () => {
  const script = exportScript(result({ B: '2', A: "o'k" }, { state: 'stale', error: 'boom\nline 2', shell: 'devShells.x.backend' }));
  assert.equal(
    script,
    [
      '# monoflake: backend (stale)',
      '# devShell: devShells.x.backend',
      '# error: boom',
      '#   line 2',
      `export A='o'\\''k'`,
      `export B='2'`,
      '',
    ].join('\n'),
  );
});
