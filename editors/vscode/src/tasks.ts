// Tasks of type "monoflake": a shell command run in a component's devShell.
//
//   { "type": "monoflake", "command": "cargo test", "path": "backend" }

import * as path from 'node:path';
import * as vscode from 'vscode';
import { componentDirectory, rootPath } from './components';
import { environmentOverrides, hasVariables } from './environment';
import type { EnvironmentTracker } from './tracker';

export const taskType = 'monoflake';

export interface MonoflakeTaskDefinition extends vscode.TaskDefinition {
  command: string;
  path?: string;
}

export class ComponentTaskProvider implements vscode.TaskProvider {
  constructor(private readonly tracker: EnvironmentTracker) {}

  /** Tasks come from tasks.json; nothing is contributed unasked. */
  provideTasks(): vscode.Task[] {
    return [];
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task> {
    const definition = task.definition as MonoflakeTaskDefinition;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    const uri = this.targetUri(definition, folder);
    const result = await this.tracker.environmentFor(uri.toString());
    if (!hasVariables(result)) {
      const why = result.error ?? `its environment is ${result.state}`;
      throw new Error(`Monoflake cannot run "${definition.command}" in ${result.component ?? uri.fsPath}: ${why}.`);
    }
    const cwd = componentDirectory(uri.fsPath, rootPath(result.root)) ?? folder?.uri.fsPath;
    const execution = new vscode.ShellExecution(definition.command, {
      cwd,
      env: environmentOverrides(result, process.env),
    });
    return new vscode.Task(
      definition,
      task.scope ?? vscode.TaskScope.Workspace,
      task.name || definition.command,
      taskType,
      execution,
    );
  }

  private targetUri(definition: MonoflakeTaskDefinition, folder: vscode.WorkspaceFolder | undefined): vscode.Uri {
    if (definition.path !== undefined) {
      if (path.isAbsolute(definition.path)) {
        return vscode.Uri.file(definition.path);
      }
      if (folder !== undefined) {
        return vscode.Uri.joinPath(folder.uri, definition.path);
      }
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active !== undefined) {
      return active;
    }
    throw new Error(`Monoflake task "${definition.command}" needs a "path" or an active editor to choose a component.`);
  }
}
