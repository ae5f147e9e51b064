# use_monoflake loads the devShell of a monoflake component into direnv.
# Printed by `monoflake direnvrc`; see docs/DIRENV.md in monoflake.
#
#   use monoflake                the component that contains this directory
#   use monoflake backend        the component named backend
#   use monoflake --mode flake   the devShell through the plain flake
#
# It runs one monoflake process, which answers from the evaluation cache
# shared with the language server and evaluates only on a miss, and evals the
# bash it prints. Locals are prefixed because that bash runs in this scope.
use_monoflake() {
  local __monoflake_bin=@MONOFLAKE_BIN@ __monoflake_out __monoflake_rc=0
  # The path of the binary that printed this function, then PATH: a
  # rebuilt or garbage-collected binary must not break every .envrc.
  if [[ ! -x $__monoflake_bin ]]; then
    __monoflake_bin=$(type -P monoflake) || {
      log_error "monoflake is not on PATH; install it to load this devShell"
      return 1
    }
  fi
  __monoflake_out=$("$__monoflake_bin" direnv-export "$@") || __monoflake_rc=$?
  eval "$__monoflake_out"
  # 3 means a stale environment was applied and warned about; any other
  # failure already said why on stderr.
  [[ $__monoflake_rc -eq 0 || $__monoflake_rc -eq 3 ]]
}
