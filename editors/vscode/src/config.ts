// Settings, and what the server is told about them at start.

import * as os from 'node:os';
import * as vscode from 'vscode';
import type { InitializationOptions } from './protocol';

/** The settings that decide how the server is started. */
export interface Settings {
  serverPath: string;
  evaluationEnabled: boolean;
  system: string | null;
  /** Whether the server reports syntax errors; off beside nil or nixd, which report them too. */
  syntaxDiagnostics: boolean;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('monoflake');
  return {
    serverPath: expandHome(config.get<string>('serverPath') || 'monoflake'),
    evaluationEnabled: config.get<boolean>('evaluation.enabled', true),
    system: config.get<string | null>('system', null) || null,
    syntaxDiagnostics: config.get<boolean>('diagnostics.syntax', true),
  };
}

/**
 * The server's initializationOptions. An untrusted workspace never turns
 * evaluation on, whatever the settings say: evaluating a flake runs its code.
 */
export function initializationOptions(settings: Settings, trusted: boolean): InitializationOptions {
  return {
    trusted,
    evaluation: { enabled: trusted && settings.evaluationEnabled },
    system: settings.system,
    diagnostics: { syntax: settings.syntaxDiagnostics },
  };
}

/** Whether a configuration change needs the server restarted. */
export function affectsServer(event: vscode.ConfigurationChangeEvent): boolean {
  return ['monoflake.serverPath', 'monoflake.evaluation.enabled', 'monoflake.system', 'monoflake.diagnostics.syntax'].some((s) =>
    event.affectsConfiguration(s),
  );
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? os.homedir() + p.slice(1) : p;
}
