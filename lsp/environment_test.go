package lsp

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/evalcache"
	"github.com/monoflake/monoflake/evalcache/evaltest"
)

func environmentOf(t *testing.T, c *testClient, path string) environmentResult {
	t.Helper()
	var res environmentResult
	c.mustCall("monoflake/environment", map[string]any{"uri": pathToURI(path)}, &res)
	return res
}

func lensTitle(t *testing.T, c *testClient, path string) string {
	t.Helper()
	var lenses []protocol.CodeLens
	c.mustCall("textDocument/codeLens", protocol.CodeLensParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(path)}}, &lenses)
	require.Len(t, lenses, 1)
	return lenses[0].Command.Title
}

// Without an evaluation cache every environment is "none", and the
// commands say why they cannot run.
func TestEnvironmentWithoutCache(t *testing.T) {
	c, root, backend, _ := monorepoSession(t)
	got := environmentOf(t, c, backend)
	require.Equal(t, root, got.Root)
	require.Equal(t, "backend", *got.Component)
	require.Equal(t, "backend", *got.Shell)
	require.Equal(t, stateNone, got.State)
	require.Empty(t, got.Variables)
	require.Contains(t, lensTitle(t, c, backend), "none")

	err := c.call("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandReloadEnvironment, Arguments: []any{string(pathToURI(backend))}}, nil)
	require.Equal(t, codeRequestFailed, rpcCode(t, err))
	err = c.call("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandReloadEnvironment}, nil)
	require.Equal(t, -32602, int(rpcCode(t, err)))
	require.NoError(t, c.shutdown())
}

// With real nix: untrusted until the editor trusts the workspace, then the
// component of an opened file evaluates in the background, and an
// evaluation error shows where nix points.
func TestEnvironmentEvaluates(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	root := evaltest.CopyFixture(t, "monorepo")
	root, err := filepath.EvalSymlinks(root)
	require.NoError(t, err)
	cache, err := evalcache.Open(evalcache.Options{Dir: t.TempDir(), DataDir: t.TempDir(), Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	defer cache.Close()

	c := newTestClient(t, Options{Cache: cache})
	c.initialize(map[string]any{"trusted": false, "evaluation": map[string]any{"enabled": true}}, root)
	backend := filepath.Join(root, "backend", "nix", "outputs.nix")
	c.open(backend)
	require.Equal(t, "untrusted", environmentOf(t, c, backend).State)
	require.Contains(t, lensTitle(t, c, backend), "untrusted")
	err = c.call("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandReloadEnvironment, Arguments: []any{string(pathToURI(backend))}}, nil)
	require.Equal(t, codeRequestFailed, rpcCode(t, err))

	c.mustCall("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandTrustWorkspace, Arguments: []any{string(pathToURI(root))}}, nil)
	c.waitFor("the environment to evaluate", func() bool { return c.sawEnvironmentState("backend", "fresh") })
	got := environmentOf(t, c, backend)
	require.Equal(t, "fresh", got.State)
	require.Equal(t, "8080", got.Variables["BACKEND_PORT"])
	require.Contains(t, lensTitle(t, c, backend), "fresh")
	data, err := os.ReadFile(backend)
	require.NoError(t, err)
	var hover protocol.Hover
	shellName := strings.Index(string(data), "devShells.backend") + len("devShells.")
	c.mustCall("textDocument/hover", protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}, Position: lspPosition(string(data), shellName),
	}}, &hover)
	require.Contains(t, hover.Contents.Value, "Environment: fresh")
	require.Contains(t, hover.Contents.Value, "backend-shell")
	c.waitFor("evaluation progress", func() bool { return c.sawProgress("end") })

	// Break the shell on disk and reload: the error lands in the file nix
	// names, as a diagnostic.
	broken := strings.Replace(string(data), `BACKEND_PORT = "8080";`, `BACKEND_PORT = builtins.throw "monoflake test failure";`, 1)
	require.NoError(t, os.WriteFile(backend, []byte(broken), 0o644))
	c.mustCall("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandReloadEnvironment, Arguments: []any{string(pathToURI(backend))}}, nil)
	c.waitFor("the evaluation to fail", func() bool { return c.sawEnvironmentState("backend", "stale") })
	p := c.waitDiagnostics(backend, func(p protocol.PublishDiagnosticsParams) bool {
		for _, d := range p.Diagnostics {
			if d.Code == "evaluation" {
				return true
			}
		}
		return false
	})
	var msgs []string
	for _, d := range p.Diagnostics {
		msgs = append(msgs, d.Message)
	}
	require.Contains(t, strings.Join(msgs, "\n"), "monoflake test failure")
	require.Equal(t, "stale", environmentOf(t, c, backend).State)

	// An error nix places lands on its line.
	broken = strings.Replace(string(data), `RUST_LOG = "backend=debug";`, `RUST_LOG = undefinedVariable;`, 1)
	require.NoError(t, os.WriteFile(backend, []byte(broken), 0o644))
	c.mustCall("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandReloadEnvironment, Arguments: []any{string(pathToURI(backend))}}, nil)
	p = c.waitDiagnostics(backend, func(p protocol.PublishDiagnosticsParams) bool {
		for _, d := range p.Diagnostics {
			if d.Code == "evaluation" && strings.Contains(d.Message, "undefinedVariable") {
				return true
			}
		}
		return false
	})
	line := uint32(strings.Count(broken[:strings.Index(broken, "undefinedVariable")], "\n"))
	for _, d := range p.Diagnostics {
		if d.Code == "evaluation" {
			require.Equal(t, line, d.Range.Start.Line, "%v", d)
		}
	}
	require.NoError(t, c.shutdown())
}

// sawEnvironmentState reports whether monoflake/environmentChanged said
// component reached state; the client's lock is held.
func (c *testClient) sawEnvironmentState(component, state string) bool {
	for _, n := range c.notes {
		if n.method != "monoflake/environmentChanged" {
			continue
		}
		var p struct{ Root, Component, State string }
		if json.Unmarshal(n.params, &p) == nil && p.Component == component && p.State == state {
			return true
		}
	}
	return false
}

// sawProgress reports whether a $/progress of this kind arrived.
func (c *testClient) sawProgress(kind string) bool {
	for _, n := range c.notes {
		if n.method == "$/progress" && strings.Contains(string(n.params), `"kind":"`+kind+`"`) {
			return true
		}
	}
	return false
}

// The editor's workspace trust covers its workspace folders, not a
// repository that a file opened from elsewhere brings in.
func TestEditorTrustCoversOnlyWorkspaceFolders(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	root, err := filepath.EvalSymlinks(evaltest.CopyFixture(t, "monorepo"))
	require.NoError(t, err)
	other, err := filepath.EvalSymlinks(evaltest.CopyFixture(t, "monorepo"))
	require.NoError(t, err)
	cache, err := evalcache.Open(evalcache.Options{Dir: t.TempDir(), DataDir: t.TempDir(), Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	defer cache.Close()

	c := newTestClient(t, Options{Cache: cache})
	c.initialize(map[string]any{"trusted": true, "evaluation": map[string]any{"enabled": true}}, root)
	outside := filepath.Join(other, "backend", "nix", "outputs.nix")
	c.open(outside)
	require.Equal(t, "untrusted", environmentOf(t, c, outside).State)
	inside := filepath.Join(root, "backend", "nix", "outputs.nix")
	c.open(inside)
	require.NotEqual(t, "untrusted", environmentOf(t, c, inside).State)
	require.NoError(t, c.shutdown())
}

// A component whose .envrc direnv allows is trusted by the server exactly
// as by the command line: the cache makes the one decision.
func TestDirenvAllowedComponentIsTrusted(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	root, err := filepath.EvalSymlinks(evaltest.CopyFixture(t, "monorepo"))
	require.NoError(t, err)
	data := t.TempDir()
	envrc := filepath.Join(root, "backend", ".envrc")
	require.NoError(t, os.WriteFile(envrc, []byte("use monoflake\n"), 0o644))
	sum := sha256.Sum256([]byte(envrc + "\n" + "use monoflake\n"))
	allow := filepath.Join(data, "direnv", "allow", hex.EncodeToString(sum[:]))
	require.NoError(t, os.MkdirAll(filepath.Dir(allow), 0o755))
	require.NoError(t, os.WriteFile(allow, []byte(envrc+"\n"), 0o644))
	cache, err := evalcache.Open(evalcache.Options{Dir: t.TempDir(), DataDir: t.TempDir(), Getenv: func(k string) string {
		if k == "XDG_DATA_HOME" {
			return data
		}
		return ""
	}})
	require.NoError(t, err)
	defer cache.Close()

	c := newTestClient(t, Options{Cache: cache})
	c.initialize(map[string]any{"trusted": false, "evaluation": map[string]any{"enabled": true}}, root)
	backend := filepath.Join(root, "backend", "nix", "outputs.nix")
	frontend := filepath.Join(root, "frontend", "nix", "outputs.nix")
	c.open(backend)
	c.open(frontend)
	c.waitFor("backend to evaluate", func() bool { return c.sawEnvironmentState("backend", "fresh") })
	require.Equal(t, "untrusted", environmentOf(t, c, frontend).State, "frontend has no allowed .envrc")
	require.NoError(t, c.shutdown())
}
