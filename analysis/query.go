package analysis

import (
	"path/filepath"
	"sort"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// target is what is at a position of a file.
type target struct {
	def    *Output
	ref    int // index into the file's references, -1 for none
	path   *pathFact
	input  *inputRef
	decl   *inputFact // an input's declaration in flake.nix
	formal *nameDef   // a formal argument of the file's function
	// onCategory marks a position on a reference's category (the myLib
	// of self.myLib.x), not its name.
	onCategory bool
}

// at finds what is at offset in file. Names win over the paths and
// references around them: the innermost (shortest) span is taken.
func (s *Snapshot) at(file string, offset int) (target, *File) {
	file = filepath.Clean(file)
	t := target{ref: -1}
	f := s.files[file]
	if f == nil || f.facts == nil {
		return t, f
	}
	for _, o := range s.model.defsIn[file] {
		if o.Def.Span.Contains(offset) {
			t.def = o
			return t, f
		}
	}
	best := -1
	consider := func(span syntax.Span) bool {
		if !span.Contains(offset) || best >= 0 && span.Len() >= best {
			return false
		}
		best = span.Len()
		return true
	}
	for i, r := range f.facts.Refs {
		if consider(r.Span) {
			t = target{ref: i}
		} else if r.Name != "" && r.CatSpan != r.Span && consider(r.CatSpan) {
			t = target{ref: i, onCategory: true}
		}
	}
	for i := range f.facts.InputRefs {
		if consider(f.facts.InputRefs[i].Span) {
			t = target{ref: -1, input: &f.facts.InputRefs[i]}
		}
	}
	for i := range f.facts.Paths {
		if consider(f.facts.Paths[i].Span) {
			t = target{ref: -1, path: &f.facts.Paths[i]}
		}
	}
	for i := range f.facts.Formals {
		if consider(f.facts.Formals[i].Span) {
			t = target{ref: -1, formal: &f.facts.Formals[i]}
		}
	}
	if fl := f.facts.Flake; fl != nil {
		for i := range fl.Inputs {
			if consider(fl.Inputs[i].Span) {
				t = target{ref: -1, decl: &fl.Inputs[i]}
			}
		}
	}
	return t, f
}

// keyOf returns the output key a position stands for.
func (s *Snapshot) keyOf(file string, t target) (outputKey, bool) {
	switch {
	case t.def != nil:
		return outputKey{t.def.flake, t.def.perSys, t.def.Category, t.def.Name}, true
	case t.ref >= 0:
		res := s.model.lookup(file, t.ref)
		return res.key, res.key.category != ""
	}
	return outputKey{}, false
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
		for _, p := range s.sharedModules() {
			push(p)
		}
	}
	for i := 0; i < len(queue); i++ {
		f := s.files[queue[i]]
		if f == nil || f.facts == nil {
			continue
		}
		for _, p := range f.facts.Paths {
			if p.Import {
				push(s.model.moduleFile(s, p.Target))
			}
		}
		for _, call := range f.facts.Calls {
			push(s.model.moduleFile(s, call.Target))
		}
		for _, mod := range f.facts.Modules {
			for _, imp := range mod.Imports {
				if imp.Kind == importFile {
					push(s.model.moduleFile(s, imp.Target))
				}
			}
		}
	}
	sort.Strings(queue)
	return queue
}

// sharedModules are the root flake's modules that define no outputs of
// their own: shared set-up (pkgs, systems, formatters) every component's
// evaluation needs.
func (s *Snapshot) sharedModules() []string {
	fl := s.model.rootFlake(s)
	if fl == nil {
		return nil
	}
	var out []string
	for _, rm := range fl.modules {
		if len(s.model.defsIn[rm.id.file]) == 0 {
			out = append(out, rm.id.file)
		}
	}
	return out
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
	fl := s.model.rootFlake(s)
	return fl != nil && len(s.model.defs[outputKey{fl.id, perSystemCategories[category], category, name}]) > 0
}
