package evalcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/indexcache"
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
		if err := syntaxError(s, filepath.Join(s.Root, "flake.nix")); err != nil {
			// The model of a flake.nix it cannot read has no components;
			// saying the path is outside them all would mislead.
			return Request{}, fmt.Errorf("cannot tell which component holds %s: %w", path, err)
		}
		// Outside every component: the flake's own default shell, if any.
		if !s.FlakeDefines(analysis.DevShells, "default") {
			return Request{}, fmt.Errorf("%w: %s is outside every component and the flake defines no devShells.default", ErrNoDevShell, path)
		}
		return Request{Root: s.Root, Component: filepath.Base(s.Root), ComponentDir: s.Root, Shell: "default",
			System: s.Config.System, Mode: mode, Files: []string{filepath.Join(s.Root, "flake.nix")}, TeamCache: s.Config.Cache}, nil
	}
	shell, ok := s.ShellFor(c)
	if !ok {
		return Request{}, fmt.Errorf("%w: component %s defines none; name one in %s (\"shells\": {%q: \"NAME\"})", ErrNoDevShell, c.Name, analysis.ConfigFile, c.Name)
	}
	req := Request{Root: s.Root, Component: c.Name, ComponentDir: c.Dir, Shell: shell, System: s.Config.System, Mode: mode, Files: s.Closure(c),
		TeamCache: s.Config.Cache}
	if s.Config.Shells[c.Name] == shell {
		req.ShellSetting = fmt.Sprintf("%q: {%q: %q} in %s", "shells", c.Name, shell, filepath.Join(s.Root, analysis.ConfigFile))
	}
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

// syntaxError is the first syntax error of a file, with its position.
func syntaxError(s *analysis.Snapshot, path string) error {
	for _, d := range s.Diagnostics(path) {
		if d.Code != analysis.CodeSyntax {
			continue
		}
		if lines := s.File(path).Lines(); lines != nil {
			line, col := lines.Position(d.Loc.Span.Start)
			return fmt.Errorf("%s:%d:%d: %s", path, line+1, col+1, d.Message)
		}
		return fmt.Errorf("%s: %s", path, d.Message)
	}
	return nil
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

// PlanAll plans the devShell of every component of the snapshot, in name
// order, as `monoflake publish` does without paths; a component it cannot
// plan (one that defines no devShell) is left out with its error.
func PlanAll(s *analysis.Snapshot, mode Mode) ([]Request, []error) {
	var reqs []Request
	var errs []error
	for _, name := range analysis.SortedComponentNames(s.Components()) {
		c := s.Component(name)
		req, err := Plan(s, c.Dir, c.Name, mode)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reqs = append(reqs, req)
	}
	return reqs, errs
}

// plan is PlanPath through the model's persistent index. A plan recorded
// for the query stands while the files it was made from are unchanged
// (see planRecord), and is checked against the whole repository after the
// answer; otherwise the repository is planned whole.
func (c *Cache) plan(ctx context.Context, path, component string, mode Mode) (Request, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Request{}, fmt.Errorf("resolve %s: %w", path, err)
	}
	if req, ok := c.recordedPlan(abs, component, mode); ok {
		req.replan = &planQuery{Path: abs, Component: component}
		return req, nil
	}
	return c.planWhole(ctx, abs, component, mode)
}

// planWhole plans from the whole repository: a repository unchanged since
// a plan was made answers with that plan for a stat per file; otherwise
// only the files that changed are read. The plan is stored for the next
// process, both ways.
func (c *Cache) planWhole(ctx context.Context, abs, component string, mode Mode) (Request, error) {
	since := time.Now()
	name := func(key string) string {
		return indexcache.Key("plan", cacheVersion, key, abs, component, string(mode))
	}
	proof := analysis.Prove(ctx, abs, c.index)
	if proof.Key != "" {
		if data, ok := c.index.Get(name(proof.Key)); ok {
			var req Request
			if json.Unmarshal(data, &req) == nil {
				c.recordPlan(abs, component, mode, req, since, nil)
				return req, nil
			}
		}
	}
	s, err := analysis.LoadWith(ctx, abs, analysis.LoadOptions{Index: c.index, Proof: &proof})
	if err != nil {
		return Request{}, err
	}
	req, err := Plan(s, abs, component, mode)
	if err == nil && s.ResultKey() != "" && c.index != nil {
		if data, err := json.Marshal(req); err == nil {
			_ = c.index.Put(name(s.ResultKey()), data) // losing it costs the next miss time
		}
		c.recordPlan(abs, component, mode, req, since, s)
	}
	return req, err
}
