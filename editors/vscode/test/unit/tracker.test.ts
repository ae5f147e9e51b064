import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnvironmentResult } from '../../src/protocol';
import { ActiveEnvironment, EnvironmentTracker } from '../../src/tracker';

function answer(uri: string): EnvironmentResult {
  const component = uri.split('/')[4] ?? null;
  return { root: '/repo', component, shell: null, state: 'fresh', variables: { C: component ?? '' }, error: null };
}

test('a late answer for an editor left behind is dropped', async () => {
  const pending = new Map<string, () => void>();
  const tracker = new EnvironmentTracker({
    environment: (uri) => new Promise((resolve) => pending.set(uri, () => resolve(answer(uri)))),
  });
  const seen: (ActiveEnvironment | undefined)[] = [];
  tracker.onDidChange((a) => seen.push(a));
  const first = tracker.setActive('file:///repo/backend/a.rs');
  const second = tracker.setActive('file:///repo/frontend/a.js');
  pending.get('file:///repo/frontend/a.js')!();
  await second;
  pending.get('file:///repo/backend/a.rs')!();
  await first;
  assert.equal(seen.length, 1);
  assert.equal(tracker.active?.result?.component, 'frontend');
});

test('environmentChanged refreshes only the active component of the same root', async () => {
  let calls = 0;
  const tracker = new EnvironmentTracker({
    environment: async (uri) => {
      calls++;
      return answer(uri);
    },
  });
  await tracker.setActive('file:///repo/backend/a.rs');
  const cases = [
    { params: { root: '/repo', component: 'frontend', state: 'fresh' as const }, calls: 1 },
    { params: { root: '/other', component: 'backend', state: 'fresh' as const }, calls: 1 },
    { params: { root: 'file:///repo/', component: 'backend', state: 'fresh' as const }, calls: 2 },
  ];
  for (const c of cases) {
    await tracker.changed(c.params);
    assert.equal(calls, c.calls, JSON.stringify(c.params));
  }
});

test('a failing request is reported, not thrown', async () => {
  const tracker = new EnvironmentTracker({ environment: () => Promise.reject(new Error('server exited')) });
  await tracker.setActive('file:///repo/backend/a.rs');
  assert.equal(tracker.active?.requestError, 'server exited');
});
