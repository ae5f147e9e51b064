package evalcache

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/analysis"
)

// ErrNoDevShell is wrapped by Plan's error when there is no devShell to
// evaluate for a path: a component that defines none, or a path outside
// every component in a flake without devShells.default.
var ErrNoDevShell = errors.New("no devShell")

// Plan maps a path (and optionally a component named by the user) to the
// evaluation request for its devShell, using the model: which component
// holds the path, which devShell belongs to it, the files its evaluation
// may read, and, in scoped mode, the flake pruned to the modules it needs.
// The command line, direnv and the language server all plan through here.
func Plan(s *analysis.Snapshot, path, component string, mode Mode) (Request, error) {
	if !s.HasFlake {
		return Request{}, fmt.Errorf("%s is not inside a flake (no flake.nix above it)", path)
	}
	var c *analysis.Component
	if component != "" {
		if c = s.Component(component); c == nil {
			return Request{}, fmt.Errorf("there is no component %s in %s (components: %s)", component, s.Root, componentList(s))
		}
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			return Request{}, fmt.Errorf("resolve %s: %w", path, err)
		}
		c = s.ComponentOf(abs)
	}
	if c == nil {
		// Outside every component: the flake's own default shell, if any.
		if !s.FlakeDefines(analysis.DevShells, "default") {
			return Request{}, fmt.Errorf("%w: %s is outside every component and the flake defines no devShells.default", ErrNoDevShell, path)
		}
		return Request{Root: s.Root, Component: filepath.Base(s.Root), ComponentDir: s.Root, Shell: "default",
			System: s.Config.System, Mode: mode, Files: []string{filepath.Join(s.Root, "flake.nix")}}, nil
	}
	shell, ok := s.ShellFor(c)
	if !ok {
		return Request{}, fmt.Errorf("%w: component %s defines none; name one in %s (\"shells\": {%q: \"NAME\"})", ErrNoDevShell, c.Name, analysis.ConfigFile, c.Name)
	}
	req := Request{Root: s.Root, Component: c.Name, ComponentDir: c.Dir, Shell: shell, System: s.Config.System, Mode: mode, Files: s.Closure(c)}
	if c.SubFlake {
		req.Root = c.Dir
		return req, nil
	}
	if mode != Flake {
		// A flake the model cannot prune is evaluated whole.
		if src, modules, err := analysis.PrunedFlake(s, c); err == nil {
			req.Pruned = &Pruned{FlakeSource: src, Modules: modules}
		}
	}
	return req, nil
}

func componentList(s *analysis.Snapshot) string {
	names := analysis.SortedComponentNames(s.Components())
	if len(names) == 0 {
		return "none found"
	}
	return strings.Join(names, ", ")
}

// PlanPath indexes the repository around path and plans its request: what
// a cache miss needs and a hit never does.
func PlanPath(ctx context.Context, path, component string, mode Mode) (Request, error) {
	s, err := analysis.Load(ctx, path)
	if err != nil {
		return Request{}, err
	}
	return Plan(s, path, component, mode)
}

// EnvironmentFor is the environment of the component holding path (or the
// component named, looked for as DIR/NAME in path's directory and its
// parents). It answers from the cache by directory first, which needs no
// indexing of the repository, so a hit costs a few stats; only a miss
// indexes the repository, plans and evaluates. vouched is trust the caller
// grants on top of the cache's own (direnv running an allowed .envrc).
// Evaluation failures come back as a Result in state stale or failed.
func (c *Cache) EnvironmentFor(ctx context.Context, path, component string, mode Mode, vouched bool) (*Result, Request, error) {
	if res, req, ok := c.cachedFor(ctx, path, component, mode, vouched); ok {
		return res, req, nil
	}
	req, err := PlanPath(ctx, path, component, mode)
	if err != nil {
		return nil, req, err
	}
	req.Trusted = req.Trusted || vouched
	res, err := c.Get(ctx, req)
	if err != nil {
		return nil, req, err
	}
	_ = c.TrimIfDue() // trimming is housekeeping: its failure costs disk, not the answer
	return res, req, nil
}

// cachedFor looks the entry up by directory; see EnvironmentFor.
func (c *Cache) cachedFor(ctx context.Context, path, component string, mode Mode, vouched bool) (*Result, Request, bool) {
	paths := []string{path}
	if component != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, Request{}, false
		}
		paths = nil
		for d := abs; ; d = filepath.Dir(d) {
			paths = append(paths, filepath.Join(d, component))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, p := range paths {
		res, req, ok := c.Lookup(ctx, p, mode, "")
		if req.Root == "" || (component != "" && component != req.Component) {
			continue
		}
		if ok {
			return res, req, true
		}
		if res != nil && res.State == Untrusted && vouched {
			req.Trusted = true
			res, ok := c.Cached(ctx, req)
			return res, req, ok
		}
		return nil, req, false
	}
	return nil, Request{}, false
}
