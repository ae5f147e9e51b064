// Which component the user is in, and its environment. The tracker follows
// the active file, asks the server, and tells its listeners (status bar,
// terminal environments) once per answer. It knows nothing of `vscode`.

import type { EnvironmentChangedParams, EnvironmentResult } from './protocol';
import { rootPath } from './components';

/** Answers `monoflake/environment` requests; the language client in the extension. */
export interface EnvironmentSource {
  environment(uri: string): Promise<EnvironmentResult>;
}

/** The environment of the active file, or why there is none. */
export interface ActiveEnvironment {
  uri: string;
  /** Undefined while the first answer is pending or when the request failed. */
  result?: EnvironmentResult;
  /** Set when the request itself failed (server gone, protocol error). */
  requestError?: string;
}

type Listener = (active: ActiveEnvironment | undefined) => void;

export class EnvironmentTracker {
  private current: ActiveEnvironment | undefined;
  private generation = 0;
  private readonly listeners: Listener[] = [];

  constructor(private source: EnvironmentSource) {}

  /** Replaces the server connection, as after a restart, and asks again. */
  async reconnect(source: EnvironmentSource): Promise<void> {
    this.source = source;
    await this.refresh();
  }

  get active(): ActiveEnvironment | undefined {
    return this.current;
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.push(listener);
    return { dispose: () => this.listeners.splice(this.listeners.indexOf(listener), 1) };
  }

  /**
   * Makes `uri` the active file (undefined: no file) and resolves once its
   * environment is known. Answers to earlier calls that arrive late are
   * dropped, so a fast sequence of editor switches ends on the last one.
   */
  async setActive(uri: string | undefined): Promise<void> {
    const generation = ++this.generation;
    if (uri === undefined) {
      this.publish(undefined);
      return;
    }
    if (this.current?.uri !== uri) {
      this.current = { uri };
    }
    let next: ActiveEnvironment;
    try {
      next = { uri, result: await this.source.environment(uri) };
    } catch (err) {
      next = { uri, requestError: err instanceof Error ? err.message : String(err) };
    }
    if (generation === this.generation) {
      this.publish(next);
    }
  }

  /** Asks again for the active file, as after a reload or a change of trust. */
  async refresh(): Promise<void> {
    await this.setActive(this.current?.uri);
  }

  /** Handles `monoflake/environmentChanged`: refreshes when it concerns the active component. */
  async changed(params: EnvironmentChangedParams): Promise<void> {
    const result = this.current?.result;
    if (result && result.component === params.component && sameRoot(result.root, params.root)) {
      await this.refresh();
    }
  }

  /** A one-off question for another file, as for a task or a terminal. */
  environmentFor(uri: string): Promise<EnvironmentResult> {
    return this.source.environment(uri);
  }

  private publish(active: ActiveEnvironment | undefined): void {
    this.current = active;
    for (const listener of [...this.listeners]) {
      listener(active);
    }
  }
}

function sameRoot(a: string, b: string): boolean {
  return rootPath(a).replace(/\/+$/, '') === rootPath(b).replace(/\/+$/, '');
}
