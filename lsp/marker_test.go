package lsp

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis/analysistest"
)

// Marker tests over the protocol: the archives of package analysis and of
// this package (see analysistest for the directives), every file opened in
// the editor and every request sent with positions in UTF-16, as a client
// computes them.
func TestMarkers(t *testing.T) {
	analysistest.Run(t, func(t *testing.T, root string, files map[string]string) analysistest.Backend {
		c := newTestClient(t, Options{})
		c.initialize(nil, root)
		for _, p := range sortedKeys(files) {
			if strings.HasSuffix(p, ".nix") {
				c.open(p)
			}
		}
		t.Cleanup(func() { require.NoError(t, c.shutdown()) })
		return &protocolBackend{t: t, c: c, files: files}
	}, "testdata/*.txtar", "../analysis/testdata/*.txtar")
}

// protocolBackend answers the directives through a real server session.
type protocolBackend struct {
	t     *testing.T
	c     *testClient
	files map[string]string
}

func (b *protocolBackend) position(at analysistest.Span) protocol.TextDocumentPositionParams {
	return protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(at.File)}, Position: lspPosition(b.files[at.File], at.Start)}
}

// offset converts a protocol position back into a byte offset of file.
func (b *protocolBackend) offset(file string, pos protocol.Position) int {
	return byteOffset(b.files[file], pos)
}

// byteOffset converts a protocol position (UTF-16 columns) into a byte
// offset of src without the server's code.
func byteOffset(src string, pos protocol.Position) int {
	start := 0
	for line := uint32(0); line < pos.Line; line++ {
		i := strings.IndexByte(src[start:], '\n')
		if i < 0 {
			return len(src)
		}
		start += i + 1
	}
	units := 0
	for i, r := range src[start:] {
		if units >= int(pos.Character) || r == '\n' {
			return start + i
		}
		units += len(utf16.Encode([]rune{r}))
	}
	return len(src)
}

func (b *protocolBackend) span(uri protocol.DocumentURI, r protocol.Range) analysistest.Span {
	file, err := uriToPath(uri)
	require.NoError(b.t, err)
	if r == (protocol.Range{}) {
		return analysistest.Span{File: file, Start: -1, End: -1}
	}
	return analysistest.Span{File: file, Start: b.offset(file, r.Start), End: b.offset(file, r.End)}
}

func (b *protocolBackend) spans(locs []protocol.Location) []analysistest.Span {
	var out []analysistest.Span
	for _, l := range locs {
		out = append(out, b.span(l.URI, l.Range))
	}
	return out
}

func (b *protocolBackend) Definition(at analysistest.Span) []analysistest.Span {
	var got []protocol.Location
	b.c.mustCall("textDocument/definition", protocol.DefinitionParams{TextDocumentPositionParams: b.position(at)}, &got)
	return b.spans(got)
}

func (b *protocolBackend) References(at analysistest.Span) []analysistest.Span {
	var got []protocol.Location
	b.c.mustCall("textDocument/references", protocol.ReferenceParams{
		TextDocumentPositionParams: b.position(at),
		Context:                    protocol.ReferenceContext{IncludeDeclaration: true},
	}, &got)
	return b.spans(got)
}

func (b *protocolBackend) Hover(at analysistest.Span) (string, analysistest.Span, bool) {
	var got *protocol.Hover
	b.c.mustCall("textDocument/hover", protocol.HoverParams{TextDocumentPositionParams: b.position(at)}, &got)
	if got == nil || got.Range == nil {
		return "", analysistest.Span{}, got != nil
	}
	return got.Contents.Value, b.span(pathToURI(at.File), *got.Range), true
}

func (b *protocolBackend) Complete(at analysistest.Span) []string {
	pos := b.position(at)
	pos.Position = lspPosition(b.files[at.File], at.End)
	var got protocol.CompletionList
	b.c.mustCall("textDocument/completion", protocol.CompletionParams{TextDocumentPositionParams: pos}, &got)
	var labels []string
	for _, it := range got.Items {
		labels = append(labels, it.Label)
		require.NotNil(b.t, it.TextEdit)
		require.Equal(b.t, pos.Position, it.TextEdit.Range.End, "the edit ends at the cursor")
	}
	return labels
}

func (b *protocolBackend) PrepareRename(at analysistest.Span) (analysistest.Span, error) {
	var prep prepareRenameResult
	if err := b.c.call("textDocument/prepareRename", protocol.PrepareRenameParams{TextDocumentPositionParams: b.position(at)}, &prep); err != nil {
		require.Equal(b.t, codeRequestFailed, rpcCode(b.t, err), "a refusal is a RequestFailed error")
		return analysistest.Span{}, err
	}
	require.NotEmpty(b.t, prep.Placeholder)
	return b.span(pathToURI(at.File), prep.Range), nil
}

