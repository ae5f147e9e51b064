package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/evalcache"
)

// shellChoice is which devShell env, shell and use monoflake evaluate.
type shellChoice struct {
	component string // a component named by the user; "" for the one holding the path
	shell     string // devShells.<system>.NAME named by the user, whatever the component
	mode      evalcache.Mode
	// refresh evaluates again whatever the cache holds; refreshBefore
	// evaluates again an entry older than it (see evalcache.Query).
	refresh       bool
	refreshBefore time.Time
}

// get answers a request planned here, evaluating again when asked to.
func (choice shellChoice) get(ctx context.Context, cache *evalcache.Cache, req evalcache.Request) (*evalcache.Result, error) {
	if choice.refresh {
		return cache.Reload(ctx, req)
	}
	return cache.Get(ctx, req)
}

// devShellEnvironment is the environment env, shell and use monoflake
// apply for path. The model picks the devShell unless the user named one;
// when the model maps path to no component, flake mode does what nix does
// there (the flake's default devShell) and scoped mode says which devShells
// the flake defines. vouched is trust the caller grants (an allowed .envrc).
func devShellEnvironment(ctx context.Context, cache *evalcache.Cache, path string, choice shellChoice, vouched bool) (*evalcache.Result, evalcache.Request, error) {
	if choice.shell != "" {
		req, err := namedShellRequest(path, choice.shell, choice.mode)
		if err != nil {
			return nil, req, err
		}
		req.Trusted = vouched
		res, err := choice.get(ctx, cache, req)
		if err == nil && res.State == evalcache.Failed && res.Err != nil && isMissingAttribute(res.Err.Message, choice.shell) {
			system := req.System
			if system == "" {
				system = evalcache.CurrentSystem()
			}
			res = withMessage(res, fmt.Sprintf("the flake at %s defines no devShells.%s.%s%s", req.Root, system, choice.shell, shellsOf(ctx, req.Root)))
		}
		return res, req, err
	}
	res, req, err := cache.EnvironmentFor(ctx, evalcache.Query{Path: path, Component: choice.component, Mode: choice.mode,
		Vouched: vouched, Refresh: choice.refresh, RefreshBefore: choice.refreshBefore})
	if !errors.Is(err, evalcache.ErrNoDevShell) || choice.component != "" {
		return res, req, err
	}
	// The model found no devShell for path: the user needs a way out.
	s, loadErr := analysis.Load(ctx, path)
	if loadErr != nil {
		return nil, req, err
	}
	abs, _ := filepath.Abs(path)
	if c := s.ComponentOf(abs); c != nil {
		return nil, req, fmt.Errorf("component %s defines no devShell the model can see; name one with --shell NAME, or for good in %s (\"shells\": {%q: \"NAME\"})%s",
			c.Name, analysis.ConfigFile, c.Name, definedShells(s))
	}
	if choice.mode != evalcache.Flake {
		return nil, req, fmt.Errorf("%s belongs to no component the model found, and the flake defines no devShells.default; name a devShell with --shell NAME, or evaluate as nix does with --mode flake%s",
			display(abs), definedShells(s))
	}
	// What `nix print-dev-env` does in a directory of no component: the
	// flake's default devShell, which nix may find where the model cannot.
	req = evalcache.Request{Root: s.Root, Component: filepath.Base(s.Root), ComponentDir: s.Root, Shell: "default",
		System: s.Config.System, Mode: evalcache.Flake, Trusted: vouched, TeamCache: s.Config.Cache}
	res, err = choice.get(ctx, cache, req)
	if err == nil && res.State == evalcache.Failed && res.Err != nil {
		res = withMessage(res, res.Err.Message+definedShells(s))
	}
	return res, req, err
}

// withMessage is a failed result with another message, for a user who
// needs to hear what to do instead.
func withMessage(res *evalcache.Result, msg string) *evalcache.Result {
	out := *res
	out.Err = &evalcache.EvalError{Message: msg}
	return &out
}

// isMissingAttribute reports whether the message says the devShell name
// does not exist: what evalcache says, or nix's own words.
func isMissingAttribute(msg, name string) bool {
	return strings.HasPrefix(msg, fmt.Sprintf("there is no devShell %q", name)) ||
		strings.Contains(msg, "attribute '"+name+"' missing") || strings.Contains(msg, "does not provide attribute")
}

// shellsOf is definedShells for the repository around dir, or "" when it
// cannot be read.
func shellsOf(ctx context.Context, dir string) string {
	s, err := analysis.Load(ctx, dir)
	if err != nil {
		return ""
	}
	return definedShells(s)
}

// namedShellRequest is the request for devShells.<system>.NAME of the flake
// path belongs to: the nearest flake.nix above it, the one `nix develop
// .#NAME` would use there. It reads no more than the configuration, so a
// cache hit costs no indexing. The entry is kept apart from every
// component's (its directory is a name no component has), so naming a
// devShell never changes what `monoflake env` answers without one.
func namedShellRequest(path, name string, mode evalcache.Mode) (evalcache.Request, error) {
	flake, err := nearestFlake(path)
	if err != nil {
		return evalcache.Request{}, err
	}
	cfg, _ := analysis.LoadConfig(flake) // a broken configuration is reported by the commands that index
	return evalcache.Request{Root: flake, Component: name, ComponentDir: filepath.Join(flake, "#devShells."+name),
		Shell: name, System: cfg.System, Mode: mode, TeamCache: cfg.Cache}, nil
}

// nearestFlake is the directory of the nearest flake.nix at or above path,
// within its git work tree.
func nearestFlake(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("cannot open %s: %w", path, err)
	}
	if !info.IsDir() {
		abs = filepath.Dir(abs)
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "flake.nix")); err == nil {
			return dir, nil
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil || filepath.Dir(dir) == dir {
			return "", fmt.Errorf("%s is not inside a flake (no flake.nix above it)", display(abs))
		}
	}
}

// definedShells is the end of a message that lists the devShells the root
// flake defines, as far as the model could read them.
func definedShells(s *analysis.Snapshot) string {
	names := flakeShells(s)
	if len(names) == 0 {
		return " (monoflake sees no devShells in the flake)"
	}
	return " (the flake's devShells that monoflake sees: " + strings.Join(names, ", ") + ")"
}

// flakeShells are the names of the devShells the root flake defines (not
// its sub-flakes), sorted.
func flakeShells(s *analysis.Snapshot) []string {
	seen := map[string]bool{}
	var names []string
	for _, o := range s.Outputs() {
		if o.Category != analysis.DevShells || seen[o.Name] {
			continue
		}
		if c := s.Component(o.Component); c != nil && c.SubFlake {
			continue
		}
		seen[o.Name] = true
		names = append(names, o.Name)
	}
	sort.Strings(names)
	return names
}
