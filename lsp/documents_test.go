package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"
)

// monorepoSession opens a copy of testdata/monorepo and returns the client, the
// copy's root and the paths of backend's and frontend's modules.
func monorepoSession(t *testing.T) (c *testClient, root, backend, frontend string) {
	root = copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	c = newTestClient(t, Options{})
	c.initialize(nil, root)
	return c, root, filepath.Join(root, "backend", "nix", "outputs.nix"), filepath.Join(root, "frontend", "nix", "outputs.nix")
}

// change sends one incremental edit replacing the first occurrence of old
// in text, and returns the new text.
func change(t *testing.T, c *testClient, path, text string, version int32, old, new string) string {
	t.Helper()
	i := strings.Index(text, old)
	require.GreaterOrEqual(t, i, 0, "%q not in %s", old, path)
	rng := protocol.Range{Start: lspPosition(text, i), End: lspPosition(text, i+len(old))}
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": pathToURI(path), "version": version},
		"contentChanges": []any{map[string]any{"range": rng, "text": new}},
	})
	return text[:i] + new + text[i+len(old):]
}

func definitionAt(t *testing.T, c *testClient, path, text, needle string) []protocol.Location {
	t.Helper()
	i := strings.Index(text, needle)
	require.GreaterOrEqual(t, i, 0)
	var got []protocol.Location
	c.mustCall("textDocument/definition", protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(path)}, Position: lspPosition(text, i),
	}}, &got)
	return got
}

// A rename in backend breaks frontend's references, although frontend is
// not open; undoing it clears them again. Diagnostics of the edited file
// carry its version.
func TestDiagnosticsFollowEditsAcrossComponents(t *testing.T) {
	c, _, backend, frontend := monorepoSession(t)
	text := c.open(backend)
	c.waitDiagnostics(backend, hasCodes())

	text = change(t, c, backend, text, 2, "packages.backend =", "packages.backend2 =")
	got := c.waitDiagnostics(frontend, hasCodes("unknown-output"))
	require.Contains(t, got.Diagnostics[0].Message, "packages.backend")
	p := c.waitDiagnostics(backend, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 2 })
	// backend references its own package too.
	require.NotEmpty(t, p.Diagnostics)

	change(t, c, backend, text, 3, "packages.backend2 =", "packages.backend =")
	c.waitDiagnostics(frontend, hasCodes())
	c.waitDiagnostics(backend, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 3 && len(p.Diagnostics) == 0 })
	require.NoError(t, c.shutdown())
}

// Incremental edits with multi-byte text before the position keep the
// server's buffer and positions in step with the client's.
func TestIncrementalEditsWithNonASCII(t *testing.T) {
	c, _, backend, frontend := monorepoSession(t)
	text := c.open(frontend)
	tests := []struct{ old, new string }{
		{"# The frontend", "# 🚀🚀 火事 The frontend"},
		{"inputsFrom = [", "inputsFrom = /* 日本語 🎨 */ ["},
		{"BACKEND_BIN = \"", "BACKEND_BIN = \"後端🚀"},
		{"backend}/bin", "backend}/bín"},
	}
	for i, tt := range tests {
		text = change(t, c, frontend, text, int32(i+2), tt.old, tt.new)
		for _, needle := range []string{"backend ]", "backend}/"} {
			got := definitionAt(t, c, frontend, text, needle)
			require.Len(t, got, 1, "after edit %d, at %q", i, needle)
			require.Equal(t, pathToURI(backend), got[0].URI)
		}
	}
	// A typo typed in the middle of the multi-byte line is reported where
	// it is.
	text = change(t, c, frontend, text, 10, "devShells.backend ]", "devShells.backedn ]")
	p := c.waitDiagnostics(frontend, hasCodes("unknown-output"))
	require.Equal(t, lspPosition(text, strings.Index(text, "backedn")), p.Diagnostics[0].Range.Start)
	require.EqualValues(t, 10, p.Version)
	require.NoError(t, c.shutdown())
}

