// A ServerClient for tests: a server in a child process (the fake one, or
// the real `monoflake serve`), spoken to over vscode-jsonrpc the way
// vscode-languageclient does, minus `vscode`.

import { ChildProcess, spawn } from 'node:child_process';
import { MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import type { ClientFactory, ServerClient } from '../../src/main';
import type { InitializationOptions } from '../../src/protocol';
import { fakeServerPath } from './paths';

export interface ProcessClients {
  factory: ClientFactory;
  /** Every client created, in order; restarts create new ones. */
  created: ProcessClient[];
}

export class ProcessClient implements ServerClient {
  private child: ChildProcess | undefined;
  private connection: MessageConnection | undefined;
  private readonly handlers: [string, (params: unknown) => void][] = [];
  initializationOptions: InitializationOptions | undefined;
  stopped = false;

  constructor(
    private readonly command: string[],
    private readonly rootUri: string,
    private readonly options: () => InitializationOptions,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(): Promise<void> {
    const [program, ...args] = this.command;
    this.child = spawn(program, args, { env: this.env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    for (const [method, handler] of this.handlers) {
      this.connection.onNotification(method, handler);
    }
    this.connection.listen();
    this.initializationOptions = this.options();
    await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: this.rootUri,
      capabilities: {},
      initializationOptions: this.initializationOptions,
    });
    await this.connection.sendNotification('initialized', {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const connection = this.connection;
    if (connection === undefined) {
      return;
    }
    this.connection = undefined;
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    connection.dispose();
    this.child?.kill();
  }

  sendRequest<R>(method: string, params: unknown): Promise<R> {
    if (this.connection === undefined) {
      return Promise.reject(new Error('the server process is not running'));
    }
    return this.connection.sendRequest<R>(method, params);
  }

  onNotification(method: string, handler: (params: unknown) => void) {
    this.handlers.push([method, handler]);
    const registration = this.connection?.onNotification(method, handler);
    return { dispose: () => registration?.dispose() };
  }

  /** The methods the fake server received, in order (the fake server only). */
  log(): Promise<string[]> {
    return this.sendRequest<string[]>('fake/log', null);
  }
}

/** Clients of the contract-only fake server. */
export function fakeClients(rootUri: string, env: NodeJS.ProcessEnv = process.env): ProcessClients {
  return processClients([process.execPath, fakeServerPath()], rootUri, env);
}

/** Clients of any server command, such as [bin/monoflake, 'serve']. */
export function processClients(command: string[], rootUri: string, env: NodeJS.ProcessEnv): ProcessClients {
  const created: ProcessClient[] = [];
  return {
    created,
    factory: (_settings, options) => {
      const client = new ProcessClient(command, rootUri, options, env);
      created.push(client);
      return client;
    },
  };
}
