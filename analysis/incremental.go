package analysis

import (
	"maps"
	"slices"
)

// reresolve returns the model after one file changed. Most edits change
// nothing another file can observe but the file's own output references (a
// value, a comment, a reference to another output): then only the edited
// file's positions, references, dependencies and diagnostics are redone,
// sharing the rest with the old model. Anything else (outputs defined,
// imports, paths) rebuilds the model from the facts of all files, which
// needs no parsing but visits every file.
func reresolve(old, s *Snapshot, before, after *File) *model {
	if before == nil || !sameShape(before, after) {
		return resolve(s)
	}
	if m, ok := old.model.withFile(s, before, after); ok {
		return m
	}
	return resolve(s)
}

// sameShape reports whether two versions of a file look the same from
// every other file: the same outputs, computed categories, imports, inputs
// and paths, positions aside. Output references may differ: they change
// only the file's own diagnostics and its component's dependencies.
func sameShape(a, b *File) bool {
	if a.facts == nil || b.facts == nil || a.Err != nil || b.Err != nil {
		return false
	}
	fa, fb := a.facts, b.facts
	if fa.module != fb.module || !slices.Equal(fa.open, fb.open) || !slices.Equal(fa.computedImports, fb.computedImports) ||
		!maps.Equal(fa.pathInputs, fb.pathInputs) || len(fa.outputs) != len(fb.outputs) || len(fa.imports) != len(fb.imports) {
		return false
	}
	for i := range fa.outputs {
		x, y := fa.outputs[i], fb.outputs[i]
		if x.Category != y.Category || x.Name != y.Name || x.FlakeOnly != y.FlakeOnly || x.System != y.System {
			return false
		}
	}
	for i := range fa.imports {
		if fa.imports[i].Target != fb.imports[i].Target {
			return false
		}
	}
	return slices.Equal(pathRefs(a), pathRefs(b))
}

// pathRef is a path reference as other files see it: what it names and
// whether that exists.
type pathRef struct {
	kind    RefKind
	target  string
	missing bool
}

func pathRefs(f *File) []pathRef {
	var out []pathRef
	for i, r := range f.facts.refs {
		if r.Kind != OutputRef {
			out = append(out, pathRef{r.Kind, r.Target, f.missing[i]})
		}
	}
	return out
}

// withFile returns a copy of the model in which file after replaces
// before, a version of the same shape. ok is false when the model does not
// line up with the file (the caller then resolves from scratch).
func (m *model) withFile(s *Snapshot, before, after *File) (*model, bool) {
	n := *m
	p := after.Path
	if oldDefs := m.defsIn[p]; len(oldDefs) > 0 {
		if !n.moveOutputs(after, oldDefs) {
			return nil, false
		}
	}

	// References from this file: drop the old ones, add the new ones.
	n.refsTo = maps.Clone(m.refsTo)
	rebuilt := map[outputKey]bool{}
	rebuild := func(k outputKey) {
		if rebuilt[k] {
			return
		}
		rebuilt[k] = true
		var kept []Location
		for _, loc := range m.refsTo[k] {
			if loc.File != p {
				kept = append(kept, loc)
			}
		}
		if len(kept) == 0 {
			delete(n.refsTo, k)
		} else {
			n.refsTo[k] = kept
		}
	}
	for _, r := range before.facts.refs {
		if r.Kind == OutputRef {
			_, owner, _ := m.lookup(s, r)
			rebuild(outputKey{owner, r.Category, r.Name})
		}
	}
	for _, r := range after.facts.refs {
		if r.Kind == OutputRef {
			_, owner, _ := n.lookup(s, r)
			k := outputKey{owner, r.Category, r.Name}
			rebuild(k)
			n.refsTo[k] = append(n.refsTo[k], r.Loc)
		}
	}
	n.updateDeps(s, p)

	// Diagnostics of this file; other files' diagnostics cannot change.
	n.diags = maps.Clone(m.diags)
	var kept []Diagnostic
	for _, d := range m.diags[p] {
		if d.Code == CodeOrphanModule {
			kept = append(kept, d)
		}
	}
	n.diags[p] = kept
	add := n.adder(s)
	n.fileDiagnostics(s, after, add, func(outputKey, Reference, []*Output) {})
	for _, o := range n.defsIn[p] {
		k, _ := s.keyOfModel(&n, o)
		duplicateDiagnostics(k, n.defs[k], func(d Diagnostic) {
			if d.Loc.File == p {
				add(d)
			}
		})
	}
	sortDiagnostics(n.diags[p])
	if len(n.diags[p]) == 0 {
		delete(n.diags, p)
	}
	return &n, true
}

// updateDeps recomputes the dependencies of the component holding file p
// from the references of all its files (a handful), replacing the
// component when they changed.
func (n *model) updateDeps(s *Snapshot, p string) {
	c := n.nearest(p)
	if c == nil {
		return
	}
	set := map[string]bool{}
	for _, q := range c.Files {
		f := s.files[q]
		if f == nil || f.facts == nil {
			continue
		}
		for _, r := range f.facts.refs {
			if r.Kind != OutputRef {
				continue
			}
			defs, _, _ := n.lookup(s, r)
			for _, d := range defs {
				if d.Component != c.Name {
					set[d.Component] = true
				}
			}
		}
	}
	var deps []string
	for d := range set {
		deps = append(deps, d)
	}
	slices.Sort(deps)
	if slices.Equal(deps, c.Deps) {
		return
	}
	moved := *c
	moved.Deps = deps
	n.replaceComponent(c, &moved)
}

// replaceComponent puts a changed copy of a component in place of the
// original in the model's copies of the component indexes.
func (n *model) replaceComponent(old, moved *Component) {
	n.components = slices.Clone(n.components)
	for i := range n.components {
		if n.components[i] == old {
			n.components[i] = moved
		}
	}
	n.byName = maps.Clone(n.byName)
	n.byName[moved.Name] = moved
	n.byDir = maps.Clone(n.byDir)
	n.byDir[moved.Dir] = moved
}

// moveOutputs gives the outputs a file defines their new positions, in
// fresh Output values so the old model stays as it was.
func (n *model) moveOutputs(after *File, oldDefs []*Output) bool {
	if len(oldDefs) != len(after.facts.outputs) {
		return false
	}
	repl := make(map[*Output]*Output, len(oldDefs))
	newDefs := make([]*Output, len(oldDefs))
	for i, o := range oldDefs {
		d := after.facts.outputs[i]
		if o.Category != d.Category || o.Name != d.Name {
			return false
		}
		moved := *o
		moved.Def.Span = d.Span
		newDefs[i], repl[o] = &moved, &moved
	}
	swap := func(list []*Output) []*Output {
		out := slices.Clone(list)
		for i, o := range out {
			if r := repl[o]; r != nil {
				out[i] = r
			}
		}
		return out
	}
	n.defsIn = maps.Clone(n.defsIn)
	n.defsIn[after.Path] = newDefs
	n.defs = maps.Clone(n.defs)
	for _, o := range oldDefs {
		k := outputKey{category: o.Category, name: o.Name}
		if c := n.byName[o.Component]; c != nil && c.SubFlake {
			k.component = c.Name
		}
		n.defs[k] = swap(n.defs[k])
	}
	n.outputs = swap(n.outputs)
	c := n.byName[oldDefs[0].Component]
	if c == nil {
		return false
	}
	moved := *c
	moved.Outputs = swap(c.Outputs)
	n.replaceComponent(c, &moved)
	return true
}