// A whole-text change (no range) replaces the buffer; closing the buffer
// brings back the file on disk.
func TestFullChangeAndClose(t *testing.T) {
	c, _, backend, frontend := monorepoSession(t)
	text := c.open(frontend)
	broken := strings.Replace(text, "self'.packages.backend}", "self'.packages.nope}", 1)
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": pathToURI(frontend), "version": 2},
		"contentChanges": []any{map[string]any{"text": broken}},
	})
	c.waitDiagnostics(frontend, hasCodes("unknown-output"))
	c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": pathToURI(frontend)}})
	c.waitDiagnostics(frontend, hasCodes())
	require.Len(t, definitionAt(t, c, frontend, text, "backend}/bin"), 1, "the disk file is indexed again")
	_ = backend
	require.NoError(t, c.shutdown())
}

// Files changed outside the editor reach the model through
// didChangeWatchedFiles; open buffers win over their files.
func TestWatchedFiles(t *testing.T) {
	c, _, backend, frontend := monorepoSession(t)
	data, err := os.ReadFile(backend)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(backend, []byte(strings.Replace(string(data), "devShells.backend =", "devShells.server =", 1)), 0o644))
	c.notify("workspace/didChangeWatchedFiles", protocol.DidChangeWatchedFilesParams{Changes: []*protocol.FileEvent{{URI: pathToURI(backend), Type: protocol.FileChangeTypeChanged}}})
	c.waitDiagnostics(frontend, hasCodes("unknown-output"))

	require.NoError(t, os.Remove(backend))
	c.notify("workspace/didChangeWatchedFiles", protocol.DidChangeWatchedFilesParams{Changes: []*protocol.FileEvent{{URI: pathToURI(backend), Type: protocol.FileChangeTypeDeleted}}})
	c.waitDiagnostics(frontend, hasCodes("unknown-output", "unknown-output"))

	require.NoError(t, os.WriteFile(backend, data, 0o644))
	c.notify("workspace/didChangeWatchedFiles", protocol.DidChangeWatchedFilesParams{Changes: []*protocol.FileEvent{{URI: pathToURI(backend), Type: protocol.FileChangeTypeCreated}}})
	c.waitDiagnostics(frontend, hasCodes())
	require.NoError(t, c.shutdown())
}

// Requests about files never opened are answered from disk.
func TestUnopenedFiles(t *testing.T) {
	c, _, backend, frontend := monorepoSession(t)
	data, err := os.ReadFile(frontend)
	require.NoError(t, err)
	got := definitionAt(t, c, frontend, string(data), "backend}/bin")
	require.Len(t, got, 1)
	require.Equal(t, pathToURI(backend), got[0].URI)

	var syms []protocol.DocumentSymbol
	c.mustCall("textDocument/documentSymbol", protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}}, &syms)
	var names []string
	for _, s := range syms {
		for _, ch := range s.Children {
			names = append(names, s.Name+"."+ch.Name)
		}
	}
	require.ElementsMatch(t, []string{"packages.backend", "apps.backend", "checks.backend-test", "devShells.backend"}, names)

	var ws []protocol.SymbolInformation
	c.mustCall("workspace/symbol", protocol.WorkspaceSymbolParams{Query: "backnd"}, &ws)
	require.NotEmpty(t, ws)
	require.Equal(t, "backend", ws[0].Name)

	var lenses []protocol.CodeLens
	c.mustCall("textDocument/codeLens", protocol.CodeLensParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}}, &lenses)
	require.Len(t, lenses, 1)
	require.Equal(t, CommandReloadEnvironment, lenses[0].Command.Command)
	require.Contains(t, lenses[0].Command.Title, "backend")

	var links []protocol.DocumentLink
	c.mustCall("textDocument/documentLink", protocol.DocumentLinkParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}}, &links)
	var targets []string
	for _, l := range links {
		targets = append(targets, filepath.Base(l.Target.Filename()))
	}
	require.ElementsMatch(t, []string{"src", "Cargo.toml"}, targets)
	require.NoError(t, c.shutdown())
}

