// How a devShell environment from the server becomes the environment of a
// process (terminal, task, another language server). No `vscode` here: the
// same rules apply to every consumer and are unit-tested directly.

import type { EnvironmentResult } from './protocol';

/**
 * Variables a devShell sets for the build sandbox that must not leak into an
 * interactive process: the list `nix develop` ignores, plus what belongs to
 * the terminal or the user rather than to the shell.
 */
const ignoredVariables = new Set([
  'BASHOPTS', 'HOME', 'NIX_BUILD_TOP', 'NIX_ENFORCE_PURITY', 'NIX_LOG_FD', 'NIX_REMOTE',
  'PPID', 'SHELLOPTS', 'SSL_CERT_FILE', 'TEMP', 'TEMPDIR', 'TERM', 'TMP', 'TMPDIR', 'TZ', 'UID',
  'PWD', 'OLDPWD', 'SHLVL', 'SHELL', 'USER', 'LOGNAME', 'DISPLAY', 'WAYLAND_DISPLAY',
]);

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
 * shell's; every other variable replaces the inherited value.
 */
export function mutations(result: EnvironmentResult): Mutation[] {
  const out: Mutation[] = [];
  for (const name of Object.keys(result.variables).sort()) {
    if (ignoredVariables.has(name)) {
      continue;
    }
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
