package lsp

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis/analysistest"
)

// Marker tests: each testdata/*.txtar archive is a small repository whose
// Nix comments say what the server must answer, so a new case is a few
// lines of data. Every file is opened in the editor, and every request
// goes over the protocol, positions in UTF-16 as a client computes them.
//
//	# @mark(ID, "needle")        ID is the identifier (or the whole needle, for
//	                             paths) where needle first occurs on this line
//	# @def(FROM, TO)             definition at FROM is exactly TO (or file:PATH)
//	# @refs(ID, A, B, ...)       references at ID, declarations included
//	# @hover(ID, "text")         the hover at ID contains text
//	# @complete(ID, L1, L2, ...) completion at the end of ID offers these labels
//	# @rename(ID, NEW, A, B...)  renaming at ID to NEW edits exactly A, B, ...
//	# @norename(ID, NEW, "text") renaming at ID to NEW is refused with a message holding text
//	# @noprepare(ID, "text")     prepareRename at ID is refused with a message holding text
//	# @diag(code, "needle")      a diagnostic with this code starts at needle
//
// The published diagnostics must be exactly those the @diag markers expect.

var knownDirectives = map[string]bool{
	"mark": true, "def": true, "refs": true, "hover": true, "complete": true,
	"rename": true, "norename": true, "noprepare": true, "diag": true,
}

// mark is a marked range of a fixture file.
type mark struct {
	path       string
	start, end protocol.Position
}

type directive struct {
	name string
	args []string
	at   mark // where a @diag is expected
}

type fixture struct {
	root       string
	files      map[string]string // path -> content
	marks      map[string]mark
	directives []directive
}

func TestMarkers(t *testing.T) {
	archives, err := filepath.Glob("testdata/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, archives)
	for _, archive := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(archive), ".txtar"), func(t *testing.T) {
			fx := loadFixture(t, archive)
			c := newTestClient(t, Options{})
			c.initialize(nil, fx.root)
			for _, p := range sortedKeys(fx.files) {
				if strings.HasSuffix(p, ".nix") {
					c.open(p)
				}
			}
			for _, d := range fx.directives {
				t.Run(d.name+"("+strings.Join(d.args, ",")+")", func(t *testing.T) { fx.check(t, c, d) })
			}
			fx.checkDiagnostics(t, c)
			require.NoError(t, c.shutdown())
		})
	}
}

func (fx *fixture) mark(t *testing.T, id string) mark {
	t.Helper()
	m, ok := fx.marks[id]
	require.True(t, ok, "unknown mark %s", id)
	return m
}

func (fx *fixture) position(t *testing.T, id string) protocol.TextDocumentPositionParams {
	m := fx.mark(t, id)
	return protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(m.path)}, Position: m.start}
}

func (fx *fixture) location(t *testing.T, id string) protocol.Location {
	if rel, ok := strings.CutPrefix(id, "file:"); ok {
		return protocol.Location{URI: pathToURI(filepath.Join(fx.root, rel))}
	}
	m := fx.mark(t, id)
	return protocol.Location{URI: pathToURI(m.path), Range: protocol.Range{Start: m.start, End: m.end}}
}

