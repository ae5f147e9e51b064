package analysis

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/analysistest"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// Marker tests: each archive is a small repository whose Nix comments carry
// expectations (see analysistest for the directives). The same archives run
// through the language server in package lsp.
func TestMarkers(t *testing.T) {
	analysistest.Run(t, func(t *testing.T, root string, files map[string]string) analysistest.Backend {
		s, err := Load(context.Background(), root)
		require.NoError(t, err)
		return modelBackend{s, files}
	}, "testdata/*.txtar", "../lsp/testdata/*.txtar")
}

// modelBackend answers the directives from a Snapshot directly; files are
// the fixture's texts.
type modelBackend struct {
	s     *Snapshot
	files map[string]string
}

func toSpan(l Location) analysistest.Span {
	if l.Span == (syntax.Span{}) {
		return analysistest.Span{File: l.File, Start: -1, End: -1}
	}
	return analysistest.Span{File: l.File, Start: l.Span.Start, End: l.Span.End}
}

func toSpans(ls []Location) []analysistest.Span {
	var out []analysistest.Span
	for _, l := range ls {
		out = append(out, toSpan(l))
	}
	return out
}

func (b modelBackend) Definition(at analysistest.Span) []analysistest.Span {
	return toSpans(Definition(b.s, at.File, at.Start))
}

func (b modelBackend) References(at analysistest.Span) []analysistest.Span {
	return toSpans(References(b.s, at.File, at.Start, true))
}

func (b modelBackend) Hover(at analysistest.Span) (string, analysistest.Span, bool) {
	h, ok := Hover(b.s, at.File, at.Start)
	return h.Markdown, analysistest.Span{File: at.File, Start: h.Span.Start, End: h.Span.End}, ok
}

func (b modelBackend) Complete(at analysistest.Span) []string {
	var labels []string
	for _, it := range Complete(b.s, at.File, at.End) {
		labels = append(labels, it.Label)
	}
	return labels
}

func (b modelBackend) PrepareRename(at analysistest.Span) (analysistest.Span, error) {
	span, _, err := PrepareRename(b.s, at.File, at.Start)
	return analysistest.Span{File: at.File, Start: span.Start, End: span.End}, err
}

func (b modelBackend) Rename(at analysistest.Span, newName string) ([]analysistest.Edit, error) {
	edits, err := Rename(b.s, at.File, at.Start, newName)
	var out []analysistest.Edit
	for file, es := range edits {
		for _, e := range es {
			out = append(out, analysistest.Edit{Span: analysistest.Span{File: file, Start: e.Span.Start, End: e.Span.End}, Text: e.NewText})
		}
	}
	return out, err
}

func (b modelBackend) Actions(at analysistest.Span) []analysistest.Action {
	var out []analysistest.Action
	for _, a := range Actions(b.s, at.File, syntax.Span{Start: at.Start, End: at.End}) {
		files := map[string]string{}
		for file, edits := range a.Edits {
			files[file] = string(ApplyEdits([]byte(b.files[file]), edits))
		}
		if a.Create != nil {
			files[a.Create.Path] = a.Create.Text
		}
		out = append(out, analysistest.Action{Title: a.Title, Files: files})
	}
	return out
}

func (b modelBackend) Diagnostics([]analysistest.Diagnostic) []analysistest.Diagnostic {
	var out []analysistest.Diagnostic
	for _, d := range b.s.AllDiagnostics() {
		out = append(out, analysistest.Diagnostic{File: d.Loc.File, Start: d.Loc.Span.Start, Code: d.Code, Severity: d.Severity.String(), Message: d.Message})
	}
	return out
}
