package lsp

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis/analysistest"
)

// testTimeout bounds every wait of a test, so a server that hangs fails
// the test instead of the whole run.
const testTimeout = 20 * time.Second

// testClient is a real jsonrpc2 client talking to an in-process server
// over a pipe. It records every notification the server sends.
type testClient struct {
	t    testing.TB
	conn jsonrpc2.Conn
	done chan error // Serve's result

	mu       sync.Mutex
	diags    map[protocol.DocumentURI]protocol.PublishDiagnosticsParams
	notes    []recorded // every notification, in order
	requests []string   // methods of requests from the server
	changed  chan struct{}
}

type recorded struct {
	method string
	params json.RawMessage
	at     time.Time
}

// startServer runs Serve on one end of a pipe and returns the other.
func startServer(t testing.TB, opt Options) (net.Conn, chan error) {
	t.Helper()
	serverEnd, clientEnd := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), serverEnd, opt) }()
	t.Cleanup(func() {
		clientEnd.Close()
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Error("the server did not stop after the client went away")
		}
	})
	return clientEnd, done
}

func newTestClient(t testing.TB, opt Options) *testClient {
	t.Helper()
	if opt.Log == nil && testing.Verbose() {
		opt.Log = &testLog{t: t}
	}
	raw, done := startServer(t, opt)
	return newClientOn(t, raw, done)
}

// newClientOn returns a client on a connection to a server whose end
// (Serve's result, or a process's) done reports.
func newClientOn(t testing.TB, raw io.ReadWriteCloser, done chan error) *testClient {
	c := &testClient{t: t, done: done, diags: map[protocol.DocumentURI]protocol.PublishDiagnosticsParams{}, changed: make(chan struct{}, 1)}
	c.conn = jsonrpc2.NewConn(jsonrpc2.NewStream(raw))
	c.conn.Go(context.Background(), c.handle)
	return c
}

// testLog sends the server's log to the test's output.
type testLog struct{ t testing.TB }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (c *testClient) handle(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
	c.mu.Lock()
	if _, isCall := req.(*jsonrpc2.Call); isCall {
		c.requests = append(c.requests, req.Method())
	} else {
		c.notes = append(c.notes, recorded{req.Method(), append(json.RawMessage(nil), req.Params()...), time.Now()})
		if req.Method() == "textDocument/publishDiagnostics" {
			var p protocol.PublishDiagnosticsParams
			if err := json.Unmarshal(req.Params(), &p); err == nil {
				c.diags[p.URI] = p
			}
		}
	}
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	// Replying from the read loop could block on the synchronous pipe
	// while the server blocks writing to us.
	go reply(ctx, nil, nil)
	return nil
}

// call sends a request and decodes its result.
func (c *testClient) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err := c.conn.Call(ctx, method, params, result)
	return err
}

func (c *testClient) mustCall(method string, params, result any) {
	c.t.Helper()
	require.NoError(c.t, c.call(method, params, result), method)
}

func (c *testClient) notify(method string, params any) {
	c.t.Helper()
	require.NoError(c.t, c.conn.Notify(context.Background(), method, params), method)
}

// initialize runs the handshake for a session on the given folders.
func (c *testClient) initialize(options any, folders ...string) protocol.InitializeResult {
	c.t.Helper()
	return c.initializeWith(nil, options, folders...)
}

// initializeWith is initialize with more workspace client capabilities.
func (c *testClient) initializeWith(workspace map[string]any, options any, folders ...string) protocol.InitializeResult {
	c.t.Helper()
	caps := map[string]any{
		"didChangeWatchedFiles": map[string]any{"dynamicRegistration": true},
		"workspaceEdit":         map[string]any{"documentChanges": true, "resourceOperations": []string{"create"}},
	}
	for k, v := range workspace {
		caps[k] = v
	}
	params := map[string]any{
		"processId":             os.Getpid(),
		"capabilities":          map[string]any{"window": map[string]any{"workDoneProgress": true}, "workspace": caps},
		"initializationOptions": options,
	}
	var wf []protocol.WorkspaceFolder
	for _, f := range folders {
		wf = append(wf, protocol.WorkspaceFolder{URI: string(pathToURI(f)), Name: filepath.Base(f)})
	}
	if len(wf) > 0 {
		params["workspaceFolders"] = wf
		params["rootUri"] = wf[0].URI
	}
	var res protocol.InitializeResult
	c.mustCall("initialize", params, &res)
	c.notify("initialized", map[string]any{})
	return res
}

