# bash completion for monoflake, printed by `monoflake completion bash`.
# Install: source <(monoflake completion bash), e.g. in ~/.bashrc.
#
# monoflake itself says what to offer (`monoflake __complete WORDS...`); this
# function only hands it the command line and shows the answer.
_monoflake() {
  # bash splits words at = and : (COMP_WORDBREAKS); monoflake wants them
  # whole (--format=json, FILE:LINE:COL), so the line is split at blanks.
  local line=${COMP_LINE:0:COMP_POINT} words
  read -ra words <<<"$line"
  [[ -z $line || $line == *[[:blank:]] ]] && words+=("")
  ((${#words[@]} > 1)) || return 0
  local word=${words[${#words[@]}-1]}
  # Readline replaces only what follows the last word break in the word;
  # prefix is the part before it, cut from each candidate.
  local cur=$word
  [[ $COMP_WORDBREAKS == *=* ]] && cur=${cur##*=}
  [[ $COMP_WORDBREAKS == *:* ]] && cur=${cur##*:}
  local prefix=${word%"$cur"}
  local out
  out=$(command monoflake __complete "${words[@]:1}" 2>/dev/null) || return 0
  local add candidates=() reply
  {
    IFS= read -r add
    while IFS=$'\t' read -r reply _; do
      candidates+=("$reply")
    done
  } <<<"$out"
  case $add in
    :files) mapfile -t -O "${#candidates[@]}" candidates < <(compgen -f -- "$word"); compopt -o filenames 2>/dev/null ;;
    :dirs) mapfile -t -O "${#candidates[@]}" candidates < <(compgen -d -- "$word"); compopt -o filenames 2>/dev/null ;;
  esac
  COMPREPLY=()
  for reply in "${candidates[@]}"; do
    [[ -n $reply ]] && COMPREPLY+=("${reply#"$prefix"}")
  done
}
complete -F _monoflake monoflake
