// The extension's wiring: server lifecycle, commands, and who listens to the
// environment tracker. The language client itself is created by a factory so
// that unit tests run all of this against a fake server with `vscode` mocked.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { componentDirectory, outputsFile, rootPath } from './components';
import { Settings, affectsServer, initializationOptions, readSettings } from './config';
import { environmentOverrides, exportScript, hasVariables } from './environment';
import {
  EnvironmentChangedParams,
  EnvironmentResult,
  InitializationOptions,
  environmentChangedNotification,
  environmentRequest,
  serverCommands,
} from './protocol';
import { EnvironmentStatusBar } from './statusBar';
import { ComponentTaskProvider, taskType } from './tasks';
import { ComponentShellProfile, TerminalEnvironments, terminalProfileId } from './terminals';
import { ActiveEnvironment, EnvironmentTracker } from './tracker';

/** The subset of vscode-languageclient's LanguageClient the extension uses. */
export interface ServerClient {
  start(): Promise<void>;
  stop(): Promise<void>;
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  onNotification(method: string, handler: (params: unknown) => void): vscode.Disposable;
}

export type ClientFactory = (settings: Settings, options: () => InitializationOptions) => ServerClient;

/**
 * What the extension exports to other extensions, for instance to start
 * rust-analyzer or pyright with a component's environment:
 *
 *   const api = await vscode.extensions.getExtension('monoflake.monoflake')?.activate();
 *   const env = await api.processEnvironment(document.uri);
 */
export interface MonoflakeApi {
  /** The server's answer for the component owning `uri`. */
  environment(uri: vscode.Uri): Promise<EnvironmentResult>;
  /** Variables to set for a process in that component's devShell (PATH combined), or undefined. */
  processEnvironment(uri: vscode.Uri): Promise<Record<string, string> | undefined>;
  /** Fires when the active editor's environment changes. */
  onDidChangeEnvironment(listener: (active: ActiveEnvironment | undefined) => void): vscode.Disposable;
}

/** Command ids contributed in package.json. Distinct from the server's own commands, which the language client registers. */
export const commandIds = {
  reload: 'monoflake.environment.reload',
  show: 'monoflake.environment.show',
  trust: 'monoflake.workspace.trust',
  openOutputs: 'monoflake.component.openOutputs',
  restart: 'monoflake.server.restart',
} as const;

export async function activateWith(context: vscode.ExtensionContext, createClient: ClientFactory): Promise<MonoflakeApi> {
  const ext = new Extension(context, createClient);
  context.subscriptions.push(ext);
  await ext.restart();
  return {
    environment: (uri) => ext.tracker.environmentFor(uri.toString()),
    processEnvironment: async (uri) => {
      const result = await ext.tracker.environmentFor(uri.toString());
      return hasVariables(result) ? environmentOverrides(result, process.env) : undefined;
    },
    onDidChangeEnvironment: (listener) => {
      const subscription = ext.tracker.onDidChange(listener);
      return new vscode.Disposable(() => subscription.dispose());
    },
  };
}

class Extension implements vscode.Disposable {
  readonly tracker: EnvironmentTracker;
  private client: ServerClient | undefined;
  /** Settles when the latest (re)start has; requests made meanwhile wait for it. */
  private ready: Promise<void> = Promise.resolve();
  private clientSubscriptions: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly statusBar = new EnvironmentStatusBar(commandIds.show);
  private readonly terminals: TerminalEnvironments;

