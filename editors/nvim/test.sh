#!/usr/bin/env bash
# Tests the Neovim plugin in real headless Neovim (0.7 and later): static
# features through bin/monoflake, a quick fix beside a stand-in for nil or
# nixd, then environment switching through the real
# server with nix evaluation (or, with MONOFLAKE_NVIM_ENV_SERVER=fake, the
# contract-only fake server). `make test-editors` runs it after `make build`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() { echo "editors/nvim/test.sh: $*" >&2; exit 1; }
missing() {
  if [ "${CI:-}" = true ]; then
    fail "$1 is missing; install it with tools/install-deps"
  fi
  echo "editors/nvim/test.sh: $1 is missing; skipping the Neovim tests (they fail in CI)" >&2
  exit 0
}
command -v nvim >/dev/null || missing nvim
command -v git >/dev/null || missing git
[ -x "$repo/bin/monoflake" ] || fail "$repo/bin/monoflake is missing; run 'make build' first"
export MONOFLAKE_BIN="$repo/bin/monoflake"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)

# Private copies of the fixtures, each its own git repository: nix copies a
# flake's git-tracked files, and root detection stops at the work tree.
fixture() {
  cp -r "$repo/testdata/$1" "$tmp/$1"
  git -C "$tmp/$1" init -q
  git -C "$tmp/$1" add -A
  git -C "$tmp/$1" -c user.name=test -c user.email=test@example.com commit -q -m fixture
}
fixture monorepo
fixture subflakes
export MONOFLAKE_MONOREPO="$tmp/monorepo" MONOFLAKE_SUBFLAKES="$tmp/subflakes"

# Keep the server's trust store and cache, and nix, away from the user's.
for d in XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME; do
  mkdir -p "$tmp/xdg/$d"
  export "$d=$tmp/xdg/$d"
done
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters ='

failed=()
results="$tmp/results"
suite() {
  echo "-- nvim: $1"
  # Every wait inside is bounded; the timeout only guards against a hang in Neovim itself.
  timeout 600 nvim --headless -u NONE -i NONE --cmd "set rtp^=$here" -c "luafile $here/test/$1.lua" </dev/null \
    | tee -a "$results" || failed+=("$1")
  echo
}

suite compat
suite static
# Beside a stand-in for nil or nixd on the same buffers.
if command -v node >/dev/null; then
  export MONOFLAKE_OTHER_SERVER="$repo/editors/testing/otherserver.js"
  suite coexist
else
  [ "${CI:-}" = true ] && fail "node is missing; install it with tools/install-deps"
  echo "editors/nvim/test.sh: node is missing; skipping the test beside another language server" >&2
fi

server=${MONOFLAKE_NVIM_ENV_SERVER:-real}
if [ "$server" = real ] && ! command -v nix >/dev/null; then
  [ "${CI:-}" = true ] && fail "nix is missing; install it with tools/install-deps"
  echo "editors/nvim/test.sh: nix is missing; environment switching runs against the fake server" >&2
  server=fake
fi
case $server in
  real) export MONOFLAKE_SERVER_CMD="$MONOFLAKE_BIN serve" ;;
  fake)
    command -v node >/dev/null || missing node
    export MONOFLAKE_SERVER_CMD="node $repo/editors/testing/fakeserver.js" ;;
  *) fail "MONOFLAKE_NVIM_ENV_SERVER must be real or fake, not $server" ;;
esac
echo "-- environment switching against the $server server"
suite environment
passed=$(awk '/^[0-9]+ passed, [0-9]+ failed$/{n+=$1} END{print n+0}' "$results")
failures=$(awk '/^[0-9]+ passed, [0-9]+ failed$/{n+=$3} END{print n+0}' "$results")
echo "nvim: $passed passed, $failures failed"
[ ${#failed[@]} -eq 0 ] || fail "failed suites: ${failed[*]}"
