package analysis

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
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
	rootFile := filepath.Join(s.Root, "flake.nix")
	f := s.files[rootFile]
	if f == nil || f.Tree() == nil || f.facts == nil {
		return nil, nil, errors.New("the root flake.nix is not indexed")
	}
	if len(f.Tree().Errors) > 0 {
		return nil, nil, errors.New("the root flake.nix has syntax errors")
	}
	fl := s.model.rootFlake(s)
	if fl == nil || fl.root == nil || fl.root.file != rootFile {
		return nil, nil, errors.New("the root flake.nix calls no flake-parts module the model reads")
	}
	mod := f.facts.Modules[fl.root.index]
	if mod.Adios || len(mod.Imports) == 0 {
		return nil, nil, errors.New("the root flake.nix has no imports list")
	}
	needed := map[string]bool{}
	for _, d := range s.DependencyClosure(c) {
		for _, m := range d.Modules {
			needed[m] = true
		}
	}
	p := pruner{s: s, needed: needed, dir: s.Root}
	var edits []TextEdit
	for _, imp := range mod.Imports {
		el := nodeSpanned(f.Tree(), imp.Span)
		if !el.Valid() {
			return nil, nil, errors.New("the root flake's imports cannot be matched to its text")
		}
		edit, kept, err := p.element(el, imp)
		if err != nil {
			return nil, nil, err
		}
		edits = append(edits, edit...)
		modules = append(modules, kept...)
	}
	// Every other relative path of flake.nix becomes absolute.
	covered := func(n syntax.Node) bool {
		for _, imp := range mod.Imports {
			if n.Start() >= imp.Span.Start && n.End() <= imp.Span.End {
				return true
			}
		}
		return false
	}
	f.Tree().Root().Walk(func(n syntax.Node) bool {
		if covered(n) {
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
	return applyEdits(f.Tree().Src, edits), modules, nil
}

type pruner struct {
	s      *Snapshot
	needed map[string]bool
	dir    string
}

// element decides one entry of the root imports list. Only entries that
// are elements of a list literal can be removed; others are kept whole.
func (p *pruner) element(el syntax.Node, imp importFact) ([]TextEdit, []string, error) {
	inList := el.Parent().Kind() == syntax.List
	switch imp.Kind {
	case importUnknown:
		return nil, nil, fmt.Errorf("an import the model cannot read: %s", imp.Why)
	case importFile:
		file := p.s.model.moduleFile(p.s, imp.Target)
		if inList && !p.keep(file) {
			return []TextEdit{{Span: el.Span(), NewText: ""}}, nil, nil
		}
		if el.Kind() == syntax.Path {
			return []TextEdit{{Span: el.Span(), NewText: nixPath(file)}}, []string{file}, nil
		}
		return p.absolute(el), []string{file}, nil
	case importTree, importGlob:
		if !inList || imp.FilterUnread {
			return p.absolute(el), nil, nil
		}
		var files []string
		if imp.Kind == importTree {
			for _, q := range p.s.fs.Below(imp.Target) {
				rel := strings.TrimPrefix(q, imp.Target)
				if strings.HasSuffix(q, ".nix") && !strings.Contains(rel, "/_") && !slices.Contains(imp.Exclude, rel) && (imp.Match == "" || matchesFully(imp.Match, rel)) {
					files = append(files, q)
				}
			}
		} else {
			for _, q := range p.s.fs.Glob(imp.Target, imp.Pattern) {
				files = append(files, p.s.model.moduleFile(p.s, q))
			}
		}
		var kept, text []string
		for _, q := range files {
			if p.keep(q) {
				kept = append(kept, q)
				text = append(text, nixPath(q))
			}
		}
		return []TextEdit{{Span: el.Span(), NewText: strings.Join(text, " ")}}, kept, nil
	}
	// An inline module, a module of an input: kept, with its relative
	// paths made absolute.
	return p.absolute(el), nil, nil
}

func (p *pruner) absolute(el syntax.Node) []TextEdit {
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
	return edits
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
		if len(p.s.model.defsIn[q]) > 0 {
			if !p.onlyOutputs(q) {
				return true // it also configures something others may use
			}
			definesOutputs = true
		}
		for _, mod := range f.facts.Modules {
			for _, imp := range mod.Imports {
				if imp.Kind == importFile {
					queue = append(queue, p.s.model.moduleFile(p.s, imp.Target))
				}
			}
		}
	}
	return !definesOutputs
}

// onlyOutputs reports whether a module file sets nothing but outputs:
// standard per-system categories and flake outputs. A module that sets
// other options (a formatter's configuration, services) may be read by
// any component through config, so it is never pruned.
func (p *pruner) onlyOutputs(file string) bool {
	for _, o := range p.s.model.defsIn[file] {
		if o.perSys && !perSystemCategories[o.Category] {
			return false
		}
	}
	f := p.s.files[file]
	for _, mod := range f.facts.Modules {
		for _, opt := range mod.Options {
			if !setupOptions[opt.Name] {
				return false
			}
		}
	}
	return true
}

// nodeSpanned finds the outermost node with exactly span.
func nodeSpanned(t *syntax.Tree, span syntax.Span) syntax.Node {
	var found syntax.Node
	t.Root().Walk(func(n syntax.Node) bool {
		if found.Valid() || n.End() < span.Start || n.Start() > span.End {
			return false
		}
		if n.Span() == span && n.Named() {
			found = n
			return false
		}
		return true
	})
	return found
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

// nixPath writes an absolute path as a Nix expression, whatever
// characters the path holds.
func nixPath(p string) string { return syntax.PathExpr(p) }

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
