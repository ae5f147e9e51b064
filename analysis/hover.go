package analysis

import (
	"fmt"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// HoverInfo describes what is under the cursor, as Markdown.
type HoverInfo struct {
	Span     syntax.Span
	Markdown string
	// Output is the output hovered, when it resolves to one; callers that
	// know more (the evaluation cache) add to the text.
	Output *Output
}

// Hover describes the output or path at offset: its category, name,
// defining component and file.
func Hover(s *Snapshot, file string, offset int) (HoverInfo, bool) {
	ref, def := s.at(file, offset)
	switch {
	case def != nil:
		return HoverInfo{Span: def.Def.Span, Markdown: s.describe(def, 0), Output: def}, true
	case ref == nil:
		return HoverInfo{}, false
	case ref.Kind != OutputRef:
		what := "file"
		if ref.Kind == ImportRef {
			what = "imported module"
		}
		target := moduleFile(ref.Target)
		md := fmt.Sprintf("%s `%s`", what, relPath(s.Root, target))
		if c := s.ComponentOf(target); c != nil {
			md += fmt.Sprintf(" (component `%s`)", c.Name)
		}
		return HoverInfo{Span: ref.Loc.Span, Markdown: md}, true
	}
	defs, _, known := s.model.lookup(s, *ref)
	if len(defs) == 0 {
		md := fmt.Sprintf("**%s.%s**\n\n", ref.Category, ref.Name)
		if known {
			md += "No component defines this output."
		} else {
			md += "Defined dynamically or outside this repository."
		}
		return HoverInfo{Span: ref.Loc.Span, Markdown: md}, true
	}
	return HoverInfo{Span: ref.Loc.Span, Markdown: s.describe(defs[0], len(defs)-1), Output: defs[0]}, true
}

func (s *Snapshot) describe(o *Output, more int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s.%s**", o.Category, o.Name)
	if o.FlakeOnly {
		b.WriteString(" (flake output")
		if o.System != "" {
			fmt.Fprintf(&b, " for %s", o.System)
		}
		b.WriteString(")")
	}
	line := 0
	if f := s.files[o.Def.File]; f != nil && f.Lines() != nil {
		line, _ = f.Lines().Position(o.Def.Span.Start)
	}
	fmt.Fprintf(&b, "\n\nDefined by component `%s` in `%s:%d`.", o.Component, relPath(s.Root, o.Def.File), line+1)
	if more > 0 {
		fmt.Fprintf(&b, " Also defined in %d other place(s).", more)
	}
	if c := s.model.byName[o.Component]; c != nil && o.Category == DevShells {
		if shell, ok := s.ShellFor(c); ok && shell == o.Name {
			fmt.Fprintf(&b, "\n\nThe devShell of component `%s`.", c.Name)
		}
	}
	return b.String()
}