func (fx *fixture) check(t *testing.T, c *testClient, d directive) {
	switch d.name {
	case "def":
		var got []protocol.Location
		c.mustCall("textDocument/definition", protocol.DefinitionParams{TextDocumentPositionParams: fx.position(t, d.args[0])}, &got)
		require.Equal(t, []protocol.Location{fx.location(t, d.args[1])}, got)
	case "refs":
		var got []protocol.Location
		c.mustCall("textDocument/references", protocol.ReferenceParams{
			TextDocumentPositionParams: fx.position(t, d.args[0]),
			Context:                    protocol.ReferenceContext{IncludeDeclaration: true},
		}, &got)
		var want []protocol.Location
		for _, id := range d.args[1:] {
			want = append(want, fx.location(t, id))
		}
		require.ElementsMatch(t, want, got)
	case "hover":
		var got protocol.Hover
		c.mustCall("textDocument/hover", protocol.HoverParams{TextDocumentPositionParams: fx.position(t, d.args[0])}, &got)
		require.Contains(t, got.Contents.Value, d.args[1])
		m := fx.mark(t, d.args[0])
		require.Equal(t, &protocol.Range{Start: m.start, End: m.end}, got.Range, "the hover covers the name")
	case "complete":
		pos := fx.position(t, d.args[0])
		pos.Position = fx.mark(t, d.args[0]).end
		var got protocol.CompletionList
		c.mustCall("textDocument/completion", protocol.CompletionParams{TextDocumentPositionParams: pos}, &got)
		var labels []string
		for _, it := range got.Items {
			labels = append(labels, it.Label)
			require.NotNil(t, it.TextEdit)
			require.Equal(t, pos.Position, it.TextEdit.Range.End, "the edit ends at the cursor")
		}
		require.Subset(t, labels, d.args[1:])
	case "rename":
		var prep prepareRenameResult
		c.mustCall("textDocument/prepareRename", protocol.PrepareRenameParams{TextDocumentPositionParams: fx.position(t, d.args[0])}, &prep)
		require.Equal(t, fx.location(t, d.args[0]).Range, prep.Range)
		require.NotEmpty(t, prep.Placeholder)
		var got protocol.WorkspaceEdit
		c.mustCall("textDocument/rename", protocol.RenameParams{TextDocumentPositionParams: fx.position(t, d.args[0]), NewName: d.args[1]}, &got)
		var gotLocs, want []protocol.Location
		for uri, edits := range got.Changes {
			for _, e := range edits {
				require.Equal(t, d.args[1], e.NewText)
				gotLocs = append(gotLocs, protocol.Location{URI: uri, Range: e.Range})
			}
		}
		for _, id := range d.args[2:] {
			want = append(want, fx.location(t, id))
		}
		require.ElementsMatch(t, want, gotLocs)
	case "noprepare":
		err := c.call("textDocument/prepareRename", protocol.PrepareRenameParams{TextDocumentPositionParams: fx.position(t, d.args[0])}, nil)
		require.Equal(t, codeRequestFailed, rpcCode(t, err))
		require.Contains(t, err.Error(), d.args[1])
	case "norename":
		err := c.call("textDocument/rename", protocol.RenameParams{TextDocumentPositionParams: fx.position(t, d.args[0]), NewName: d.args[1]}, nil)
		require.Error(t, err)
		require.Equal(t, codeRequestFailed, rpcCode(t, err))
		require.Contains(t, err.Error(), d.args[2])
	}
}

// checkDiagnostics waits until the published diagnostics are exactly the
// expected ones.
func (fx *fixture) checkDiagnostics(t *testing.T, c *testClient) {
	want := map[string]bool{}
	for _, d := range fx.directives {
		if d.name == "diag" {
			want[diagKey(pathToURI(d.at.path), d.args[0], d.at.start)] = true
		}
	}
	var got map[string]bool
	deadline := func() bool {
		got = map[string]bool{}
		for uri, p := range c.diags {
			for _, d := range p.Diagnostics {
				code, _ := d.Code.(string)
				got[diagKey(uri, code, d.Range.Start)] = true
			}
		}
		return fmt.Sprint(sortedKeys(got)) == fmt.Sprint(sortedKeys(want))
	}
	c.t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("want diagnostics %v\ngot %v", sortedKeys(want), sortedKeys(got))
		}
	}()
	c.waitFor("the expected diagnostics", deadline)
}

func diagKey(uri protocol.DocumentURI, code string, at protocol.Position) string {
	return fmt.Sprintf("%s@%s:%d:%d", code, uri, at.Line, at.Character)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// loadFixture writes an archive to a temp dir and reads its directives.
func loadFixture(t *testing.T, archive string) *fixture {
	root, files := analysistest.WriteArchive(t, archive)
	fx := &fixture{root: root, files: files, marks: map[string]mark{}}
	for _, p := range sortedKeys(fx.files) {
		fx.readDirectives(t, p)
	}
	return fx
}

func (fx *fixture) readDirectives(t *testing.T, p string) {
	src := fx.files[p]
	for _, d := range analysistest.Directives(src) {
		if !knownDirectives[d.Name] {
			continue
		}
		find := func(needle string) mark {
			start, end, ok := d.Find(needle)
			require.True(t, ok, "%s: %q is not on the line %q", p, needle, d.Code)
			return mark{path: p, start: lspPosition(src, start), end: lspPosition(src, end)}
		}
		switch d.Name {
		case "mark":
			fx.marks[d.Args[0]] = find(d.Args[1])
		case "diag":
			fx.directives = append(fx.directives, directive{name: "diag", args: d.Args, at: find(d.Args[1])})
		default:
			fx.directives = append(fx.directives, directive{name: d.Name, args: d.Args})
		}
	}
}
