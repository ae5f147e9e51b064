package lsp

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"
)

// buildBinary builds monoflake once per test into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "monoflake")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/monoflake")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// processConn joins a child's stdin and stdout.
type processConn struct {
	io.Reader
	io.WriteCloser
}

// startProcess runs `monoflake serve` and returns a client on its stdio;
// done reports its exit status.
func startProcess(t *testing.T, bin string, args ...string) (*testClient, *exec.Cmd) {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(testTimeout):
			cmd.Process.Kill()
			t.Error("monoflake serve did not exit")
		}
		if t.Failed() {
			t.Logf("stderr of monoflake serve:\n%s", stderr.String())
		}
	})
	return newClientOn(t, processConn{stdout, stdin}, done), cmd
}

// TestEndToEnd drives a full session of the real binary over stdio.
func TestEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	logFile := filepath.Join(t.TempDir(), "serve.log")
	c, _ := startProcess(t, bin, "--log", logFile)
	res := c.initialize(map[string]any{"trusted": false, "evaluation": map[string]any{"enabled": false}}, root)
	require.Equal(t, "monoflake", res.ServerInfo.Name)

	backend := filepath.Join(root, "backend", "nix", "outputs.nix")
	frontend := filepath.Join(root, "frontend", "nix", "outputs.nix")
	ftext := c.open(frontend)
	btext := c.open(backend)

	// Diagnostics: introduce a typo, see it reported, fix it.
	ftext = change(t, c, frontend, ftext, 2, "self'.devShells.backend", "self'.devShells.backnd")
	p := c.waitDiagnostics(frontend, hasCodes("unknown-output"))
	require.Contains(t, p.Diagnostics[0].Message, "backnd")
	ftext = change(t, c, frontend, ftext, 3, "self'.devShells.backnd", "self'.devShells.backend")
	c.waitDiagnostics(frontend, hasCodes())

	// Definition across components.
	defs := definitionAt(t, c, frontend, ftext, "backend}/bin")
	require.Len(t, defs, 1)
	require.Equal(t, pathToURI(backend), defs[0].URI)
	i := strings.Index(btext, "packages.backend =") + len("packages.")
	require.Equal(t, lspPosition(btext, i), defs[0].Range.Start)

	// References from the definition, across components.
	var refs []protocol.Location
	c.mustCall("textDocument/references", protocol.ReferenceParams{
		TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}, Position: lspPosition(btext, i)},
		Context:                    protocol.ReferenceContext{IncludeDeclaration: true},
	}, &refs)
	files := map[string]int{}
	for _, r := range refs {
		rel, _ := filepath.Rel(root, r.URI.Filename())
		files[rel]++
	}
	require.Equal(t, map[string]int{"backend/nix/outputs.nix": 3, "frontend/nix/outputs.nix": 1, "infra/nix/outputs.nix": 1}, files)

	// Rename across components in one WorkspaceEdit.
	var edit protocol.WorkspaceEdit
	c.mustCall("textDocument/rename", protocol.RenameParams{
		TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}, Position: lspPosition(btext, i)},
		NewName:                    "api",
	}, &edit)
	edits := 0
	for _, es := range edit.Changes {
		edits += len(es)
	}
	require.Len(t, edit.Changes, 3)
	require.Equal(t, 5, edits)

	require.NoError(t, c.shutdown(), "exit status after shutdown and exit")
	log, err := os.ReadFile(logFile)
	require.NoError(t, err)
	require.Contains(t, string(log), "textDocument/definition")
}

// Exit without shutdown makes the process exit with status 1.
func TestEndToEndExitWithoutShutdown(t *testing.T) {
	bin := buildBinary(t)
	c, cmd := startProcess(t, bin)
	c.initialize(nil)
	c.notify("exit", nil)
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		require.Equal(t, 1, cmd.ProcessState.ExitCode())
	case <-time.After(testTimeout):
		t.Fatal("monoflake serve did not exit")
	}
}

// --listen serves one client over loopback TCP and refuses other
// addresses.
func TestEndToEndListen(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "serve", "--listen", "192.0.2.1:7777").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "loopback")

	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	line := make([]byte, 200)
	n, err := stderr.Read(line)
	require.NoError(t, err)
	go func() { done <- cmd.Wait() }()
	addr := strings.TrimSpace(strings.TrimPrefix(string(line[:n]), "monoflake: listening on "))
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	exited := make(chan error, 1)
	c := newClientOn(t, conn, exited)
	c.initialize(nil)
	c.mustCall("shutdown", nil, nil)
	c.notify("exit", nil)
	select {
	case err := <-done:
		require.NoError(t, err)
		done <- err
	case <-time.After(testTimeout):
		t.Fatal("monoflake serve --listen did not exit")
	}
}
