# fish completion for monoflake, printed by `monoflake completion fish`.
# Install: monoflake completion fish > ~/.config/fish/completions/monoflake.fish
#
# monoflake itself says what to offer (`monoflake __complete WORDS...`); this
# function only hands it the command line and shows the answer.
function __monoflake_complete
    set -l current (commandline -ct)
    set -l words (commandline -opc)
    set -e words[1]
    set -l out (command monoflake __complete $words "$current" 2>/dev/null)
    or return
    set -l add $out[1]
    set -e out[1]
    # fish reads "candidate<TAB>description" itself.
    printf '%s\n' $out
    switch "$add"
        case :files
            __fish_complete_path "$current"
        case :dirs
            __fish_complete_directories "$current" ""
    end
end

complete -c monoflake -f -a '(__monoflake_complete)'
