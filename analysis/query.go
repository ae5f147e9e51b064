package analysis

import (
	"path/filepath"
	"sort"
)

// at finds what is at offset in file: an indexed reference, or the name of
// an output definition.
func (s *Snapshot) at(file string, offset int) (*Reference, *Output) {
	file = filepath.Clean(file)
	f := s.files[file]
	if f == nil || f.facts == nil {
		return nil, nil
	}
	for _, o := range s.model.defsIn[file] {
		if o.Def.Span.Contains(offset) {
			return nil, o
		}
	}
	var best *Reference
	for i := range f.facts.refs {
		r := &f.facts.refs[i]
		// The innermost (shortest) span wins: a path inside an import.
		if r.Loc.Span.Contains(offset) && (best == nil || r.Loc.Span.Len() < best.Loc.Span.Len()) {
			best = r
		}
	}
	return best, nil
}

// keyOf returns the output key a reference or definition stands for.
func (s *Snapshot) keyOf(r *Reference, o *Output) (outputKey, bool) {
	if o != nil {
		return s.keyOfModel(s.model, o)
	}
	if r != nil && r.Kind == OutputRef {
		_, owner, _ := s.model.lookup(s, *r)
		if r.Input != "" && owner == "" {
			return outputKey{}, false
		}
		return outputKey{owner, r.Category, r.Name}, true
	}
	return outputKey{}, false
}

// keyOfModel returns the output key of a definition in model m.
func (s *Snapshot) keyOfModel(m *model, o *Output) (outputKey, bool) {
	owner := ""
	if c := m.byName[o.Component]; c != nil && c.SubFlake {
		owner = c.Name
	}
	return outputKey{owner, o.Category, o.Name}, true
}

// Closure returns the Nix files evaluating a component may read: the files
// and modules of the component and of the components it depends on, what
// they import, the flake's shared modules (those defining no component
// outputs) and the root flake.nix, sorted. Modules of other components are
// left out even though the root flake names them: pruned evaluation never
// reads them.
func (s *Snapshot) Closure(c *Component) []string {
	allowed := map[*Component]bool{}
	seen := map[string]bool{}
	var queue []string
	push := func(p string) {
		if seen[p] || s.files[p] == nil {
			return
		}
		if owner := s.model.nearest(p); owner != nil && !allowed[owner] {
			return
		}
		seen[p] = true
		queue = append(queue, p)
	}
	for _, d := range s.DependencyClosure(c) {
		allowed[d] = true
	}
	for d := range allowed {
		for _, p := range d.Files {
			push(p)
		}
		for _, p := range d.Modules {
			push(p)
		}
	}
	if !c.SubFlake {
		push(filepath.Join(s.Root, "flake.nix"))
		for p := range s.model.reachable {
			if f := s.files[p]; f != nil && f.facts != nil && len(f.facts.outputs) == 0 && len(f.facts.open) == 0 {
				push(p)
			}
		}
	}
	for i := 0; i < len(queue); i++ {
		f := s.files[queue[i]]
		if f == nil || f.facts == nil {
			continue
		}
		for _, r := range f.facts.refs {
			if r.Kind == ImportRef {
				push(moduleFile(r.Target))
			}
		}
		for _, imp := range f.facts.imports {
			push(moduleFile(imp.Target))
		}
	}
	sort.Strings(queue)
	return queue
}

// DependencyClosure returns the component and every component it depends
// on, transitively, sorted by name.
func (s *Snapshot) DependencyClosure(c *Component) []*Component {
	seen := map[string]bool{c.Name: true}
	out := []*Component{c}
	for i := 0; i < len(out); i++ {
		for _, d := range out[i].Deps {
			if !seen[d] && s.model.byName[d] != nil {
				seen[d] = true
				out = append(out, s.model.byName[d])
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ShellFor returns the devShell that belongs to a component: the one the
// configuration names, else the devShell named like the component, else
// the first devShell the component defines, else "default" for a
// sub-flake. ok is false when there is none.
func (s *Snapshot) ShellFor(c *Component) (string, bool) {
	if name, ok := s.Config.Shells[c.Name]; ok && name != "" {
		return name, true
	}
	var first string
	for _, o := range c.Outputs {
		if o.Category != DevShells {
			continue
		}
		if o.Name == c.Name {
			return o.Name, true
		}
		if first == "" {
			first = o.Name
		}
	}
	if first != "" {
		return first, true
	}
	if c.SubFlake {
		return "default", true
	}
	return "", false
}

// FlakeDefines reports whether the root flake (not a sub-flake) has the
// output category.name, whichever component defines it.
func (s *Snapshot) FlakeDefines(category, name string) bool {
	return len(s.model.defs[outputKey{"", category, name}]) > 0
}
