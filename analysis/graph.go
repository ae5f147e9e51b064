package analysis

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/analysis/gitsafe"
)

// Edge is a dependency of one component on another: From references at
// least one output To defines.
type Edge struct {
	From, To string
}

// Graph returns the component dependency edges, sorted.
func Graph(s *Snapshot) []Edge {
	var out []Edge
	for _, c := range s.model.components {
		for _, d := range c.Deps {
			out = append(out, Edge{From: c.Name, To: d})
		}
	}
	return out
}

// AffectedComponent is a component a change may affect, and why.
type AffectedComponent struct {
	*Component
	Reasons []string
}

// Affected returns the components a change since the git revision since
// may affect, each with why: those owning a changed file, those whose
// import closure (shared modules, libraries, the root flake) holds one,
// every one when flake.lock changed, and, transitively, those depending on
// an affected component. When a changed Nix file belongs to no component
// and the model could not read all of the flake's wiring, the file may be
// read through what it could not follow: every component is included, as
// the safe answer. Uncommitted and untracked changes count.
func Affected(ctx context.Context, s *Snapshot, since string) ([]AffectedComponent, error) {
	changed, err := changedFiles(ctx, s.Root, since)
	if err != nil {
		return nil, err
	}
	reasons := map[string][]string{}
	because := func(c *Component, why string) {
		if len(reasons[c.Name]) < 3 {
			reasons[c.Name] = append(reasons[c.Name], why)
		}
	}
	attributed := map[string]bool{}
	for _, c := range s.model.components {
		for _, p := range s.Closure(c) {
			if changed[p] {
				because(c, "reads "+relPath(s.Root, p))
				attributed[p] = true
			}
		}
		// A change to any file of the component, Nix or not (sources,
		// lock files), affects it.
		prefix := c.Dir + string(filepath.Separator)
		for p := range changed {
			if strings.HasPrefix(p, prefix) && s.model.nearest(p) == c {
				because(c, "owns "+relPath(s.Root, p))
				attributed[p] = true
			}
		}
	}
	var everyone []string
	for p := range changed {
		switch {
		case filepath.Base(p) == "flake.lock" && filepath.Dir(p) == s.Root:
			everyone = append(everyone, "the flake's inputs changed (flake.lock)")
		case strings.HasSuffix(p, ".nix") && !attributed[p]:
			if unread := s.Unread(); len(unread) > 0 {
				u := unread[0]
				everyone = append(everyone, fmt.Sprintf("%s belongs to no component and may be read through what the model cannot follow (%s:%d: %s)",
					relPath(s.Root, p), relPath(s.Root, u.File), u.Line, u.Why))
			}
		}
	}
	sort.Strings(everyone)
	for _, why := range everyone {
		for _, c := range s.model.components {
			because(c, why)
		}
	}
	// Dependents of affected components are affected too.
	for grew := true; grew; {
		grew = false
		for _, c := range s.model.components {
			if len(reasons[c.Name]) > 0 {
				continue
			}
			for _, d := range c.Deps {
				if len(reasons[d]) > 0 {
					because(c, "depends on "+d)
					grew = true
					break
				}
			}
		}
	}
	var out []AffectedComponent
	for _, c := range s.model.components {
		if len(reasons[c.Name]) > 0 {
			out = append(out, AffectedComponent{Component: c, Reasons: reasons[c.Name]})
		}
	}
	return out, nil
}

// changedFiles lists absolute paths changed between since and the work
// tree, plus untracked files.
func changedFiles(ctx context.Context, root, since string) (map[string]bool, error) {
	if _, err := gitsafe.Output(ctx, root, "rev-parse", "--show-toplevel"); err != nil {
		return nil, fmt.Errorf("%s is not in a git repository: %w", root, err)
	}
	if _, err := gitsafe.Output(ctx, root, "rev-parse", "--verify", "--quiet", since+"^{commit}"); err != nil {
		return nil, fmt.Errorf("unknown git revision %q", since)
	}
	// Compared without git diff, whose look at the working tree runs the
	// repository's filters.
	paths, err := gitsafe.Changed(ctx, root, since)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(paths))
	for _, p := range paths {
		out[p] = true
	}
	return out, nil
}

// SortedComponentNames returns the names of components, sorted.
func SortedComponentNames(cs []*Component) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}
