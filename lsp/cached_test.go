package lsp

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis/indexcache"
)

// firstDiagnosticsBeforeIndexed reports whether the first diagnostics of
// path reached the client before the server said it had indexed the
// workspace, that is, whether they came from the persistent index.
func firstDiagnosticsBeforeIndexed(t *testing.T, c *testClient, path string) bool {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	first, indexed := -1, -1
	for i, n := range c.notes {
		switch n.method {
		case "textDocument/publishDiagnostics":
			var p protocol.PublishDiagnosticsParams
			require.NoError(t, json.Unmarshal(n.params, &p))
			if p.URI == pathToURI(path) && first < 0 {
				first = i
			}
		case "window/logMessage":
			if indexed < 0 && strings.Contains(string(n.params), "monoflake indexed") {
				indexed = i
			}
		}
	}
	require.GreaterOrEqual(t, first, 0, "no diagnostics for %s", path)
	require.GreaterOrEqual(t, indexed, 0, "the server never said it indexed the workspace")
	return first < indexed
}

// A server started on a repository nobody changed since the last session
// publishes that session's diagnostics before it has indexed anything, with
// the settings of this session; one started after an edit waits for the
// index, so what it shows is never older than the disk.
func TestDiagnosticsFromTheIndexAtStart(t *testing.T) {
	root, frontend, broken := brokenMonorepo(t)
	store, err := indexcache.Open(t.TempDir())
	require.NoError(t, err)
	only := func(want ...string) func(protocol.PublishDiagnosticsParams) bool {
		return func(p protocol.PublishDiagnosticsParams) bool { return slices.Equal(codes(p), want) }
	}

	first := newTestClient(t, Options{Index: store})
	first.initialize(nil, root)
	first.waitDiagnostics(frontend, only("syntax", "unknown-output"))
	require.False(t, firstDiagnosticsBeforeIndexed(t, first, frontend), "nothing was stored yet")
	require.NoError(t, first.shutdown())

	// The gate holds the index, so everything published before it opens
	// came from the stored diagnostics.
	gate := make(chan struct{})
	again := newTestClient(t, Options{Index: store, indexGate: gate})
	again.initialize(map[string]any{"diagnostics": map[string]any{"syntax": false}}, root)
	// Open buffers that hold what the disk holds are answered too: a clean
	// file with an empty list, so the editor knows at once it has no
	// problems; a buffer with unsaved changes is not.
	again.open(frontend)
	again.waitDiagnostics(frontend, only("unknown-output"))
	// Opened after the stored diagnostics went out.
	backend := filepath.Join(root, "backend", "nix", "outputs.nix")
	again.open(backend)
	analytics := filepath.Join(root, "analytics", "nix", "outputs.nix")
	again.notify("textDocument/didOpen", protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: pathToURI(analytics), LanguageID: "nix", Version: 7, Text: "{ perSystem = { self', ... }: { packages.x = self'.packages.nope; }; }",
	}})
	got := again.waitDiagnostics(backend, only())
	require.Equal(t, uint32(1), got.Version, "the buffer's version")
	again.mu.Lock()
	require.False(t, slices.ContainsFunc(again.notes, func(n recorded) bool { return strings.Contains(string(n.params), "monoflake indexed") }), "the index is held")
	_, analyticsPublished := again.diags[pathToURI(analytics)]
	again.mu.Unlock()
	require.False(t, analyticsPublished, "an edited buffer waits for the index")
	close(gate)
	again.waitDiagnostics(analytics, hasCodes("unknown-output"))
	again.waitFor("the workspace indexed", func() bool {
		return slices.ContainsFunc(again.notes, func(n recorded) bool { return strings.Contains(string(n.params), "monoflake indexed") })
	})
	again.mu.Lock()
	require.Equal(t, []string{"unknown-output"}, codes(again.diags[pathToURI(frontend)]), "the syntax setting applies to stored diagnostics")
	again.mu.Unlock()
	require.NoError(t, again.shutdown())

	// Fixing the reference on disk makes the stored diagnostics stale.
	require.NoError(t, os.WriteFile(frontend, bytes.Replace(broken, []byte("backedn"), []byte("backend"), 1), 0o644))
	edited := newTestClient(t, Options{Index: store})
	edited.initialize(nil, root)
	edited.waitDiagnostics(frontend, only("syntax"))
	require.False(t, firstDiagnosticsBeforeIndexed(t, edited, frontend), "a changed repository waits for its index")
	require.NoError(t, edited.shutdown())
}
