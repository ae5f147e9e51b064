import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusView } from '../../src/statusBar';
import type { EnvironmentResult, EnvironmentState } from '../../src/protocol';

function active(state: EnvironmentState, extra: Partial<EnvironmentResult> = {}) {
  return {
    uri: 'file:///repo/backend/src/main.rs',
    result: { root: '/repo', component: 'backend', shell: null, state, variables: {}, error: null, ...extra },
  };
}

test('statusView names the component and its state', () => {
  const cases: { state: EnvironmentState; text: string; error: boolean; tooltip: RegExp }[] = [
    { state: 'fresh', text: '$(check) backend: fresh', error: false, tooltip: /up to date/ },
    { state: 'stale', text: '$(history) backend: stale', error: false, tooltip: /earlier evaluation/ },
    { state: 'evaluating', text: '$(sync~spin) backend: evaluating', error: false, tooltip: /being evaluated/ },
    { state: 'failed', text: '$(error) backend: failed', error: true, tooltip: /failed to evaluate/ },
    { state: 'untrusted', text: '$(shield) backend: untrusted', error: false, tooltip: /not trusted/ },
    { state: 'none', text: '$(circle-slash) backend: none', error: false, tooltip: /no devShell/ },
  ];
  for (const c of cases) {
    const view = statusView(active(c.state));
    assert.ok(view, c.state);
    assert.equal(view.text, c.text);
    assert.equal(view.error, c.error, c.state);
    assert.match(view.tooltip, c.tooltip);
  }
});

test('statusView shows the error, hides outside components, and reports a silent server', () => {
  assert.match(statusView(active('failed', { error: 'infinite recursion' }))!.tooltip, /infinite recursion/);
  assert.equal(statusView(active('none', { component: null })), undefined);
  assert.equal(statusView(undefined), undefined);
  const down = statusView({ uri: 'file:///x', requestError: 'connection closed' })!;
  assert.equal(down.error, true);
  assert.match(down.tooltip, /connection closed/);
});