// Every workspace folder is a workspace; a file belongs to the nearest.
func TestMultiRoot(t *testing.T) {
	mono := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	sub := copyTree(t, filepath.Join("..", "testdata", "subflakes"))
	c := newTestClient(t, Options{})
	c.initialize(nil, mono, sub)
	frontend := filepath.Join(mono, "frontend", "nix", "outputs.nix")
	data, err := os.ReadFile(frontend)
	require.NoError(t, err)
	require.Len(t, definitionAt(t, c, frontend, string(data), "backend}/bin"), 1)

	var ws []protocol.SymbolInformation
	c.mustCall("workspace/symbol", protocol.WorkspaceSymbolParams{Query: ""}, &ws)
	roots := map[bool]bool{}
	for _, s := range ws {
		p := s.Location.URI.Filename()
		roots[strings.HasPrefix(p, mono+"/")] = true
	}
	require.Len(t, roots, 2, "symbols from both workspaces")
	c.waitFor("indexing progress", func() bool {
		kinds := map[string]bool{}
		for _, n := range c.notes {
			if n.method == "$/progress" {
				for _, k := range []string{"begin", "end"} {
					if strings.Contains(string(n.params), `"kind":"`+k+`"`) {
						kinds[k] = true
					}
				}
			}
		}
		return kinds["begin"] && kinds["end"] || len(c.notes) > 0 && !hasProgressRequest(c.requests)
	})
	require.NoError(t, c.shutdown())
}

func hasProgressRequest(reqs []string) bool {
	for _, r := range reqs {
		if r == "window/workDoneProgress/create" {
			return true
		}
	}
	return false
}

// Workspace folders come and go during a session.
func TestWorkspaceFoldersChange(t *testing.T) {
	mono := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	sub := copyTree(t, filepath.Join("..", "testdata", "subflakes"))
	c := newTestClient(t, Options{})
	c.initialize(nil, mono)
	frontend := filepath.Join(mono, "frontend", "nix", "outputs.nix")
	data, err := os.ReadFile(frontend)
	require.NoError(t, err)
	require.Len(t, definitionAt(t, c, frontend, string(data), "backend}/bin"), 1)

	symbolsIn := func(dir string) int {
		var ws []protocol.SymbolInformation
		c.mustCall("workspace/symbol", protocol.WorkspaceSymbolParams{Query: ""}, &ws)
		n := 0
		for _, s := range ws {
			if contains(dir, s.Location.URI.Filename()) {
				n++
			}
		}
		return n
	}
	require.Zero(t, symbolsIn(sub))
	folder := func(dir string) protocol.WorkspaceFolder {
		return protocol.WorkspaceFolder{URI: string(pathToURI(dir)), Name: filepath.Base(dir)}
	}
	c.notify("workspace/didChangeWorkspaceFolders", protocol.DidChangeWorkspaceFoldersParams{Event: protocol.WorkspaceFoldersChangeEvent{Added: []protocol.WorkspaceFolder{folder(sub)}}})
	require.NotZero(t, symbolsIn(sub))

	c.notify("workspace/didChangeWorkspaceFolders", protocol.DidChangeWorkspaceFoldersParams{Event: protocol.WorkspaceFoldersChangeEvent{Removed: []protocol.WorkspaceFolder{folder(mono)}}})
	require.Zero(t, symbolsIn(mono))
	require.Empty(t, definitionAt(t, c, frontend, string(data), "backend}/bin"))
	require.NoError(t, c.shutdown())
}

// Edits, requests and disk changes racing each other: every answer is
// consistent, and the diagnostics end up matching the last version.
func TestConcurrentEditsAndRequests(t *testing.T) {
	c, _, backend, frontend := monorepoSession(t)
	text := c.open(frontend)
	errs := make(chan error, 64)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				var locs []protocol.Location
				err := c.call("textDocument/references", protocol.ReferenceParams{
					TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(frontend)}, Position: protocol.Position{Line: 20, Character: 30}},
					Context:                    protocol.ReferenceContext{IncludeDeclaration: true},
				}, &locs)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for v := int32(2); v < 60; v++ {
		if v%2 == 0 {
			text = change(t, c, frontend, text, v, "self'.devShells.backend", "self'.devShells.backnd")
		} else {
			text = change(t, c, frontend, text, v, "self'.devShells.backnd", "self'.devShells.backend")
		}
		if v%10 == 0 {
			c.notify("workspace/didChangeWatchedFiles", protocol.DidChangeWatchedFilesParams{Changes: []*protocol.FileEvent{{URI: pathToURI(backend), Type: protocol.FileChangeTypeChanged}}})
		}
	}
	close(stop)
	for w := 0; w < 4; w++ {
		require.NoError(t, <-errs)
	}
	p := c.waitDiagnostics(frontend, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 59 })
	require.Empty(t, p.Diagnostics, "version 59 has the reference fixed")
	require.Len(t, definitionAt(t, c, frontend, text, "backend ]"), 1)
	require.NoError(t, c.shutdown())
}
