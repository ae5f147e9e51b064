package analysis

import "sort"

// Definition returns where the thing at offset is defined: the output a
// reference names (in whichever component defines it), the file a path
// or import names, or the definition itself when offset is on one.
func Definition(s *Snapshot, file string, offset int) []Location {
	ref, def := s.at(file, offset)
	switch {
	case def != nil:
		return []Location{def.Def}
	case ref == nil:
		return nil
	case ref.Kind == ImportRef:
		return []Location{{File: moduleFile(ref.Target)}}
	case ref.Kind == FileRef:
		return []Location{{File: ref.Target}}
	}
	defs, _, _ := s.model.lookup(s, *ref)
	out := make([]Location, 0, len(defs))
	for _, d := range defs {
		out = append(out, d.Def)
	}
	return out
}

// References returns every reference to the output at offset (a reference
// or a definition), across all components, sorted by file and position;
// with includeDecl the definitions come too.
func References(s *Snapshot, file string, offset int, includeDecl bool) []Location {
	ref, def := s.at(file, offset)
	key, ok := s.keyOf(ref, def)
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
