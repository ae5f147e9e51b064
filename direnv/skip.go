package direnv

import (
	"strings"

	"github.com/monoflake/monoflake/evalcache"
)

// Skipped reports whether a devShell variable is left out of every
// environment monoflake applies, and why. `nix print-dev-env --json` records
// every variable of the bash that ran the devShell's builder, so besides the
// devShell's own variables it holds bash's internals and the sandbox's
// housekeeping; applying those would break the user's shell (IFS, HOME, PWD)
// or point at directories that no longer exist (TMPDIR, NIX_BUILD_TOP). The
// list follows nix develop and nix-direnv; docs/DIRENV.md repeats it for
// users. It is the only list: direnv's rendering, `monoflake shell` and the
// language server's answer to the editors (see Applied) all go by it.
func Skipped(name string, v string) (bool, string) {
	if reason := skipReason(name); reason != "" {
		return true, reason
	}
	// Nix points SSL_CERT_FILE at a file that does not exist inside the
	// sandbox; a devShell that sets a real one keeps it.
	if name == "SSL_CERT_FILE" && v == "/no-cert-file.crt" {
		return true, "sandbox placeholder"
	}
	return false, ""
}

const (
	reasonBash    = "bash internal"
	reasonBuilder = "belongs to the nix builder, not the devShell"
	reasonUser    = "belongs to the user's shell"
	reasonOwn     = "set by monoflake or direnv itself"
)

// skipReason says why a variable is never applied, or "" when it is.
func skipReason(name string) string {
	switch name {
	// Bash's own variables: read-only, per-process or meaningless elsewhere.
	case "BASH", "BASHOPTS", "BASHPID", "COLUMNS", "COMP_WORDBREAKS", "DIRSTACK",
		"EPOCHREALTIME", "EPOCHSECONDS", "EUID", "FUNCNAME", "GROUPS", "HISTCMD",
		"HOSTNAME", "HOSTTYPE", "IFS", "LINENO", "LINES", "MACHTYPE", "OPTERR",
		"OPTIND", "OSTYPE", "PIPESTATUS", "PPID", "PS1", "PS2", "PS3", "PS4",
		"RANDOM", "SECONDS", "SHELLOPTS", "SRANDOM", "UID", "_":
		return reasonBash
	// The user's session, which the builder ran without; a devShell that
	// names a display or a user means the build's, not the desktop's.
	case "DISPLAY", "HOME", "LOGNAME", "OLDPWD", "PWD", "SHELL", "SHLVL", "TERM", "TZ",
		"USER", "WAYLAND_DISPLAY":
		return reasonUser
	// The builder's sandbox: temporary directories that are gone by now and
	// file descriptors of a process that has exited.
	case "NIX_BUILD_TOP", "NIX_ENFORCE_PURITY", "NIX_LOG_FD", "NIX_REMOTE",
		"TEMP", "TEMPDIR", "TMP", "TMPDIR":
		return reasonBuilder
	}
	for _, p := range skippedPrefixes() {
		if strings.HasPrefix(name, p.prefix) {
			return p.reason
		}
	}
	return ""
}

// skippedPrefixes are skipped by name prefix: bash's BASH_VERSINFO and
// friends, direnv's bookkeeping (overwriting it would confuse direnv about
// what to unload) and monoflake's own markers, which Render sets itself.
func skippedPrefixes() []struct{ prefix, reason string } {
	return []struct{ prefix, reason string }{
		{"BASH_", reasonBash},
		{"DIRENV_", reasonOwn},
		{"MONOFLAKE_", reasonOwn},
	}
}

// Applied returns the exported string variables of env that a process put
// into the devShell receives: what an editor applies to its terminals, tasks
// and own environment. PATH is the devShell's part alone; the editor puts it
// in front of its own. It is nil for a nil environment.
func Applied(env *evalcache.Environment) map[string]string {
	if env == nil {
		return nil
	}
	out := make(map[string]string, len(env.Variables))
	for name, v := range env.Variables {
		if v.Type != evalcache.Exported || !isVariableName(name) {
			continue
		}
		if skip, _ := Skipped(name, v.Value); !skip {
			out[name] = v.Value
		}
	}
	return out
}
