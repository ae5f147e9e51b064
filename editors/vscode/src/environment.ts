// How a devShell environment from the server becomes the environment of a
// process (terminal, task, another language server). No `vscode` here: the
// same rules apply to every consumer and are unit-tested directly.

import type { EnvironmentResult } from './protocol';

/** One change to a variable: replace its value, or put a value in front of it. */
export interface Mutation {
  name: string;
  kind: 'replace' | 'prepend';
  value: string;
}

/** Whether an environment result carries variables worth applying. */
export function hasVariables(result: EnvironmentResult): boolean {
  return result.component !== null && Object.keys(result.variables ?? {}).length > 0;
}

/**
 * The mutations that put a process into a devShell. PATH is prepended, as
 * `nix develop` does, so the user's own tools stay reachable behind the
 * shell's; every other variable replaces the inherited value. The server has
 * already left out the build sandbox's variables (HOME, TMPDIR, ...), by the
 * one list direnv and `monoflake shell` go by.
 */
export function mutations(result: EnvironmentResult): Mutation[] {
  const out: Mutation[] = [];
  for (const name of Object.keys(result.variables).sort()) {
    const value = result.variables[name];
    if (name === 'PATH') {
      out.push({ name, kind: 'prepend', value: value + ':' });
    } else {
      out.push({ name, kind: 'replace', value });
    }
  }
  return out;
}

/**
 * The complete environment of a process started in the devShell, built on
 * `base` (normally `process.env`).
 */
export function processEnvironment(result: EnvironmentResult, base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  for (const m of mutations(result)) {
    if (m.kind === 'replace') {
      env[m.name] = m.value;
    } else {
      env[m.name] = env[m.name] ? m.value + env[m.name] : m.value.slice(0, -1);
    }
  }
  return env;
}

/** Only the variables the devShell changes, PATH already combined with `base`'s. */
export function environmentOverrides(result: EnvironmentResult, base: NodeJS.ProcessEnv): Record<string, string> {
  const full = processEnvironment(result, base);
  const out: Record<string, string> = {};
  for (const m of mutations(result)) {
    out[m.name] = full[m.name];
  }
  return out;
}

/** Quotes a value for POSIX shells: single quotes, with embedded ones closed and escaped. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The environment as a shell script a user can read or source. */
export function exportScript(result: EnvironmentResult): string {
  const lines = [`# monoflake: ${result.component ?? 'no component'} (${result.state})`];
  if (result.shell) {
    lines.push(`# devShell: ${result.shell}`);
  }
  if (result.error) {
    lines.push(`# error: ${result.error.replace(/\n/g, '\n#   ')}`);
  }
  for (const name of Object.keys(result.variables).sort()) {
    lines.push(`export ${name}=${shellQuote(result.variables[name])}`);
  }
  return lines.join('\n') + '\n';
}
