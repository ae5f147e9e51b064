package analysis

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// PrunedFlake returns a copy of the root flake.nix whose module list holds
// only what evaluating component c needs: c's own modules, the modules of
// the components it depends on (transitively), and modules that define no
// component outputs (shared set-up such as pkgs). Computed imports are
// replaced by the explicit files kept, and every relative path is made
// absolute, so the copy can be evaluated from anywhere. In a flake-parts
// repository every imported module is evaluated and merged, so without
// this an evaluation costs what the whole repository costs.
//
// modules lists the module files kept. An error means the flake's shape is
// not one monoflake can prune; the caller evaluates the flake unpruned.
func PrunedFlake(s *Snapshot, c *Component) (src []byte, modules []string, err error) {
	if c.SubFlake {
		return nil, nil, errors.New("a sub-flake is evaluated as its own flake")
	}
	rootFlake := filepath.Join(s.Root, "flake.nix")
	f := s.files[rootFlake]
	if f == nil || f.Tree == nil || f.facts == nil {
		return nil, nil, errors.New("the root flake.nix is not indexed")
	}
	if len(f.Tree.Errors) > 0 {
		return nil, nil, errors.New("the root flake.nix has syntax errors")
	}
	if len(f.facts.importValues) == 0 {
		return nil, nil, errors.New("the root flake.nix has no imports list")
	}
	list := nodeAt(f.Tree, f.facts.importValues[0], syntax.List)
	if !list.Valid() {
		return nil, nil, errors.New("the root flake's imports are not a literal list")
	}
	needed := map[string]bool{}
	for _, d := range s.DependencyClosure(c) {
		for _, m := range d.Modules {
			needed[m] = true
		}
	}
	p := pruner{s: s, needed: needed, dir: s.Root}
	var edits []TextEdit
	for _, el := range list.NamedChildren() {
		edit, kept := p.element(el)
		edits = append(edits, edit...)
		modules = append(modules, kept...)
	}
	// Every other relative path of flake.nix becomes absolute.
	inList := list.Span()
	f.Tree.Root().Walk(func(n syntax.Node) bool {
		if n.Start() >= inList.Start && n.End() <= inList.End {
			return false
		}
		if n.Kind() == syntax.Path {
			if t, ok := literalPath(n, s.Root); ok {
				edits = append(edits, TextEdit{Span: n.Span(), NewText: nixPath(t)})
			}
			return false
		}
		return true
	})
	sort.Strings(modules)
	return applyEdits(f.Tree.Src, edits), modules, nil
}

type pruner struct {
	s      *Snapshot
	needed map[string]bool
	dir    string
}

// element decides one entry of the root imports list.
func (p *pruner) element(el syntax.Node) ([]TextEdit, []string) {
	if el.Kind() == syntax.Path {
		target, ok := literalPath(el, p.dir)
		if !ok {
			return nil, nil // interpolated: left as it is
		}
		file := moduleFile(target)
		if !p.keep(file) {
			return []TextEdit{{Span: el.Span(), NewText: ""}}, nil
		}
		return []TextEdit{{Span: el.Span(), NewText: nixPath(file)}}, []string{file}
	}
	// A computed import of a directory becomes the explicit files kept.
	var dir string
	el.Walk(func(n syntax.Node) bool {
		if n.Kind() == syntax.Path && dir == "" && isDirImportCall(n) {
			dir, _ = literalPath(n, p.dir)
		}
		return dir == ""
	})
	if dir != "" {
		var kept []string
		var text []string
		for _, q := range p.s.Files() {
			if strings.HasPrefix(q, dir+string(filepath.Separator)) && p.keep(q) {
				kept = append(kept, q)
				text = append(text, nixPath(q))
			}
		}
		return []TextEdit{{Span: el.Span(), NewText: strings.Join(text, " ")}}, kept
	}
	// Anything else (an inline module, lib.optional ...) stays, with its
	// relative paths made absolute.
	var edits []TextEdit
	el.Walk(func(n syntax.Node) bool {
		if n.Kind() == syntax.Path {
			if t, ok := literalPath(n, p.dir); ok {
				edits = append(edits, TextEdit{Span: n.Span(), NewText: nixPath(t)})
			}
			return false
		}
		return true
	})
	return edits, nil
}

// keep reports whether a module is needed: it, or a module it imports, is
// a needed component's module, or nothing below it defines outputs.
func (p *pruner) keep(file string) bool {
	definesOutputs := false
	seen := map[string]bool{}
	queue := []string{file}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if seen[q] {
			continue
		}
		seen[q] = true
		if p.needed[q] {
			return true
		}
		f := p.s.files[q]
		if f == nil || f.facts == nil {
			continue
		}
		if len(f.facts.outputs) > 0 || len(f.facts.open) > 0 {
			definesOutputs = true
		}
		for _, imp := range f.facts.imports {
			queue = append(queue, moduleFile(imp.Target))
		}
	}
	return !definesOutputs
}

// literalPath resolves a path literal without interpolation.
func literalPath(n syntax.Node, dir string) (string, bool) {
	frag := n.FirstChild()
	if frag.Kind() != syntax.PathFragment || frag.NextSibling().Valid() {
		return "", false
	}
	text := frag.Text()
	if strings.HasPrefix(text, "~") {
		return "", false
	}
	if filepath.IsAbs(text) {
		return filepath.Clean(text), true
	}
	return filepath.Join(dir, text), true
}

// nixPath writes an absolute path as a Nix expression that is valid
// whatever characters the path holds.
func nixPath(p string) string {
	q := strconv.Quote(p)
	q = strings.ReplaceAll(q, "${", `\${`)
	return fmt.Sprintf("(/. + %s)", q)
}

// nodeAt finds the node of kind k with exactly span.
func nodeAt(t *syntax.Tree, span syntax.Span, k syntax.Kind) syntax.Node {
	var found syntax.Node
	t.Root().Walk(func(n syntax.Node) bool {
		if found.Valid() || n.End() < span.Start || n.Start() > span.End {
			return false
		}
		if n.Span() == span && n.Kind() == k {
			found = n
			return false
		}
		return true
	})
	return found
}

// applyEdits applies non-overlapping edits to src.
func applyEdits(src []byte, edits []TextEdit) []byte {
	sort.Slice(edits, func(i, j int) bool { return edits[i].Span.Start < edits[j].Span.Start })
	var out []byte
	last := 0
	for _, e := range edits {
		if e.Span.Start < last {
			continue
		}
		out = append(out, src[last:e.Span.Start]...)
		out = append(out, e.NewText...)
		last = e.Span.End
	}
	return append(out, src[last:]...)
}
