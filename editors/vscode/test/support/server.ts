// Starting the real `monoflake serve` for protocol tests, connected through
// vscode-languageserver-protocol exactly as vscode-languageclient connects.

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ClientCapabilities,
  InitializeRequest,
  InitializeResult,
  InitializedNotification,
  ProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { InitializationOptions } from '../../src/protocol';
import { copyTree, repoRoot } from './paths';

/** The server binary under test: MONOFLAKE_BIN, or bin/monoflake from `make build`. */
export function serverBinary(): string {
  const bin = process.env.MONOFLAKE_BIN ?? path.join(repoRoot(), 'bin', 'monoflake');
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} does not exist; run "make build" first (or set MONOFLAKE_BIN)`);
  }
  return bin;
}

/** Whether a command is on PATH. */
export function have(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A private copy of a fixture repository, committed to git so flake evaluation sees its files. */
export function fixtureCopy(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `monoflake-${name}-`));
  copyTree(path.join(repoRoot(), 'testdata', name), dir);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'fixture');
  return dir;
}

/**
 * An environment that keeps the server and nix away from the user's state and
 * from the network: private XDG directories, and nix with flakes on and no
 * binary caches.
 */
export function isolatedEnv(scratch: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const dir of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) {
    env[dir] = path.join(scratch, dir.toLowerCase());
    fs.mkdirSync(env[dir], { recursive: true });
  }
  env.NIX_CONFIG = 'experimental-features = nix-command flakes\nsubstituters =\n';
  return env;
}

/** The capabilities vscode-languageclient 9 announces for the features monoflake serves. */
export const clientCapabilities: ClientCapabilities = {
  workspace: {
    applyEdit: true,
    workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] },
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    symbol: { dynamicRegistration: true },
    executeCommand: { dynamicRegistration: true },
    configuration: true,
    workspaceFolders: true,
    codeLens: { refreshSupport: true },
    diagnostics: { refreshSupport: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
    completion: {
      dynamicRegistration: true,
      contextSupport: true,
      completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'], insertReplaceSupport: true },
    },
    hover: { dynamicRegistration: true, contentFormat: ['markdown', 'plaintext'] },
    definition: { dynamicRegistration: true, linkSupport: true },
    references: { dynamicRegistration: true },
    documentSymbol: { dynamicRegistration: true, hierarchicalDocumentSymbolSupport: true },
    codeLens: { dynamicRegistration: true },
    documentLink: { dynamicRegistration: true, tooltipSupport: true },
    rename: { dynamicRegistration: true, prepareSupport: true },
    publishDiagnostics: { relatedInformation: true, versionSupport: false, codeDescriptionSupport: true, dataSupport: true },
  },
  window: { workDoneProgress: true, showMessage: { messageActionItem: { additionalPropertiesSupport: true } } },
  general: { positionEncodings: ['utf-16'] },
};

export interface RunningServer {
  connection: ProtocolConnection;
  initializeResult: InitializeResult;
  stderr: () => string;
  stop(): Promise<void>;
}

export async function startServer(root: string, options: InitializationOptions, env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const child: ChildProcess = spawn(serverBinary(), ['serve'], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.listen();
  const rootUri = `file://${root}`;
  const initializeResult = await Promise.race([
    connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: '1.85.0' },
      locale: 'en',
      rootPath: root,
      rootUri,
      capabilities: clientCapabilities,
      initializationOptions: options,
      trace: 'off',
      workspaceFolders: [{ uri: rootUri, name: path.basename(root) }],
    }),
    exited.then((code) => {
      throw new Error(`monoflake serve exited with ${code} before answering initialize: ${stderr.trim()}`);
    }),
  ]);
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    initializeResult,
    stderr: () => stderr,
    async stop() {
      await connection.sendRequest('shutdown');
      await connection.sendNotification('exit');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
      connection.dispose();
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error('monoflake serve did not exit within 5 s of shutdown and exit');
      }
    },
  };
}
