package analysis

import (
	"path/filepath"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Link is a path literal that names an existing file or folder.
type Link struct {
	Span   syntax.Span
	Target string
}

// Links returns the path literals of a file whose targets exist.
func Links(s *Snapshot, file string) []Link {
	f := s.files[filepath.Clean(file)]
	if f == nil || f.facts == nil {
		return nil
	}
	var out []Link
	for _, p := range f.facts.Paths {
		if p.FromSelf {
			continue
		}
		target := p.Target
		if p.Import {
			target = s.model.moduleFile(s, target)
		}
		if isUnder(target, s.Root) && s.fs.Exists(target) {
			out = append(out, Link{Span: p.Span, Target: target})
		}
	}
	return out
}

// Lens marks a devShell definition: the component it belongs to and its
// name, so an editor can show and act on the component's environment.
type Lens struct {
	Span      syntax.Span
	Component string
	Shell     string
	// Primary is set when this shell is the component's devShell (the one
	// `monoflake env` and direnv load).
	Primary bool
}

// DevShellLenses returns a Lens per devShell a file defines.
func DevShellLenses(s *Snapshot, file string) []Lens {
	var out []Lens
	for _, o := range s.model.defsIn[filepath.Clean(file)] {
		if o.Category != DevShells {
			continue
		}
		l := Lens{Span: o.Def.Span, Component: o.Component, Shell: o.Name}
		if c := s.model.byName[o.Component]; c != nil {
			shell, ok := s.ShellFor(c)
			l.Primary = ok && shell == o.Name
		}
		out = append(out, l)
	}
	return out
}
