package lsp

import (
	"context"
	"strings"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// quickFix is the kind of every code action the server offers.
const quickFix = "quickfix"

// codeAction is the protocol's CodeAction with an edit that may create
// files, which the protocol package's WorkspaceEdit cannot express.
type codeAction struct {
	Title       string                `json:"title"`
	Kind        string                `json:"kind"`
	Diagnostics []protocol.Diagnostic `json:"diagnostics"`
	IsPreferred bool                  `json:"isPreferred,omitempty"`
	Edit        *workspaceEdit        `json:"edit,omitempty"`
	Command     *protocol.Command     `json:"command,omitempty"`
}

// workspaceEdit is WorkspaceEdit whose documentChanges may hold resource
// operations (CreateFile) as well as text document edits.
type workspaceEdit struct {
	Changes         map[protocol.DocumentURI][]protocol.TextEdit `json:"changes,omitempty"`
	DocumentChanges []any                                        `json:"documentChanges,omitempty"`
}

// codeAction offers the fixes of the diagnostics on the lines of the
// request's range (see analysis.Actions), each carrying the diagnostics
// it fixes.
func (s *server) codeAction(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.CodeActionParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	out := []codeAction{}
	if !kindWanted(p.Context.Only, quickFix) {
		return out, nil
	}
	v, ok, err := s.viewOf(ctx, p.TextDocument.URI)
	if !ok || err != nil {
		return out, err
	}
	span := syntax.Span{Start: toOffset(v.lines, p.Range.Start), End: toOffset(v.lines, p.Range.End)}
	for _, a := range analysis.Actions(v.snap, v.path, span) {
		if ca, ok := s.toCodeAction(v.snap, a, p.Context.Diagnostics); ok {
			out = append(out, ca)
		}
	}
	return out, nil
}

// kindWanted applies a request's `only` filter: a kind is wanted when no
// filter is given, or it is a filter's kind or below it (quickfix is
// below quickfix, not below refactor).
func kindWanted(only []protocol.CodeActionKind, kind string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if k := string(o); k == kind || strings.HasPrefix(kind, k+".") {
			return true
		}
	}
	return false
}

func (s *server) toCodeAction(snap *analysis.Snapshot, a analysis.Action, sent []protocol.Diagnostic) (codeAction, bool) {
	ca := codeAction{Title: a.Title, Kind: quickFix, IsPreferred: a.Preferred, Diagnostics: fixedDiagnostics(snap, a.Fixes, sent)}
	switch {
	case a.GitAdd != "":
		ca.Command = &protocol.Command{Title: a.Title, Command: CommandGitAdd, Arguments: []any{string(pathToURI(a.GitAdd))}}
	case a.Create != nil:
		if !s.client.Load().createFiles {
			// Creating a file needs the client's resource operations.
			return ca, false
		}
		uri := pathToURI(a.Create.Path)
		ca.Edit = &workspaceEdit{DocumentChanges: []any{
			protocol.CreateFile{Kind: "create", URI: uri, Options: &protocol.CreateFileOptions{IgnoreIfExists: true}},
			protocol.TextDocumentEdit{
				TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}},
				Edits:        []protocol.TextEdit{{NewText: a.Create.Text}},
			},
		}}
	default:
		ca.Edit = &workspaceEdit{Changes: s.textEdits(snap, a.Edits)}
	}
	return ca, true
}

// fixedDiagnostics are the diagnostics an action fixes, as the client sent
// them when it did (clients match them by value), else as published.
func fixedDiagnostics(snap *analysis.Snapshot, fixes []analysis.Diagnostic, sent []protocol.Diagnostic) []protocol.Diagnostic {
	out := make([]protocol.Diagnostic, 0, len(fixes))
	for _, d := range fixes {
		ours := toDiagnostics(linesOf(snap, d.Loc.File), []analysis.Diagnostic{d})[0]
		for _, c := range sent {
			if code, _ := c.Code.(string); code == d.Code && c.Range == ours.Range {
				ours = c
				break
			}
		}
		out = append(out, ours)
	}
	return out
}

// textEdits converts the model's edits, by file, to the protocol's, by the
// URI the client knows each file by.
func (s *server) textEdits(snap *analysis.Snapshot, edits map[string][]analysis.TextEdit) map[protocol.DocumentURI][]protocol.TextEdit {
	out := make(map[protocol.DocumentURI][]protocol.TextEdit, len(edits))
	for file, fileEdits := range edits {
		uri := pathToURI(file)
		if d := s.session.Document(file); d != nil {
			uri = d.uri
		}
		lines := linesOf(snap, file)
		converted := make([]protocol.TextEdit, 0, len(fileEdits))
		for _, e := range fileEdits {
			converted = append(converted, protocol.TextEdit{Range: toRange(lines, e.Span), NewText: e.NewText})
		}
		out[uri] = converted
	}
	return out
}
