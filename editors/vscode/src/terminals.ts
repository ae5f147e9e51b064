// New integrated terminals in the active component's devShell.
//
// VS Code gives an extension one environment collection per window, and
// scoped collections per workspace folder. A multi-root window therefore
// keeps one environment per folder (the component last active in it); a
// single-folder window switches the window's collection as the active editor
// moves between components. Terminals already open keep their environment:
// VS Code marks them as stale and offers to relaunch them.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { componentDirectory, rootPath } from './components';
import { environmentOverrides, hasVariables, mutations } from './environment';
import type { ActiveEnvironment, EnvironmentTracker } from './tracker';

export const terminalProfileId = 'monoflake.componentShell';

export class TerminalEnvironments {
  /** Which component's devShell each collection holds, by workspace folder ('' for the window's). */
  private readonly components = new Map<string, string | null>();

  constructor(private readonly collection: vscode.GlobalEnvironmentVariableCollection) {
    // A devShell from a previous session may be stale or belong to another
    // component; it is asked for again once an editor is active.
    collection.persistent = false;
  }

  /** Puts the active component's environment into the collection new terminals read. */
  apply(active: ActiveEnvironment | undefined): void {
    if (active === undefined) {
      return;
    }
    const { key, target } = this.collectionFor(vscode.Uri.parse(active.uri));
    const result = active.result;
    if (result === undefined && active.requestError === undefined) {
      return; // still asking: keep what terminals had
    }
    if (result !== undefined && result.state === 'evaluating' && !hasVariables(result) && this.components.get(key) === result.component) {
      return; // re-evaluating the component in use: keep its environment until the new one is there
    }
    target.clear();
    if (result === undefined || !hasVariables(result)) {
      target.description = undefined;
      this.components.delete(key);
      return;
    }
    for (const m of mutations(result)) {
      if (m.kind === 'prepend') {
        target.prepend(m.name, m.value);
      } else {
        target.replace(m.name, m.value);
      }
    }
    target.description = `Monoflake: devShell of ${result.component} (${result.state})`;
    this.components.set(key, result.component);
  }

  private collectionFor(uri: vscode.Uri): { key: string; target: vscode.EnvironmentVariableCollection } {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (folders.length > 1 && folder !== undefined) {
      return { key: folder.uri.toString(), target: this.collection.getScoped({ workspaceFolder: folder }) };
    }
    return { key: '', target: this.collection };
  }
}

/** The "Monoflake: component shell" terminal profile: a terminal in the active component's devShell. */
export class ComponentShellProfile implements vscode.TerminalProfileProvider {
  constructor(private readonly tracker: EnvironmentTracker) {}

  async provideTerminalProfile(): Promise<vscode.TerminalProfile> {
    const uri = this.tracker.active?.uri ?? vscode.window.activeTextEditor?.document.uri.toString();
    if (uri === undefined) {
      throw new Error('Open a file of a component first: the component shell uses the active file’s component.');
    }
    const result = await this.tracker.environmentFor(uri);
    if (!hasVariables(result)) {
      const why = result.error ?? `its environment is ${result.state}`;
      throw new Error(`Monoflake cannot open a shell for ${result.component ?? 'this file'}: ${why}.`);
    }
    const file = vscode.Uri.parse(uri).fsPath;
    const cwd = componentDirectory(file, rootPath(result.root)) ?? path.dirname(file);
    return new vscode.TerminalProfile({
      name: `${result.component} devShell`,
      cwd,
      env: environmentOverrides(result, process.env),
    });
  }
}
