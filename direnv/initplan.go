package direnv

import (
	"path/filepath"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// SkippedDir is a component directory `monoflake init` leaves alone, and why.
type SkippedDir struct {
	Dir    string
	Reason string
}

// ReasonUnreached is why a sub-flake gets no .envrc by default.
const ReasonUnreached = "a sub-flake that no input of the root flake reaches (a template or a test fixture?)"

// InitDirs returns the component directories `monoflake init` writes an
// .envrc into, sorted: every component but the repository root. A sub-flake
// that no path input of the root flake reaches, directly or through other
// sub-flakes, is a flake that happens to live in the tree (a template, a
// test fixture) rather than a component of it; it is skipped unless all.
// When the root flake cannot be read, nothing is skipped: writing a
// harmless .envrc is the safe mistake.
func InitDirs(s *analysis.Snapshot, all bool) (dirs []string, skipped []SkippedDir) {
	reached, known := reachedSubFlakes(s)
	for _, c := range s.Components() {
		switch {
		case c.Dir == s.Root:
		case c.SubFlake && !all && known && !reached[c.Dir]:
			skipped = append(skipped, SkippedDir{Dir: c.Dir, Reason: ReasonUnreached})
		default:
			dirs = append(dirs, c.Dir)
		}
	}
	sort.Strings(dirs)
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Dir < skipped[j].Dir })
	return dirs, skipped
}

// reachedSubFlakes returns the directories of the sub-flakes that path
// inputs lead to from the root flake. known is false when the root
// flake.nix could not be read.
func reachedSubFlakes(s *analysis.Snapshot) (reached map[string]bool, known bool) {
	subFlakes := map[string]bool{}
	for _, c := range s.Components() {
		if c.SubFlake {
			subFlakes[c.Dir] = true
		}
	}
	root := s.File(filepath.Join(s.Root, "flake.nix"))
	if root == nil || root.Tree() == nil {
		return nil, false
	}
	reached = map[string]bool{}
	queue := []string{s.Root}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		f := s.File(filepath.Join(dir, "flake.nix"))
		if f == nil {
			continue
		}
		for _, target := range pathURLs(f.Tree(), dir) {
			if subFlakes[target] && !reached[target] {
				reached[target] = true
				queue = append(queue, target)
			}
		}
	}
	return reached, true
}

// pathURLs returns the directories that the literal "path:..." strings of a
// flake.nix name, resolved against its directory. Every such string counts,
// wherever it is: reading a sub-flake as reached when it is not only writes
// an .envrc too many.
func pathURLs(tree *syntax.Tree, dir string) []string {
	var out []string
	var walk func(n syntax.Node)
	walk = func(n syntax.Node) {
		if n.Kind() == syntax.String {
			if s, ok := literal(n); ok {
				if p, isPath := strings.CutPrefix(s, "path:"); isPath {
					if i := strings.IndexAny(p, "?#"); i >= 0 {
						p = p[:i]
					}
					if !filepath.IsAbs(p) {
						p = filepath.Join(dir, p)
					}
					out = append(out, filepath.Clean(p))
				}
			}
			return
		}
		for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
			walk(c)
		}
	}
	walk(tree.Root())
	return out
}

// literal is the text of a string without interpolations. Escapes are kept
// as written: a path URL needs none.
func literal(n syntax.Node) (string, bool) {
	var b strings.Builder
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		switch c.Kind() {
		case syntax.StringFragment:
			b.WriteString(c.Text())
		case syntax.Interpolation:
			return "", false
		}
	}
	return b.String(), true
}
