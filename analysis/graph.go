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

// Affected returns the components a change since the git revision since
// may affect: those owning a changed file, those whose import closure
// (shared modules, libraries, the root flake) holds one, and, transitively,
// those depending on an affected component. Uncommitted and untracked
// changes count.
func Affected(ctx context.Context, s *Snapshot, since string) ([]*Component, error) {
	changed, err := changedFiles(ctx, s.Root, since)
	if err != nil {
		return nil, err
	}
	affected := map[string]bool{}
	for _, c := range s.model.components {
		for _, p := range s.Closure(c) {
			if changed[p] {
				affected[c.Name] = true
				break
			}
		}
		if !affected[c.Name] {
			// A change to any file of the component, Nix or not (sources,
			// lock files), affects it.
			prefix := c.Dir + string(filepath.Separator)
			for p := range changed {
				if strings.HasPrefix(p, prefix) && s.model.nearest(p) == c {
					affected[c.Name] = true
					break
				}
			}
		}
	}
	// Dependents of affected components are affected too.
	for grew := true; grew; {
		grew = false
		for _, c := range s.model.components {
			if affected[c.Name] {
				continue
			}
			for _, d := range c.Deps {
				if affected[d] {
					affected[c.Name], grew = true, true
					break
				}
			}
		}
	}
	var out []*Component
	for _, c := range s.model.components {
		if affected[c.Name] {
			out = append(out, c)
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
