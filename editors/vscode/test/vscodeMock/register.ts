// Makes `require('vscode')` load the hand-written mock. Loaded with
// `node --require` before any test file.

import Module = require('node:module');
import * as path from 'node:path';

const mockPath = path.join(__dirname, 'vscode.js');
type Resolve = (request: string, ...rest: unknown[]) => string;
const internal = Module as unknown as { _resolveFilename: Resolve };
const original = internal._resolveFilename;
internal._resolveFilename = function (request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? mockPath : original.call(this, request, ...rest);
};
