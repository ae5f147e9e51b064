#!/usr/bin/env bash
# Tests the VS Code extension: npm ci, lint (eslint + tsc), unit tests with
# `vscode` mocked against a fake server, the protocol test against the real
# bin/monoflake, and the packaged .vsix's contents. `make test-editors` runs
# it from the repository root after `make build`; any working directory works.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$here"

fail() { echo "editors/vscode/test.sh: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is missing; install it with tools/install-deps (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is missing; install it with tools/install-deps (Debian: apt-get install npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "node $(node --version) is too old; vsce and the test runner need Node.js 20 or newer"
command -v git >/dev/null || fail "git is missing; the protocol test commits a fixture copy for nix"
[ -x "$repo/bin/monoflake" ] || fail "$repo/bin/monoflake is missing; run 'make build' first"
export MONOFLAKE_BIN="$repo/bin/monoflake"

step() { echo "-- $*"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error
step "lint"
npm run --silent lint
step "compile"
rm -rf out
npm run --silent compile-tests
npm run --silent build
results=$(mktemp)
trap 'rm -f "$results"' EXIT
step "unit tests (vscode mocked, fake server)"
npm run --silent test:unit | tee -a "$results"
step "protocol tests (bin/monoflake serve)"
npm run --silent test:protocol | tee -a "$results"

step "bundle loads"
# vscode-languageclient subclasses vscode's classes at load time; a permissive
# stand-in (every member a class) is enough to prove the bundle resolves all
# its modules and exports the entry points. Behaviour is covered above.
node -e '
  const Module = require("node:module");
  const load = Module._load;
  const stub = new Proxy({}, { get: (t, name) => (t[name] ??= class {}) });
  Module._load = function (request, ...rest) {
    return request === "vscode" ? stub : load.call(this, request, ...rest);
  };
  const ext = require("./out/extension.js");
  if (typeof ext.activate !== "function" || typeof ext.deactivate !== "function") {
    console.error("out/extension.js does not export activate and deactivate");
    process.exit(1);
  }' 2>&1 | cut -c1-400

step "package (what make vsix runs)"
rm -f monoflake.vsix
npm run --silent package >/dev/null
# yauzl comes with vsce; it reads the archive without unzip being installed.
listing=$(node -e '
  require("yauzl").open(process.argv[1], { lazyEntries: true }, (err, zip) => {
    if (err) { console.error(err.message); process.exit(1); }
    zip.on("entry", (e) => { console.log(e.fileName); zip.readEntry(); });
    zip.readEntry();
  });' monoflake.vsix)
for want in extension.vsixmanifest extension/package.json extension/readme.md extension/LICENSE.txt extension/out/extension.js; do
  grep -qx "$want" <<<"$listing" || fail "monoflake.vsix lacks $want; it holds:"$'\n'"$listing"
done
unwanted=$(grep -E '^extension/(node_modules|src|test|out/test)/|\.map$|\.ts$' <<<"$listing" || true)
[ -z "$unwanted" ] || fail "monoflake.vsix holds files that must stay out:"$'\n'"$unwanted"
echo "monoflake.vsix: $(wc -l <<<"$listing") files, $(wc -c <monoflake.vsix) bytes"
passed=$(awk '/^# pass /{n+=$3} END{print n+0}' "$results")
failed=$(awk '/^# fail /{n+=$3} END{print n+0}' "$results")
echo "vscode: $passed passed, $failed failed"
