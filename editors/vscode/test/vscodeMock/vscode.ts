// A small hand-written stand-in for the `vscode` module: just the API the
// extension uses, recording what the extension did so tests can assert on it.

import * as path from 'node:path';

export class Disposable {
  constructor(private readonly fn: () => void) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: ((e: T) => unknown)[] = [];
  event = (listener: (e: T) => unknown): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
  };
  fire(e: T): void {
    [...this.listeners].forEach((l) => l(e));
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', path.resolve(p));
  }
  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(/:$/, ''), decodeURIComponent(url.pathname));
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri(base.scheme, path.join(base.path, ...segments));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path.split('/').map(encodeURIComponent).join('/')}`;
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum TaskScope {
  Global = 1,
  Workspace = 2,
}

export class TerminalProfile {
  constructor(readonly options: { name?: string; cwd?: string; env?: Record<string, string> }) {}
}

export class ShellExecution {
  constructor(
    readonly commandLine: string,
    readonly options?: { cwd?: string; env?: Record<string, string> },
  ) {}
}

export class Task {
  constructor(
    readonly definition: { type: string; [key: string]: unknown },
    readonly scope: unknown,
    readonly name: string,
    readonly source: string,
    readonly execution?: ShellExecution,
  ) {}
}

export class StatusBarItem {
  text = '';
  tooltip: string | undefined;
  command: string | undefined;
  name: string | undefined;
  backgroundColor: ThemeColor | undefined;
  visible = false;
  constructor(readonly id: string) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.visible = false;
  }
}

/** Records mutations the way VS Code's collection keeps them: one per variable. */
export class EnvironmentVariableCollection {
  persistent = true;
  description: string | undefined;
  readonly mutators = new Map<string, { type: 'replace' | 'prepend' | 'append'; value: string }>();
  readonly scoped = new Map<string, EnvironmentVariableCollection>();
  replace(name: string, value: string): void {
    this.mutators.set(name, { type: 'replace', value });
  }
  prepend(name: string, value: string): void {
    this.mutators.set(name, { type: 'prepend', value });
  }
  append(name: string, value: string): void {
    this.mutators.set(name, { type: 'append', value });
  }
  clear(): void {
    this.mutators.clear();
  }
  get(name: string) {
    return this.mutators.get(name);
  }
  getScoped(scope: { workspaceFolder?: { uri: Uri } }): EnvironmentVariableCollection {
    const key = scope.workspaceFolder?.uri.toString() ?? '';
    let c = this.scoped.get(key);
    if (c === undefined) {
      c = new EnvironmentVariableCollection();
      this.scoped.set(key, c);
    }
    return c;
  }
}

interface Message {
  severity: 'error' | 'warning' | 'information';
  text: string;
  items: string[];
}

/** Everything tests look at or steer. Reset before each test. */
export const mock = {
  messages: [] as Message[],
  /** The answer the next show*Message gives, as if the user clicked it. */
  messageChoice: undefined as string | undefined,
  shownDocuments: [] as { uri?: Uri; content?: string; language?: string }[],
  executedCommands: [] as { command: string; args: unknown[] }[],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  statusBarItems: [] as StatusBarItem[],
  terminalProfileProviders: new Map<string, any>(),
  taskProviders: new Map<string, any>(),
  configuration: {} as Record<string, unknown>,
  quickPickChoice: (items: any[]): any => items[0],
  files: [] as Uri[],
  activeEditorEmitter: new EventEmitter<any>(),
  configurationEmitter: new EventEmitter<any>(),
  trustEmitter: new EventEmitter<void>(),
  reset(): void {
    this.messages = [];
    this.messageChoice = undefined;
    this.shownDocuments = [];
    this.executedCommands = [];
    this.commands.clear();
    this.statusBarItems = [];
    this.terminalProfileProviders.clear();
    this.taskProviders.clear();
    this.configuration = {};
    this.files = [];
    this.quickPickChoice = (items: any[]): any => items[0];
    this.activeEditorEmitter = new EventEmitter<any>();
    this.configurationEmitter = new EventEmitter<any>();
    this.trustEmitter = new EventEmitter<void>();
    window.activeTextEditor = undefined;
    workspace.isTrusted = true;
    workspace.workspaceFolders = undefined;
  },
  /** Makes `file` the active editor and fires the event, as VS Code does. */
  openEditor(file: string): void {
    const editor = { document: { uri: Uri.file(file), languageId: file.endsWith('.nix') ? 'nix' : 'plaintext' } };
    window.activeTextEditor = editor;
    this.activeEditorEmitter.fire(editor);
  },
  statusBar(): StatusBarItem {
    const item = this.statusBarItems[this.statusBarItems.length - 1];
    if (item === undefined) {
      throw new Error('no status bar item was created');
    }
    return item;
  },
};

function message(severity: Message['severity']) {
  return async (text: string, ...items: string[]): Promise<string | undefined> => {
    mock.messages.push({ severity, text, items });
    return mock.messageChoice !== undefined && items.includes(mock.messageChoice) ? mock.messageChoice : undefined;
  };
}

export const window = {
  activeTextEditor: undefined as any,
  createStatusBarItem(id: string): StatusBarItem {
    const item = new StatusBarItem(id);
    mock.statusBarItems.push(item);
    return item;
  },
  createOutputChannel() {
    return { appendLine() {}, dispose() {} };
  },
  showErrorMessage: message('error'),
  showWarningMessage: message('warning'),
  showInformationMessage: message('information'),
  async showTextDocument(doc: Uri | { uri?: Uri; content?: string; language?: string }) {
    mock.shownDocuments.push(doc instanceof Uri ? { uri: doc } : doc);
  },
  async showQuickPick(items: any[]) {
    return mock.quickPickChoice(items);
  },
  onDidChangeActiveTextEditor(listener: (e: any) => unknown): Disposable {
    return mock.activeEditorEmitter.event(listener);
  },
  registerTerminalProfileProvider(id: string, provider: unknown): Disposable {
    mock.terminalProfileProviders.set(id, provider);
    return new Disposable(() => mock.terminalProfileProviders.delete(id));
  },
};

export const workspace = {
  isTrusted: true,
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  getWorkspaceFolder(uri: Uri) {
    return (this.workspaceFolders ?? []).find((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(f.uri.fsPath + path.sep));
  },
  getConfiguration(section: string) {
    return {
      get<T>(key: string, fallback?: T): T | undefined {
        const full = `${section}.${key}`;
        return full in mock.configuration ? (mock.configuration[full] as T) : fallback;
      },
    };
  },
  onDidChangeConfiguration(listener: (e: any) => unknown): Disposable {
    return mock.configurationEmitter.event(listener);
  },
  onDidGrantWorkspaceTrust(listener: () => unknown): Disposable {
    return mock.trustEmitter.event(listener);
  },
  async openTextDocument(options: { content: string; language: string }) {
    return options;
  },
  async findFiles(): Promise<Uri[]> {
    return mock.files;
  },
  asRelativePath(uri: Uri): string {
    const folder = this.getWorkspaceFolder(uri);
    return folder ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath;
  },
};

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown): Disposable {
    if (mock.commands.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    mock.commands.set(id, fn);
    return new Disposable(() => mock.commands.delete(id));
  },
  async executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    mock.executedCommands.push({ command, args });
    return mock.commands.get(command)?.(...args);
  },
};

export const tasks = {
  registerTaskProvider(type: string, provider: unknown): Disposable {
    mock.taskProviders.set(type, provider);
    return new Disposable(() => mock.taskProviders.delete(type));
  },
};
