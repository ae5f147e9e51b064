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
	t, f := s.at(file, offset)
	switch {
	case t.def != nil:
		return HoverInfo{Span: t.def.Def.Span, Markdown: s.describe(t.def, 0), Output: t.def}, true
	case t.path != nil:
		if t.path.FromSelf {
			return HoverInfo{}, false
		}
		what := "file"
		target := t.path.Target
		if t.path.Import {
			what = "imported module"
			target = s.model.moduleFile(s, target)
		}
		md := fmt.Sprintf("%s `%s`", what, relPath(s.Root, target))
		if c := s.ComponentOf(target); c != nil {
			md += fmt.Sprintf(" (component `%s`)", c.Name)
		}
		return HoverInfo{Span: t.path.Span, Markdown: md}, true
	case t.input != nil:
		return HoverInfo{Span: t.input.Span, Markdown: fmt.Sprintf("flake input `%s`", t.input.Name)}, true
	case t.ref < 0:
		return HoverInfo{}, false
	}
	r := f.facts.Refs[t.ref]
	res := s.model.lookup(f.Path, t.ref)
	var defs []*Output
	for _, d := range res.defs {
		if !d.isCategory {
			defs = append(defs, d)
		}
	}
	if len(defs) == 0 {
		md := fmt.Sprintf("**%s.%s**\n\n", r.Category, r.Name)
		if r.Name == "" {
			md = fmt.Sprintf("**%s**\n\n", r.Category)
		}
		c := s.model.cats[catKey{res.key.flake, res.key.perSys, res.key.category}]
		switch {
		case res.key.category == "":
			md += "Defined outside this repository, or not known to the model."
		case res.known && s.model.flakeClosed(res.key.flake) && (c == nil || c.closed):
			md += "No component defines this output."
		default:
			md += "Defined dynamically or outside this repository."
		}
		return HoverInfo{Span: r.Span, Markdown: md}, true
	}
	return HoverInfo{Span: r.Span, Markdown: s.describe(defs[0], len(defs)-1), Output: defs[0]}, true
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