func (b *protocolBackend) Rename(at analysistest.Span, newName string) ([]analysistest.Edit, error) {
	var got protocol.WorkspaceEdit
	if err := b.c.call("textDocument/rename", protocol.RenameParams{TextDocumentPositionParams: b.position(at), NewName: newName}, &got); err != nil {
		require.Equal(b.t, codeRequestFailed, rpcCode(b.t, err), "a refusal is a RequestFailed error")
		return nil, err
	}
	var out []analysistest.Edit
	for uri, edits := range got.Changes {
		for _, e := range edits {
			out = append(out, analysistest.Edit{Span: b.span(uri, e.Range), Text: e.NewText})
		}
	}
	return out, nil
}

// Actions asks for the code actions at a position, with the diagnostics
// published on its line as the context (as editors send them), checks that
// each is a quick fix carrying the diagnostics it fixes, and applies its
// edit to the fixture's texts.
func (b *protocolBackend) Actions(at analysistest.Span) []analysistest.Action {
	pos := b.position(at)
	params := protocol.CodeActionParams{
		TextDocument: pos.TextDocument,
		Range:        protocol.Range{Start: pos.Position, End: lspPosition(b.files[at.File], at.End)},
	}
	b.c.mu.Lock()
	for _, d := range b.c.diags[pos.TextDocument.URI].Diagnostics {
		if d.Range.Start.Line <= pos.Position.Line && pos.Position.Line <= d.Range.End.Line {
			params.Context.Diagnostics = append(params.Context.Diagnostics, d)
		}
	}
	b.c.mu.Unlock()
	var got []codeAction
	b.c.mustCall("textDocument/codeAction", params, &got)
	var out []analysistest.Action
	for _, a := range got {
		require.Equal(b.t, quickFix, a.Kind, a.Title)
		require.NotEmpty(b.t, a.Diagnostics, "%s carries the diagnostics it fixes", a.Title)
		out = append(out, analysistest.Action{Title: a.Title, Files: b.applyEdit(a.Edit)})
	}
	return out
}

// applyEdit returns the texts of the files a workspace edit changes or
// creates, after it.
func (b *protocolBackend) applyEdit(we *workspaceEdit) map[string]string {
	files := map[string]string{}
	if we == nil {
		return files
	}
	apply := func(uri protocol.DocumentURI, edits []protocol.TextEdit) {
		file, err := uriToPath(uri)
		require.NoError(b.t, err)
		text, ok := files[file]
		if !ok {
			text = b.files[file]
		}
		var converted []analysistest.Edit
		for _, e := range edits {
			start, end := byteOffset(text, e.Range.Start), byteOffset(text, e.Range.End)
			converted = append(converted, analysistest.Edit{Span: analysistest.Span{File: file, Start: start, End: end}, Text: e.NewText})
		}
		files[file] = analysistest.ApplyEdits(text, file, converted)
	}
	for uri, edits := range we.Changes {
		apply(uri, edits)
	}
	for _, raw := range we.DocumentChanges {
		data, err := json.Marshal(raw)
		require.NoError(b.t, err)
		var change struct {
			Kind         string               `json:"kind"`
			URI          protocol.DocumentURI `json:"uri"`
			TextDocument struct {
				URI string `json:"uri"`
			} `json:"textDocument"`
			Edits []protocol.TextEdit `json:"edits"`
		}
		require.NoError(b.t, json.Unmarshal(data, &change))
		switch change.Kind {
		case "create":
			file, err := uriToPath(change.URI)
			require.NoError(b.t, err)
			_, exists := b.files[file]
			require.False(b.t, exists, "%s is created but exists", file)
			files[file] = ""
		case "":
			apply(protocol.DocumentURI(change.TextDocument.URI), change.Edits)
		default:
			b.t.Fatalf("unexpected resource operation %q", change.Kind)
		}
	}
	return files
}

// Diagnostics waits until the published diagnostics are the expected ones
// (they arrive asynchronously) or the wait times out, and returns the last
// ones published.
func (b *protocolBackend) Diagnostics(want []analysistest.Diagnostic) []analysistest.Diagnostic {
	key := func(file string, start int, code string) string { return fmt.Sprintf("%s:%d:%s", file, start, code) }
	var wantKeys []string
	for _, d := range want {
		wantKeys = append(wantKeys, key(d.File, d.Start, d.Code))
	}
	sort.Strings(wantKeys)
	deadline := time.Now().Add(testTimeout)
	for {
		var got []analysistest.Diagnostic
		var gotKeys []string
		b.c.mu.Lock()
		for uri, p := range b.c.diags {
			for _, d := range p.Diagnostics {
				code, _ := d.Code.(string)
				s := b.span(uri, d.Range)
				got = append(got, analysistest.Diagnostic{File: s.File, Start: max(s.Start, 0), Code: code, Severity: severityName(d.Severity), Message: d.Message})
				gotKeys = append(gotKeys, key(s.File, max(s.Start, 0), code))
			}
		}
		b.c.mu.Unlock()
		sort.Strings(gotKeys)
		if fmt.Sprint(gotKeys) == fmt.Sprint(wantKeys) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func severityName(s protocol.DiagnosticSeverity) string {
	switch s {
	case protocol.DiagnosticSeverityError:
		return "error"
	case protocol.DiagnosticSeverityWarning:
		return "warning"
	case protocol.DiagnosticSeverityInformation:
		return "info"
	}
	return "hint"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
