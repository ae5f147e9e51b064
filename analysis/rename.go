package analysis

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// TextEdit replaces a span of a file with new text.
type TextEdit struct {
	Span    syntax.Span
	NewText string
}

// ErrCannotRename is wrapped by the errors PrepareRename and Rename return
// when the name at the position cannot be renamed safely.
var ErrCannotRename = errors.New("cannot rename")

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_'-]*$`)

// PrepareRename reports the span and current name of the output at offset,
// or why it cannot be renamed.
func PrepareRename(s *Snapshot, file string, offset int) (syntax.Span, string, error) {
	t, f := s.at(file, offset)
	if f == nil {
		return syntax.Span{}, "", fmt.Errorf("%w: there is no flake output at this position", ErrCannotRename)
	}
	key, ok := s.keyOf(f.Path, t)
	if !ok || key.name == "" {
		return syntax.Span{}, "", fmt.Errorf("%w: there is no flake output at this position", ErrCannotRename)
	}
	if len(s.model.defs[key]) == 0 {
		if c := s.model.cats[catKey{key.flake, key.perSys, key.category}]; c != nil && !c.closed || !s.model.flakeClosed(key.flake) {
			return syntax.Span{}, "", fmt.Errorf("%w: %s.%s is produced dynamically (its name is computed), so its definition cannot be edited", ErrCannotRename, key.category, key.name)
		}
		return syntax.Span{}, "", fmt.Errorf("%w: no component defines %s.%s", ErrCannotRename, key.category, key.name)
	}
	for _, d := range s.model.defs[key] {
		if d.listed {
			return syntax.Span{}, "", fmt.Errorf("%w: %s.%s is produced dynamically (its name is a string given to a function), so its definition cannot be edited as a name", ErrCannotRename, key.category, key.name)
		}
	}
	if t.def != nil {
		return t.def.Def.Span, t.def.Name, nil
	}
	r := f.facts.Refs[t.ref]
	return r.Span, r.Name, nil
}

// Rename renames the output at offset and every reference to it, across
// all components, returning the edits per file. It refuses names that are
// computed, invalid or already taken.
func Rename(s *Snapshot, file string, offset int, newName string) (map[string][]TextEdit, error) {
	if _, _, err := PrepareRename(s, file, offset); err != nil {
		return nil, err
	}
	t, f := s.at(file, offset)
	key, _ := s.keyOf(f.Path, t)
	if !validName.MatchString(newName) {
		return nil, fmt.Errorf("%w: %q is not a valid attribute name", ErrCannotRename, newName)
	}
	if newName == key.name {
		return map[string][]TextEdit{}, nil
	}
	if others := s.model.defs[outputKey{key.flake, key.perSys, key.category, newName}]; len(others) > 0 {
		o := others[0]
		return nil, fmt.Errorf("%w: %s.%s already exists (defined by component %s)", ErrCannotRename, key.category, newName, o.Component)
	}
	edits := map[string][]TextEdit{}
	for _, d := range s.model.defs[key] {
		edits[d.Def.File] = append(edits[d.Def.File], TextEdit{Span: d.Def.Span, NewText: newName})
	}
	for _, loc := range s.model.refsTo[key] {
		edits[loc.File] = append(edits[loc.File], TextEdit{Span: loc.Span, NewText: newName})
	}
	return edits, nil
}
