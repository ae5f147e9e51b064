// The real language client. Kept apart from main.ts so unit tests, which
// mock `vscode`, never load vscode-languageclient.

import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import type { ClientFactory } from './main';

export const createLanguageClient: ClientFactory = (settings, options) => {
  const serverOptions: ServerOptions = {
    command: settings.serverPath,
    args: ['serve'],
    transport: TransportKind.stdio,
  };
  const outputChannel = vscode.window.createOutputChannel('Monoflake', { log: true });
  const watcher = vscode.workspace.createFileSystemWatcher('**/{*.nix,flake.lock}');
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'nix' }],
    // A function, so that every (re)start reads the current trust and settings.
    initializationOptions: options,
    outputChannel,
    synchronize: { fileEvents: watcher },
  };
  const client = new LanguageClient('monoflake', 'Monoflake', serverOptions, clientOptions);
  return {
    start: () => client.start(),
    stop: async () => {
      await client.stop();
      watcher.dispose();
      outputChannel.dispose();
    },
    sendRequest: (method, params) => client.sendRequest(method, params),
    onNotification: (method, handler) => client.onNotification(method, handler),
  };
};