// shutdown ends the session cleanly and returns Serve's result.
func (c *testClient) shutdown() error {
	c.t.Helper()
	c.mustCall("shutdown", nil, nil)
	c.notify("exit", nil)
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(testTimeout):
		c.t.Fatal("the server did not exit")
		return nil
	}
}

// open sends didOpen for a file with its content on disk.
func (c *testClient) open(path string) string {
	c.t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(c.t, err)
	c.notify("textDocument/didOpen", protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: pathToURI(path), LanguageID: "nix", Version: 1, Text: string(data),
	}})
	return string(data)
}

// waitFor waits until cond, evaluated under the client's lock, holds.
func (c *testClient) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(testTimeout)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitDiagnostics waits for a publishDiagnostics for path that satisfies
// ok and returns it.
func (c *testClient) waitDiagnostics(path string, ok func(protocol.PublishDiagnosticsParams) bool) protocol.PublishDiagnosticsParams {
	c.t.Helper()
	var got protocol.PublishDiagnosticsParams
	c.waitFor("diagnostics of "+path, func() bool {
		p, seen := c.diags[pathToURI(path)]
		got = p
		return seen && ok(p)
	})
	return got
}

// hasCodes reports whether diagnostics carry exactly these codes, in any
// order.
func hasCodes(codes ...string) func(protocol.PublishDiagnosticsParams) bool {
	return func(p protocol.PublishDiagnosticsParams) bool {
		if len(p.Diagnostics) != len(codes) {
			return false
		}
		want := map[string]int{}
		for _, c := range codes {
			want[c]++
		}
		for _, d := range p.Diagnostics {
			code, _ := d.Code.(string)
			want[code]--
		}
		for _, n := range want {
			if n != 0 {
				return false
			}
		}
		return true
	}
}

// lspPosition converts a byte offset to a protocol position without the
// server's code: lines end at "\n" (fixtures use no other line break) and
// columns count UTF-16 code units.
func lspPosition(src string, offset int) protocol.Position {
	before := src[:offset]
	line := strings.Count(before, "\n")
	col := len(utf16.Encode([]rune(before[strings.LastIndex(before, "\n")+1:])))
	return protocol.Position{Line: uint32(line), Character: uint32(col)}
}

// copyTree copies a fixture directory, so nix and git never see the
// monoflake repository around it.
func copyTree(t *testing.T, from string) string {
	t.Helper()
	to, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	err = filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	require.NoError(t, err)
	return to
}

func timeAfter() <-chan time.Time { return time.After(testTimeout) }

// brokenMonorepo is a copy of the bundled monorepo whose frontend module
// has a misspelled reference (unknown-output) and a syntax error.
func brokenMonorepo(t *testing.T) (root, frontend string, broken []byte) {
	t.Helper()
	root = copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	frontend = filepath.Join(root, "frontend", "nix", "outputs.nix")
	data, err := os.ReadFile(frontend)
	require.NoError(t, err)
	text := strings.Replace(string(data), "self'.packages.backend}", "self'.packages.backedn}", 1)
	text = strings.Replace(text, `FRONTEND_PORT = "3000";`, `FRONTEND_PORT = ;`, 1)
	require.NotEqual(t, string(data), text)
	require.NoError(t, os.WriteFile(frontend, []byte(text), 0o644))
	analysistest.Age(t, root)
	return root, frontend, []byte(text)
}
