import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root: the nearest directory above this file that holds go.mod. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'go.mod'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error('cannot find the repository root (go.mod) above ' + __dirname);
    }
    dir = parent;
  }
  return dir;
}

/** The contract-only fake server shared with the Neovim tests. */
export function fakeServerPath(): string {
  return path.join(repoRoot(), 'editors', 'testing', 'fakeserver.js');
}

/** Copies a directory tree, as fixtures are copied before a server may write next to them. */
export function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}
