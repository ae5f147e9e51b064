// The status bar item: the active file's component and the state of its
// environment. Clicking it shows the environment, or the error.

import * as vscode from 'vscode';
import type { ActiveEnvironment } from './tracker';
import type { EnvironmentState } from './protocol';

/** The icon of each state; the packaged README shows every one. */
export const stateIcons: Record<EnvironmentState, string> = {
  fresh: '$(check)',
  stale: '$(history)',
  evaluating: '$(sync~spin)',
  failed: '$(error)',
  untrusted: '$(shield)',
  none: '$(circle-slash)',
};

const explanations: Record<EnvironmentState, string> = {
  fresh: 'is up to date',
  stale: 'is from an earlier evaluation: the latest one failed',
  evaluating: 'is being evaluated',
  failed: 'failed to evaluate',
  untrusted: 'is not evaluated: the workspace is not trusted',
  none: 'has no devShell',
};

/** What the item shows; undefined hides it. Separate from the item so tests read it directly. */
export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

export function statusView(active: ActiveEnvironment | undefined): StatusView | undefined {
  if (active === undefined) {
    return undefined;
  }
  if (active.requestError !== undefined) {
    return {
      text: '$(error) monoflake',
      tooltip: `Monoflake: the server did not answer: ${active.requestError}`,
      error: true,
    };
  }
  const result = active.result;
  if (result === undefined) {
    return { text: '$(sync~spin) monoflake', tooltip: 'Monoflake: asking the server…', error: false };
  }
  if (result.component === null) {
    return undefined;
  }
  let tooltip = `Monoflake: the devShell of ${result.component} ${explanations[result.state]}.`;
  if (result.error) {
    tooltip += `\n\n${result.error}`;
  }
  return {
    text: `${stateIcons[result.state]} ${result.component}: ${result.state}`,
    tooltip: tooltip + '\n\nClick to show the environment.',
    error: result.state === 'failed',
  };
}

export class EnvironmentStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(showCommand: string) {
    this.item = vscode.window.createStatusBarItem('monoflake.environment', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Monoflake environment';
    this.item.command = showCommand;
  }

  update(active: ActiveEnvironment | undefined): void {
    const view = statusView(active);
    if (view === undefined) {
      this.item.hide();
      return;
    }
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
