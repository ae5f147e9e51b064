// Package direnv connects monoflake to direnv: the use_monoflake function
// direnv users install (Direnvrc), the bash that function evaluates to apply a
// component's devShell (Render), and the `.envrc` files `monoflake init`
// writes (WriteEnvrcs). Everything here is pure text in and text out; the
// environment itself comes from evalcache.
package direnv

import (
	"bytes"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/evalcache"
)

// Export is what use_monoflake applies for one `.envrc`.
type Export struct {
	// Env is the devShell environment; nil when nothing was ever cached and
	// evaluation failed, in which case only Watch and the markers are rendered.
	Env *evalcache.Environment
	// Component and Shell name the component and its devShell; they are
	// exported as MONOFLAKE_COMPONENT and MONOFLAKE_SHELL for prompts.
	Component string
	Shell     string
	// Stale marks Env as the last good environment of a failed evaluation:
	// MONOFLAKE_STALE=1 is exported.
	Stale bool
	// PruningOff says why every module was evaluated (see
	// evalcache.Result); it is exported as MONOFLAKE_PRUNING_OFF.
	PruningOff string
	// Watch lists the files the environment depends on; direnv reloads when
	// one of them changes. They are passed to watch_file, unless
	// DirenvWatches is set.
	Watch []string
	// DirenvWatches, when set, is direnv's DIRENV_WATCHES with Watch already
	// added (see AddWatches); it is exported instead of running watch_file.
	DirenvWatches string
	// OuterPath and OuterXDGDataDirs are PATH and XDG_DATA_DIRS of the shell
	// use_monoflake runs in (direnv restores the user's values before every
	// load). They are kept after the devShell's entries.
	OuterPath        string
	OuterXDGDataDirs string
}

// Render returns the bash that applies e inside direnv's stdlib. It records
// the watched files first, so that direnv reloads after a broken file is
// fixed even when the rest fails; then it sets the variables, defines the
// devShell's functions (for shellHook: direnv exports variables only, so
// functions never reach the interactive shell), sets monoflake's markers,
// and runs shellHook last, as `nix print-dev-env` does.
func Render(e Export) []byte {
	var b bytes.Buffer
	if e.DirenvWatches != "" {
		b.WriteString("export DIRENV_WATCHES=" + Quote(e.DirenvWatches) + "\n")
	} else {
		renderWatches(&b, e.Watch)
	}
	if e.Env != nil {
		renderVariables(&b, e)
		renderFunctions(&b, e.Env.BashFunctions)
	}
	renderMarkers(&b, e)
	if e.Env != nil {
		if _, ok := e.Env.Variables["shellHook"]; ok {
			b.WriteString("eval \"$shellHook\"\n")
		}
	}
	return b.Bytes()
}

func renderWatches(b *bytes.Buffer, files []string) {
	if len(files) == 0 {
		return
	}
	// One call: watch_file runs the direnv binary once per call.
	b.WriteString("watch_file")
	for _, f := range files {
		b.WriteByte(' ')
		b.WriteString(Quote(f))
	}
	b.WriteByte('\n')
}

func renderVariables(b *bytes.Buffer, e Export) {
	names := make([]string, 0, len(e.Env.Variables))
	for name := range e.Env.Variables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := e.Env.Variables[name]
		if !isVariableName(name) {
			continue
		}
		if skip, _ := Skipped(name, v.Value); skip {
			continue
		}
		switch name {
		case "PATH":
			v.Value = mergeSearchPath(v.Value, e.OuterPath)
		case "XDG_DATA_DIRS":
			v.Value = mergeSearchPath(v.Value, e.OuterXDGDataDirs)
		}
		renderVariable(b, name, v)
	}
}

// renderVariable writes one assignment. Plain and array variables are
// declared global (-g) because the output is evaluated inside the
// use_monoflake function, where a bare declare would make them local.
func renderVariable(b *bytes.Buffer, name string, v evalcache.Variable) {
	switch v.Type {
	case evalcache.Exported:
		b.WriteString("export " + name + "=" + Quote(v.Value) + "\n")
	case evalcache.Var:
		b.WriteString(name + "=" + Quote(v.Value) + "\n")
	case evalcache.Array:
		b.WriteString("declare -ga " + name + "=(")
		for i, s := range v.Array {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(Quote(s))
		}
		b.WriteString(")\n")
	case evalcache.Associative:
		keys := make([]string, 0, len(v.Assoc))
		for k := range v.Assoc {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("declare -gA " + name + "=(")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			// An empty key is an error in bash; nix cannot record one.
			b.WriteString("[" + Quote(k) + "]=" + Quote(v.Assoc[k]))
		}
		b.WriteString(")\n")
	default:
		// A kind newer nix invented: skipped rather than guessed at.
	}
}

// renderFunctions defines the devShell's bash functions so shellHook can call
// them, without replacing a function that already exists: those belong to
// direnv's stdlib, which must keep working for the rest of the .envrc.
func renderFunctions(b *bytes.Buffer, funcs map[string]string) {
	names := make([]string, 0, len(funcs))
	for name := range funcs {
		if isFunctionName(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		body := funcs[name]
		if !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		// nix records the body between the braces of `declare -f` output.
		b.WriteString("if ! declare -F " + name + " >/dev/null; then\n" + name + " ()\n{\n" + body + "}\nfi\n")
	}
}

func renderMarkers(b *bytes.Buffer, e Export) {
	b.WriteString("export MONOFLAKE_COMPONENT=" + Quote(e.Component) + "\n")
	b.WriteString("export MONOFLAKE_SHELL=" + Quote(e.Shell) + "\n")
	if e.Stale {
		b.WriteString("export MONOFLAKE_STALE=1\n")
	} else {
		b.WriteString("unset MONOFLAKE_STALE\n")
	}
	if e.PruningOff != "" {
		b.WriteString("export MONOFLAKE_PRUNING_OFF=" + Quote(e.PruningOff) + "\n")
	}
}

// mergeSearchPath puts the devShell's entries of a colon-separated search
// path before the user's, like nix-direnv: each directory once, at its first
// position, without trailing slashes, empty entries or nix's /path-not-set
// placeholder.
func mergeSearchPath(shell, outer string) string {
	seen := map[string]bool{}
	var out []string
	for _, dir := range strings.Split(shell+":"+outer, ":") {
		if dir != "/" {
			dir = strings.TrimRight(dir, "/")
		}
		if dir == "" || dir == "/path-not-set" || seen[dir] {
			continue
		}
		seen[dir] = true
		out = append(out, dir)
	}
	return strings.Join(out, ":")
}
