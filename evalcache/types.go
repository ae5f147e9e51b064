package evalcache

import (
	"fmt"
	"io"
	"time"
)

// Mode is how a devShell is evaluated.
type Mode string

const (
	// Scoped evaluates the flake's outputs function in place, without
	// copying the repository into the store, optionally through a pruned
	// module list. It is the default.
	Scoped Mode = "scoped"
	// Flake is exactly what nix does: nix print-dev-env <root>#devShells...
	Flake Mode = "flake"
)

// State is how current a cached environment is.
type State string

const (
	// Fresh: the environment matches the files it was evaluated from.
	Fresh State = "fresh"
	// Stale: the last evaluation failed; the environment is the last good one.
	Stale State = "stale"
	// Evaluating: an evaluation is running (reported by callers that
	// evaluate in the background, such as the language server).
	Evaluating State = "evaluating"
	// Failed: evaluation failed and there is no earlier environment.
	Failed State = "failed"
	// Untrusted: the repository is not trusted, so nothing was evaluated.
	Untrusted State = "untrusted"
)

// Options configure a Cache. The zero value is usable.
type Options struct {
	// Dir is the cache folder; "" means $MONOFLAKE_CACHE_DIR, else
	// $XDG_CACHE_HOME/monoflake, else ~/.cache/monoflake.
	Dir string
	// DataDir holds what must survive clearing the cache (trusted
	// repositories); "" means $XDG_DATA_HOME/monoflake, else
	// ~/.local/share/monoflake.
	DataDir string
	// Nix is the nix binary; "" means "nix" on PATH.
	Nix string
	// Timeout bounds one nix process; 0 means $MONOFLAKE_EVAL_TIMEOUT (a Go
	// duration such as 90s or 20m), else 10 minutes.
	Timeout time.Duration
	// Log receives one line per evaluation, fallback and trim; nil discards.
	Log io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// AllowImportFromDerivation lets evaluation build derivations to import
	// their output. It is off by default: it runs builds (the repository's
	// code) while merely opening a file, and makes evaluation slow.
	AllowImportFromDerivation bool
	// MaxParallel bounds concurrent evaluations; 0 means 4.
	MaxParallel int
	// MaxAge and MaxSize bound the cache when trimming; 0 means 30 days
	// and 512 MiB.
	MaxAge  time.Duration
	MaxSize int64
	// CheckCommand starts the pruning check as a process of its own, which
	// outlives the caller: the command and its first arguments, to which
	// the path of a job file is appended; the command calls RunCheck on it
	// (monoflake re-executing itself). nil runs checks in the background of
	// this process, and Close waits for them.
	CheckCommand []string
}

// Pruned is a flake.nix rewritten so that it imports only the modules a
// devShell needs. The analysis model computes it.
type Pruned struct {
	// FlakeSource is the rewritten flake.nix: absolute paths, a module list
	// holding only the needed modules.
	FlakeSource []byte
	// Modules are the absolute paths of the modules kept.
	Modules []string
}

// Request names the devShell of one component.
type Request struct {
	Root         string // absolute repository root (directory of the top-level flake.nix)
	Component    string // component name, e.g. "backend"
	ComponentDir string // absolute directory of the component
	Shell        string // devShell attribute name, e.g. "backend", "python" or "default"
	System       string // "" means the current system
	Mode         Mode   // "" means Scoped
	Pruned       *Pruned
	Files        []string // static import closure from the model (absolute), dependencies of the entry
	// TeamCache is the binary cache a local miss is answered from when it
	// has the environment: "cache" in .monoflake.json. "" evaluates every
	// miss here.
	TeamCache string
	// ShellSetting names the configuration that chose Shell, such as
	// `"shells"."analytics" in /repo/.monoflake.json`; "" when the model
	// chose it. Errors about a missing shell name it.
	ShellSetting string
	// Trusted says the caller vouches for the repository (for example the
	// editor's workspace trust), in addition to `monoflake trust` and
	// direnv's allow list.
	Trusted bool
	// replan, when set, says the plan came from a plan record and names
	// the query to plan again from the whole repository after the answer.
	replan *planQuery
}

// planQuery is what a plan is made for.
type planQuery struct {
	Path      string `json:"path"` // absolute
	Component string `json:"component,omitempty"`
}

// Result is a devShell environment and how current it is.
type Result struct {
	Env     *Environment // nil when State is Failed or Untrusted
	State   State
	Err     *EvalError // nil unless State is Stale or Failed
	Hit     bool       // served from the cache without running nix
	Files   []string   // every file the entry depends on, for direnv's watch_file
	DrvPath string     // the devShell derivation
	// Pruned says the environment came from a pruned module list.
	Pruned bool
	// PruningOff, when not "", says why the environment was evaluated from
	// every module although the model could prune: a check found that the
	// pruned module list gave a different answer in this repository.
	PruningOff string
	// Remote, when not "", is the team cache the environment was fetched
	// from instead of evaluated here.
	Remote string
	// RemoteMiss, when not "", says in one sentence why the team cache
	// could not answer, so that the environment was evaluated here.
	RemoteMiss string
}

// Query asks for the environment of the component holding Path, or of the
// component named Component (looked for as DIR/NAME in Path's directory
// and its parents).
type Query struct {
	Path      string
	Component string
	Mode      Mode // "" means Scoped
	// Vouched is trust the caller grants on top of the cache's own (direnv
	// running an allowed .envrc).
	Vouched bool
	// Refresh evaluates again even when the cache holds a fresh entry.
	Refresh bool
	// RefreshBefore evaluates again when the entry was evaluated before
	// this time: `direnv reload` touches the .envrc, and asks for a new
	// evaluation that way.
	RefreshBefore time.Time
}

// EvalError is a failed evaluation: nix's message and, when nix named one,
// the position in the repository it points at.
type EvalError struct {
	File    string `json:"file,omitempty"`   // absolute path in the repository, "" when unknown
	Line    int    `json:"line,omitempty"`   // 1-based; 0 when unknown
	Column  int    `json:"column,omitempty"` // 1-based, in bytes; 0 when unknown
	Message string `json:"message"`
}

func (e *EvalError) Error() string {
	switch {
	case e.File == "":
		return e.Message
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}
