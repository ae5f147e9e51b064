package lsp

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/evalcache"
)

// codes lists the codes of published diagnostics.
func codes(p protocol.PublishDiagnosticsParams) []string {
	var out []string
	for _, d := range p.Diagnostics {
		code, _ := d.Code.(string)
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// Beside nil or nixd, which report parse errors already, the syntax
// setting turns off monoflake's own: at initialize, and again through
// workspace/didChangeConfiguration, republishing the files concerned.
func TestSyntaxDiagnosticsSetting(t *testing.T) {
	root, frontend, _ := brokenMonorepo(t)

	c := newTestClient(t, Options{})
	c.initialize(map[string]any{"diagnostics": map[string]any{"syntax": false}}, root)
	c.open(frontend)
	both := []string{"syntax", "unknown-output"}
	c.waitDiagnostics(frontend, func(p protocol.PublishDiagnosticsParams) bool {
		return slices.Equal(codes(p), []string{"unknown-output"})
	})

	configure := func(settings any) {
		c.notify("workspace/didChangeConfiguration", map[string]any{"settings": settings})
	}
	configure(map[string]any{"monoflake": map[string]any{"diagnostics": map[string]any{"syntax": true}}})
	c.waitDiagnostics(frontend, func(p protocol.PublishDiagnosticsParams) bool { return slices.Equal(codes(p), both) })
	configure(map[string]any{"monoflake": map[string]any{"diagnostics": map[string]any{"syntax": false}}})
	c.waitDiagnostics(frontend, func(p protocol.PublishDiagnosticsParams) bool {
		return slices.Equal(codes(p), []string{"unknown-output"})
	})
	// Settings of other servers, or none of monoflake's, change nothing.
	configure(map[string]any{"nil": map[string]any{"diagnostics": map[string]any{"syntax": true}}})
	configure(nil)
	var hover *protocol.Hover
	c.mustCall("textDocument/hover", protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(frontend)},
	}}, &hover)
	c.mu.Lock()
	require.Equal(t, []string{"unknown-output"}, codes(c.diags[pathToURI(frontend)]))
	c.mu.Unlock()
	require.NoError(t, c.shutdown())
}

// When an environment changes, a client that supports it is asked to
// refresh its code lenses, which show the environment's state.
func TestCodeLensRefresh(t *testing.T) {
	for _, supported := range []bool{true, false} {
		root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
		cache, err := evalcache.Open(evalcache.Options{Dir: t.TempDir(), DataDir: t.TempDir(), Getenv: func(string) string { return "" }})
		require.NoError(t, err)
		t.Cleanup(func() { cache.Close() })
		c := newTestClient(t, Options{Cache: cache})
		c.initializeWith(map[string]any{"codeLens": map[string]any{"refreshSupport": supported}}, nil, root)
		backend := filepath.Join(root, "backend", "nix", "outputs.nix")
		c.open(backend)
		// Untrusted: the state changes without running nix.
		c.waitFor("the environment state", func() bool { return c.sawEnvironmentState("backend", "untrusted") })
		require.Contains(t, lensTitle(t, c, backend), "untrusted")
		refreshed := func() bool { return slices.Contains(c.requests, "workspace/codeLens/refresh") }
		if supported {
			c.waitFor("workspace/codeLens/refresh", refreshed)
		} else {
			c.mu.Lock()
			require.False(t, refreshed(), "a refresh the client does not support")
			c.mu.Unlock()
		}
		require.NoError(t, c.shutdown())
	}
}
