// Finding a component's directory on disk. The server knows components by
// name; commands that open files or start processes need the directory, which
// follows from the layouts monoflake supports: `<component>/nix/outputs.nix`
// modules imported by the top-level flake, or `<component>/flake.nix` sub-flakes.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The file that defines a component's outputs, or undefined when `dir` is no component. */
export function outputsFile(dir: string): string | undefined {
  for (const candidate of [path.join(dir, 'nix', 'outputs.nix'), path.join(dir, 'flake.nix')]) {
    if (fs.existsSync(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * The directory of the component owning `file` (a file or a directory): the
 * nearest directory at or above it, below `root`, that defines outputs. The repository root itself is
 * never a component (its flake.nix is the one that imports them).
 */
export function componentDirectory(file: string, root: string): string | undefined {
  const top = path.resolve(root);
  let dir = path.resolve(file);
  if (!isDirectory(dir)) {
    dir = path.dirname(dir);
  }
  // A file inside `<component>/nix/` belongs to `<component>`, not to `nix/`.
  while (dir.startsWith(top + path.sep)) {
    if (path.basename(dir) !== 'nix' && outputsFile(dir) !== undefined) {
      return dir;
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

/** A path from what the server calls a root: a plain path or a file URI. */
export function rootPath(root: string): string {
  if (root.startsWith('file://')) {
    return decodeURIComponent(new URL(root).pathname);
  }
  return root;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