  constructor(
    context: vscode.ExtensionContext,
    private readonly createClient: ClientFactory,
  ) {
    this.tracker = new EnvironmentTracker({ environment: (uri) => this.request(uri) });
    this.terminals = new TerminalEnvironments(context.environmentVariableCollection);
    this.tracker.onDidChange((active) => {
      this.statusBar.update(active);
      this.terminals.apply(active);
    });
    this.subscriptions.push(
      this.statusBar,
      vscode.commands.registerCommand(commandIds.reload, () => this.reload()),
      vscode.commands.registerCommand(commandIds.show, () => this.show()),
      vscode.commands.registerCommand(commandIds.trust, () => this.trust()),
      vscode.commands.registerCommand(commandIds.openOutputs, () => this.openOutputs()),
      vscode.commands.registerCommand(commandIds.restart, () => this.restart()),
      vscode.window.registerTerminalProfileProvider(terminalProfileId, new ComponentShellProfile(this.tracker)),
      vscode.tasks.registerTaskProvider(taskType, new ComponentTaskProvider(this.tracker)),
      vscode.window.onDidChangeActiveTextEditor((editor) => void this.follow(editor)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsServer(event)) {
          void this.restart();
        }
      }),
      // Trust granted later turns evaluation on; the server learns it at start.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart()),
    );
  }

  private async start(): Promise<void> {
    const settings = readSettings();
    const client = this.createClient(settings, () =>
      initializationOptions(readSettings(), vscode.workspace.isTrusted),
    );
    this.clientSubscriptions = [
      client.onNotification(environmentChangedNotification, (params) => {
        void this.tracker.changed(params as EnvironmentChangedParams);
      }),
    ];
    try {
      await client.start();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.disposeClientSubscriptions();
      await client.stop().catch(() => undefined); // frees its output channel and watcher
      void vscode.window.showErrorMessage(
        `Monoflake could not start "${settings.serverPath} serve" (${message}); set monoflake.serverPath to the monoflake executable.`,
      );
      return;
    }
    this.client = client;
  }

  async restart(): Promise<void> {
    const previous = this.ready;
    this.ready = (async () => {
      await previous.catch(() => undefined); // a failed restart must not block the next one
      await this.stopClient();
      await this.start();
    })();
    await this.ready;
    // Outside `ready`: following asks the server, which waits for `ready`.
    await this.follow(vscode.window.activeTextEditor);
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.disposeClientSubscriptions();
    if (client !== undefined) {
      // A server that already exited cannot be stopped; there is nothing left to do then.
      await client.stop().catch(() => undefined);
    }
  }

  private disposeClientSubscriptions(): void {
    this.clientSubscriptions.forEach((d) => {
      d.dispose();
    });
    this.clientSubscriptions = [];
  }

  private async running(): Promise<ServerClient> {
    await this.ready;
    if (this.client === undefined) {
      throw new Error('the monoflake server is not running');
    }
    return this.client;
  }

  private async request(uri: string): Promise<EnvironmentResult> {
    const result = await (await this.running()).sendRequest<EnvironmentResult>(environmentRequest, { uri });
    // In an untrusted workspace the server is started with evaluation off and
    // so answers "none"; the user should read why.
    if (!vscode.workspace.isTrusted && result.component !== null && result.state === 'none') {
      return { ...result, state: 'untrusted' };
    }
    return result;
  }

  private async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
    return (await this.running()).sendRequest('workspace/executeCommand', { command, arguments: args });
  }

  /** Follows the active editor. Editors that are not files (output, untitled) keep the last component. */
  private async follow(editor: vscode.TextEditor | undefined): Promise<void> {
    if (editor === undefined || editor.document.uri.scheme !== 'file' || this.client === undefined) {
      return;
    }
    await this.tracker.setActive(editor.document.uri.toString());
  }

  private activeUri(): string | undefined {
    return this.tracker.active?.uri ?? vscode.window.activeTextEditor?.document.uri.toString();
  }

  async reload(): Promise<void> {
    const uri = this.activeUri();
    if (uri === undefined) {
      void vscode.window.showInformationMessage('Monoflake: open a file of a component to reload its environment.');
      return;
    }
    try {
      await this.executeServerCommand(serverCommands.reloadEnvironment, [uri]);
    } catch (err) {
      void vscode.window.showErrorMessage(`Monoflake could not reload the environment: ${errorText(err)}.`);
    }
    await this.tracker.refresh();
  }

  async show(): Promise<void> {
    const active = this.tracker.active;
    if (active?.requestError !== undefined) {
      void vscode.window.showErrorMessage(`Monoflake: the server did not answer: ${active.requestError}.`);
      return;
    }
    const result = active?.result;
    if (result === undefined || result.component === null) {
      void vscode.window.showInformationMessage('Monoflake: the active file belongs to no component.');
      return;
    }
    if (result.state === 'failed' || (result.error !== null && !hasVariables(result))) {
      const choice = await vscode.window.showErrorMessage(
        `Monoflake: the devShell of ${result.component} failed to evaluate: ${result.error ?? 'no error given'}`,
        'Reload environment',
      );
      if (choice === 'Reload environment') {
        await this.reload();
      }
      return;
    }
    const document = await vscode.workspace.openTextDocument({ content: exportScript(result), language: 'shellscript' });
    await vscode.window.showTextDocument(document, { preview: true });
  }

  async trust(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(
        'Monoflake evaluates flakes only in a trusted workspace; trust this workspace in VS Code first.',
        'Manage Workspace Trust',
      );
      if (choice === 'Manage Workspace Trust') {
        await vscode.commands.executeCommand('workbench.trust.manage');
      }
      return;
    }
    const root = this.tracker.active?.result?.root;
    const rootUri = root !== undefined ? vscode.Uri.file(rootPath(root)) : vscode.workspace.workspaceFolders?.[0]?.uri;
    if (rootUri === undefined) {
      void vscode.window.showInformationMessage('Monoflake: open a folder of a flake repository to trust it.');
      return;
    }
    try {
      await this.executeServerCommand(serverCommands.trustWorkspace, [rootUri.toString()]);
    } catch (err) {
      void vscode.window.showErrorMessage(`Monoflake could not trust ${rootUri.fsPath}: ${errorText(err)}.`);
      return;
    }
    await this.tracker.refresh();
  }

  async openOutputs(): Promise<void> {
    const result = this.tracker.active?.result;
    const uri = this.activeUri();
    if (result !== undefined && uri !== undefined) {
      const dir = componentDirectory(vscode.Uri.parse(uri).fsPath, rootPath(result.root));
      const file = dir !== undefined ? outputsFile(dir) : undefined;
      if (file !== undefined) {
        await vscode.window.showTextDocument(vscode.Uri.file(file));
        return;
      }
    }
    const files = await vscode.workspace.findFiles('**/nix/outputs.nix', '**/node_modules/**');
    if (files.length === 0) {
      void vscode.window.showInformationMessage('Monoflake: no component outputs (nix/outputs.nix) in this workspace.');
      return;
    }
    const items = files.map((f) => ({ label: path.basename(path.dirname(path.dirname(f.fsPath))), description: vscode.workspace.asRelativePath(f), uri: f }));
    const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Component whose outputs to open' });
    if (picked !== undefined) {
      await vscode.window.showTextDocument(picked.uri);
    }
  }

  dispose(): void {
    void this.stopClient();
    this.subscriptions.forEach((d) => {
      d.dispose();
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
