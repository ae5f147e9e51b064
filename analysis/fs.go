package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// FSTable is what exists under a repository, read once at the edge (a git
// listing or a walk) and handed to the model, which never touches the
// disk: files and the directories holding them, whether git tracks them,
// and what git ignores. Paths are absolute and clean.
type FSTable struct {
	root     string
	files    map[string]fileEntry
	dirs     map[string][]string // directory -> names of its entries, sorted
	ignored  []string            // ignored files and directories
	git      bool
	complete bool
}

type fileEntry struct {
	tracked bool
}

// NewFSTable builds a table from listed files. git says the listing came
// from git (tracked says which files it tracks; the others are untracked,
// not ignored); ignored are the ignored entries git reported, if any.
func NewFSTable(root string, files []string, tracked map[string]bool, ignored []string, git bool) *FSTable {
	t := &FSTable{root: filepath.Clean(root), files: make(map[string]fileEntry, len(files)), dirs: map[string][]string{}, git: git, complete: true}
	for _, f := range files {
		t.files[f] = fileEntry{tracked: tracked[f]}
		t.addParents(f)
	}
	t.ignored = append(t.ignored, ignored...)
	sort.Strings(t.ignored)
	for d := range t.dirs {
		sort.Strings(t.dirs[d])
	}
	return t
}

func (t *FSTable) addParents(p string) {
	for {
		dir := filepath.Dir(p)
		if dir == p || !isUnder(dir, t.root) {
			return
		}
		seen := t.dirs[dir] != nil
		t.dirs[dir] = append(t.dirs[dir], filepath.Base(p))
		if seen {
			return
		}
		p = dir
	}
}

func isUnder(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) || dir == "/"
}

// digest names the listing: every file, and whether git tracks it.
func (t *FSTable) digest() string {
	paths := make([]string, 0, len(t.files))
	for p := range t.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		tracked := "u"
		if t.files[p].tracked {
			tracked = "t"
		}
		fmt.Fprintf(h, "%s\x00%s\x00", p, tracked)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// setIgnored records what git ignores; only the edge building the table
// calls it, before the table is shared.
func (t *FSTable) setIgnored(ignored []string) {
	t.ignored = append([]string(nil), ignored...)
	sort.Strings(t.ignored)
}

// Root is the repository the table describes.
func (t *FSTable) Root() string { return t.root }

// Git reports whether the table comes from a git work tree.
func (t *FSTable) Git() bool { return t.git }

// Exists reports whether path is a listed file or a directory holding one,
// or lies in something git ignores (which exists but is not listed).
func (t *FSTable) Exists(p string) bool {
	if _, ok := t.files[p]; ok {
		return true
	}
	if _, ok := t.dirs[p]; ok || p == t.root {
		return true
	}
	return t.Ignored(p)
}

// IsDir reports whether path is a directory holding listed files.
func (t *FSTable) IsDir(p string) bool {
	_, ok := t.dirs[p]
	return ok || p == t.root
}

// Tracked reports whether git tracks the file.
func (t *FSTable) Tracked(p string) bool { return t.files[p].tracked }

// Listed reports whether the file is in the table (tracked or untracked,
// not ignored).
func (t *FSTable) Listed(p string) bool {
	_, ok := t.files[p]
	return ok
}

// Ignored reports whether git ignores path (or a directory above it).
func (t *FSTable) Ignored(p string) bool {
	i := sort.SearchStrings(t.ignored, p)
	if i < len(t.ignored) && t.ignored[i] == p {
		return true
	}
	// An ignored directory holds p.
	for dir := filepath.Dir(p); isUnder(dir, t.root) && dir != t.root; dir = filepath.Dir(dir) {
		j := sort.SearchStrings(t.ignored, dir)
		if j < len(t.ignored) && t.ignored[j] == dir {
			return true
		}
	}
	return false
}

// Entries returns the names in a directory, sorted.
func (t *FSTable) Entries(dir string) []string { return t.dirs[dir] }

// Glob returns the listed paths matching pattern (path.Match syntax,
// slash-separated) relative to dir, sorted. Directories match as well as
// files.
func (t *FSTable) Glob(dir, pattern string) []string {
	parts := strings.Split(pattern, "/")
	current := []string{dir}
	for i, part := range parts {
		var next []string
		last := i == len(parts)-1
		for _, d := range current {
			for _, name := range t.dirs[d] {
				if ok, _ := path.Match(part, name); !ok {
					continue
				}
				p := filepath.Join(d, name)
				if last || t.IsDir(p) {
					next = append(next, p)
				}
			}
		}
		current = next
	}
	sort.Strings(current)
	return current
}

// Below returns the listed files below dir, sorted.
func (t *FSTable) Below(dir string) []string {
	var out []string
	var visit func(d string)
	visit = func(d string) {
		for _, name := range t.dirs[d] {
			p := filepath.Join(d, name)
			if t.IsDir(p) {
				visit(p)
			} else {
				out = append(out, p)
			}
		}
	}
	visit(dir)
	sort.Strings(out)
	return out
}

// clone copies the table's maps, so an edited copy leaves t as it was.
func (t *FSTable) clone() FSTable {
	n := *t
	n.files = maps.Clone(t.files)
	n.dirs = maps.Clone(t.dirs)
	return n
}

// withFile returns a table that also lists p (a file an editor created
// before it was saved).
func (t *FSTable) withFile(p string) *FSTable {
	if _, ok := t.files[p]; ok {
		return t
	}
	n := t.clone()
	n.files[p] = fileEntry{}
	for q := p; ; {
		dir := filepath.Dir(q)
		if dir == q || !isUnder(dir, n.root) {
			break
		}
		names := append(append([]string(nil), n.dirs[dir]...), filepath.Base(q))
		sort.Strings(names)
		seen := n.dirs[dir] != nil
		n.dirs[dir] = names
		if seen {
			break
		}
		q = dir
	}
	return &n
}

// withoutFile returns a table that no longer lists p (a file deleted).
func (t *FSTable) withoutFile(p string) *FSTable {
	if _, ok := t.files[p]; !ok {
		return t
	}
	n := t.clone()
	delete(n.files, p)
	for q := p; ; {
		dir := filepath.Dir(q)
		if dir == q || !isUnder(dir, n.root) {
			break
		}
		var names []string
		for _, name := range n.dirs[dir] {
			if name != filepath.Base(q) {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			n.dirs[dir] = names
			break
		}
		delete(n.dirs, dir)
		q = dir
	}
	return &n
}
