// The parts of the monoflake server's protocol that are not standard LSP.
// Kept free of `vscode` imports so the protocol test and the extension share
// one definition of the contract.

/** The state of a component's devShell environment as the server sees it. */
export type EnvironmentState = 'fresh' | 'stale' | 'evaluating' | 'failed' | 'untrusted' | 'none';

/** Parameters of the `monoflake/environment` request. */
export interface EnvironmentParams {
  uri: string;
}

/** Result of `monoflake/environment`: the devShell environment of the component owning a file. */
export interface EnvironmentResult {
  root: string;
  component: string | null;
  shell: string | null;
  state: EnvironmentState;
  /** Exported string variables of the devShell, PATH included. */
  variables: Record<string, string>;
  error: string | null;
}

/** Parameters of the `monoflake/environmentChanged` notification. */
export interface EnvironmentChangedParams {
  root: string;
  component: string;
  state: EnvironmentState;
}

/** What the server reads from `initializationOptions`. */
export interface InitializationOptions {
  trusted: boolean;
  evaluation: { enabled: boolean };
  system: string | null;
  /** `syntax: false` leaves parse errors to another Nix language server (nil, nixd); absent means true. */
  diagnostics?: { syntax: boolean };
}

export const environmentRequest = 'monoflake/environment';
export const environmentChangedNotification = 'monoflake/environmentChanged';

/** Commands the server executes through `workspace/executeCommand`. */
export const serverCommands = {
  /** Arguments: `[uri]` of a file of the component to re-evaluate. */
  reloadEnvironment: 'monoflake.reloadEnvironment',
  /** Arguments: `[rootUri]` of the repository to trust. */
  trustWorkspace: 'monoflake.trustWorkspace',
  /** Arguments: `[uri]` of a file to add to git's index; the quick fix of `untracked-path` sends it. */
  gitAdd: 'monoflake.gitAdd',
} as const;
