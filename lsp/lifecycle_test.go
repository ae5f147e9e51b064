package lsp

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

func rpcCode(t *testing.T, err error) jsonrpc2.Code {
	t.Helper()
	var rpcErr *jsonrpc2.Error
	require.True(t, errors.As(err, &rpcErr), "want a JSON-RPC error, got %v", err)
	return rpcErr.Code
}

func TestLifecycle(t *testing.T) {
	root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	hover := protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(filepath.Join(root, "flake.nix"))},
	}}
	tests := []struct {
		name string
		run  func(t *testing.T, c *testClient)
		want error // Serve's result
	}{
		{"requests before initialize are refused", func(t *testing.T, c *testClient) {
			require.Equal(t, jsonrpc2.ServerNotInitialized, rpcCode(t, c.call("textDocument/hover", hover, nil)))
			c.initialize(nil, root)
			require.NoError(t, c.call("textDocument/hover", hover, nil))
			require.NoError(t, c.shutdown())
		}, nil},
		{"unknown methods are MethodNotFound", func(t *testing.T, c *testClient) {
			c.initialize(nil, root)
			require.Equal(t, jsonrpc2.MethodNotFound, rpcCode(t, c.call("textDocument/frobnicate", map[string]any{}, nil)))
			require.Equal(t, jsonrpc2.MethodNotFound, rpcCode(t, c.call("monoflake/nonsense", nil, nil)))
			require.NoError(t, c.shutdown())
		}, nil},
		{"a second initialize is refused", func(t *testing.T, c *testClient) {
			c.initialize(nil, root)
			require.Equal(t, jsonrpc2.InvalidRequest, rpcCode(t, c.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil)))
			require.NoError(t, c.shutdown())
		}, nil},
		{"requests after shutdown are refused", func(t *testing.T, c *testClient) {
			c.initialize(nil, root)
			c.mustCall("shutdown", nil, nil)
			require.Equal(t, jsonrpc2.InvalidRequest, rpcCode(t, c.call("textDocument/hover", hover, nil)))
			c.notify("exit", nil)
		}, nil},
		{"exit without shutdown", func(t *testing.T, c *testClient) {
			c.initialize(nil, root)
			c.notify("exit", nil)
		}, ErrExitWithoutShutdown},
		{"the client going away", func(t *testing.T, c *testClient) {
			c.initialize(nil, root)
			c.conn.Close()
		}, ErrExitWithoutShutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, Options{})
			tt.run(t, c)
			select {
			case err := <-c.done:
				require.Equal(t, tt.want, err)
				c.done <- err
			case <-timeAfter():
				t.Fatal("the server did not exit")
			}
		})
	}
}

func TestInitializeAdvertisesFeatures(t *testing.T) {
	root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	c := newTestClient(t, Options{Version: "1.2.3"})
	res := c.initialize(map[string]any{"trusted": false}, root)
	require.Equal(t, "monoflake", res.ServerInfo.Name)
	require.Equal(t, "1.2.3", res.ServerInfo.Version)
	caps := res.Capabilities
	require.Equal(t, true, caps.DefinitionProvider)
	require.Equal(t, true, caps.ReferencesProvider)
	require.Equal(t, true, caps.HoverProvider)
	require.NotNil(t, caps.CompletionProvider)
	require.NotNil(t, caps.CodeLensProvider)
	require.NotNil(t, caps.DocumentLinkProvider)
	actions, ok := caps.CodeActionProvider.(map[string]any)
	require.True(t, ok, "codeActionProvider: %#v", caps.CodeActionProvider)
	require.Equal(t, []any{"quickfix"}, actions["codeActionKinds"])
	require.ElementsMatch(t, []string{CommandReloadEnvironment, CommandTrustWorkspace, CommandGitAdd}, caps.ExecuteCommandProvider.Commands)
	sync, ok := caps.TextDocumentSync.(map[string]any)
	require.True(t, ok, "textDocumentSync: %#v", caps.TextDocumentSync)
	require.EqualValues(t, protocol.TextDocumentSyncKindIncremental, sync["change"])
	// The server registers its file watchers and reports indexing.
	c.waitFor("file watcher registration", func() bool {
		for _, m := range c.requests {
			if m == "client/registerCapability" {
				return true
			}
		}
		return false
	})
	require.NoError(t, c.shutdown())
}
