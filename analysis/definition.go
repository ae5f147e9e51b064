package analysis

import (
	"path/filepath"
	"sort"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Definition returns where the thing at offset is defined: the output a
// reference names (in whichever component defines it; for a generated
// name, the expression generating it and the directory entry it comes
// from), the declaration of an input, the file a path names, the binding
// of the package set a callPackage'd file's argument comes from, or the
// definition itself when offset is on one.
func Definition(s *Snapshot, file string, offset int) []Location {
	t, f := s.at(file, offset)
	switch {
	case t.def != nil:
		return []Location{t.def.Def}
	case t.path != nil:
		target := t.path.Target
		if t.path.FromSelf {
			return nil
		}
		if t.path.Import {
			target = s.model.moduleFile(s, target)
		}
		return []Location{{File: target}}
	case t.input != nil:
		return s.inputDeclaration(f.Path, t.input)
	case t.formal != nil:
		return s.scopeBindings(f.Path, t.formal.Name)
	case t.ref >= 0 && t.onCategory:
		res := s.model.lookup(f.Path, t.ref)
		var out []Location
		for _, d := range s.model.defs[outputKey{res.key.flake, res.key.perSys, res.key.category, ""}] {
			out = append(out, d.Def)
		}
		return out
	case t.ref >= 0:
		return s.outputDefinition(f, t.ref)
	}
	return nil
}

// outputDefinition is where reference i of f leads.
func (s *Snapshot) outputDefinition(f *File, i int) []Location {
	r := f.facts.Refs[i]
	res := s.model.lookup(f.Path, i)
	if res.key.category == "" {
		return nil
	}
	var out []Location
	for _, d := range res.defs {
		out = append(out, d.Def)
	}
	if len(out) > 0 {
		return out
	}
	c := s.model.cats[catKey{res.key.flake, res.key.perSys, res.key.category}]
	if c != nil {
		// A generated name: the expressions generating the category, and
		// the directory entry of that name when the directory is known.
		for _, g := range c.gens {
			if key, ok := keyNamed(g.Keys, r.Name); ok {
				out = append(out, Location{File: g.Loc.File, Span: key.Span})
				continue
			}
			if len(g.Keys) > 0 {
				continue // a generator of other names
			}
			out = append(out, g.Loc)
			if g.Dir != "" && r.Name != "" {
				for _, entry := range []string{filepath.Join(g.Dir, r.Name), filepath.Join(g.Dir, r.Name+".nix")} {
					if s.fs.IsDir(entry) {
						out = append(out, Location{File: s.model.moduleFile(s, entry)})
					} else if s.fs.Listed(entry) {
						out = append(out, Location{File: entry})
					}
				}
			}
		}
	}
	if len(out) == 0 && (r.Name == "" || !perSystemCategories[res.key.category]) {
		// A custom output whose names the model did not read: where the
		// category is defined.
		for _, d := range s.model.defs[outputKey{res.key.flake, res.key.perSys, res.key.category, ""}] {
			out = append(out, d.Def)
		}
	}
	return out
}

func keyNamed(keys []nameDef, name string) (nameDef, bool) {
	for _, k := range keys {
		if k.Name == name {
			return k, true
		}
	}
	return nameDef{}, false
}

// inputDeclaration is where the flake a reference's module belongs to
// declares the input.
func (s *Snapshot) inputDeclaration(file string, in *inputRef) []Location {
	fls, _ := s.model.flakesOfRef(s, file, outputRef{Module: in.Module, Bound: in.Bound})
	var out []Location
	for _, fl := range fls {
		if decl, ok := fl.inputs[in.Name]; ok {
			out = append(out, Location{File: fl.file, Span: decl.Span})
		} else if f := s.files[fl.file]; f != nil && f.facts != nil && f.facts.Flake != nil && f.facts.Flake.InputsSpan != (syntax.Span{}) {
			// Not declared: where the flake declares its inputs.
			out = append(out, Location{File: fl.file, Span: f.facts.Flake.InputsSpan})
		}
	}
	return out
}

// scopeBindings are the bindings named like a callPackage'd file's formal
// argument in the package sets that call the file.
func (s *Snapshot) scopeBindings(file, name string) []Location {
	var out []Location
	for _, p := range s.Files() {
		g := s.files[p]
		if g.facts == nil {
			continue
		}
		for _, call := range g.facts.Calls {
			if call.Scope < 0 || s.model.moduleFile(s, call.Target) != file {
				continue
			}
			for _, n := range g.facts.Scopes[call.Scope] {
				if n.Name == name {
					out = append(out, Location{File: p, Span: n.Span})
				}
			}
		}
	}
	return out
}

// References returns every reference to the output at offset (a reference
// or a definition), across all components, sorted by file and position;
// with includeDecl the definitions come too.
func References(s *Snapshot, file string, offset int, includeDecl bool) []Location {
	t, f := s.at(file, offset)
	if f == nil {
		return nil
	}
	key, ok := s.keyOf(f.Path, t)
	if !ok {
		return nil
	}
	out := append([]Location(nil), s.model.refsTo[key]...)
	if includeDecl {
		for _, d := range s.model.defs[key] {
			out = append(out, d.Def)
		}
	}
	sortLocations(out)
	return out
}

func sortLocations(locs []Location) {
	sort.Slice(locs, func(i, j int) bool {
		if locs[i].File != locs[j].File {
			return locs[i].File < locs[j].File
		}
		return locs[i].Span.Start < locs[j].Span.Start
	})
}
