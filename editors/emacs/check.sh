#!/usr/bin/env bash
# By-hand check of the Emacs setup in editors/README.md: eglot against
# bin/monoflake serve, and per-buffer devShell environments. Needs emacs with
# eglot (Debian 12: apt-get install emacs-nox elpa-eglot) and nix. Not part of
# `make test`, since neither is a project dependency.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
fail() { echo "editors/emacs/check.sh: $*" >&2; exit 1; }
command -v emacs >/dev/null || fail "emacs is missing (Debian: apt-get install emacs-nox elpa-eglot)"
command -v nix >/dev/null || fail "nix is missing; run tools/install-deps"
[ -x "$repo/bin/monoflake" ] || fail "$repo/bin/monoflake is missing; run 'make build' first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
cp -r "$repo/testdata/monorepo" "$tmp/monorepo"
git -C "$tmp/monorepo" init -q
git -C "$tmp/monorepo" add -A
git -C "$tmp/monorepo" -c user.name=test -c user.email=test@example.com commit -q -m fixture
for d in XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME; do
  mkdir -p "$tmp/xdg/$d"
  export "$d=$tmp/xdg/$d"
done
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters ='
export MONOFLAKE_MONOREPO="$tmp/monorepo" MONOFLAKE_BIN="$repo/bin/monoflake"
"$MONOFLAKE_BIN" trust "$tmp/monorepo" >/dev/null

emacs --batch --eval '(package-initialize)' -l "$here/check.el"
