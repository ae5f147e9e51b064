// Entry point VS Code loads (bundled to out/extension.js).

import type * as vscode from 'vscode';
import { createLanguageClient } from './client';
import { MonoflakeApi, activateWith } from './main';

export function activate(context: vscode.ExtensionContext): Promise<MonoflakeApi> {
  return activateWith(context, createLanguageClient);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
