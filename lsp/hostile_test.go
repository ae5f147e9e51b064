package lsp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/tools/genrepo"
)

// rawClient speaks the wire format by hand, so tests can send what no
// well-behaved client would.
type rawClient struct {
	t     *testing.T
	conn  net.Conn
	msgs  chan map[string]any
	out   chan string // written in order by one goroutine
	mu    sync.Mutex
	notes []map[string]any // every notification, in order
	stop  chan struct{}
	done  chan error
}

func newRawClient(t *testing.T, opt Options) *rawClient {
	conn, done := startServer(t, opt)
	c := &rawClient{t: t, conn: conn, msgs: make(chan map[string]any, 1024), out: make(chan string, 1024), stop: make(chan struct{}), done: done}
	go c.readLoop()
	// Writes on the synchronous pipe block until the server reads, so
	// they happen in a goroutine of their own, in the order sent.
	go func() {
		for {
			select {
			case data := <-c.out:
				if _, err := io.WriteString(c.conn, data); err != nil {
					return
				}
			case <-c.stop:
				return
			}
		}
	}()
	t.Cleanup(func() { close(c.stop) })
	return c
}

func (c *rawClient) readLoop() {
	defer close(c.msgs)
	in := bufio.NewReader(c.conn)
	for {
		length := 0
		for {
			line, err := in.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(in, body); err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			c.t.Errorf("the server sent invalid JSON: %q", body)
			return
		}
		if _, isRequest := m["method"]; isRequest && m["id"] == nil {
			c.mu.Lock()
			c.notes = append(c.notes, m)
			c.mu.Unlock()
		}
		if _, isRequest := m["method"]; isRequest && m["id"] != nil {
			// Answer the server's own requests (progress, registration).
			c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":null}`, mustJSON(m["id"])))
			continue
		}
		c.msgs <- m
	}
}

func mustJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// sendRaw writes bytes as they are.
func (c *rawClient) sendRaw(data string) {
	select {
	case c.out <- data:
	case <-c.stop:
	}
}

// send frames one message with a correct header.
func (c *rawClient) send(body string) {
	c.sendRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

// request sends a request with a numeric id.
func (c *rawClient) request(id int, method string, params any) {
	c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, mustJSON(params)))
}

// response waits for the response with this id (nil: a null id), skipping
// notifications.
func (c *rawClient) response(id any) map[string]any {
	c.t.Helper()
	deadline := time.After(testTimeout)
	for {
		select {
		case m, ok := <-c.msgs:
			require.True(c.t, ok, "the connection ended before the response to %v", id)
			if _, isNote := m["method"]; isNote {
				continue
			}
			if fmt.Sprint(m["id"]) == fmt.Sprint(id) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no response to %v", id)
		}
	}
}

func errorCode(m map[string]any) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	code, _ := e["code"].(float64)
	return int(code)
}

func TestHostileClients(t *testing.T) {
	root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	frontend := pathToURI(filepath.Join(root, "frontend", "nix", "outputs.nix"))
	initialize := map[string]any{"processId": nil, "rootUri": pathToURI(root), "capabilities": map[string]any{}}
	at := func(uri any, line, char int) map[string]any {
		return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line, "character": char}}
	}
	// alive checks the session still answers.
	alive := func(c *rawClient, id int) {
		c.request(id, "textDocument/hover", at(frontend, 0, 0))
		require.Equal(t, 0, errorCode(c.response(id)), "the server still answers")
	}
	tests := []struct {
		name string
		opt  Options
		run  func(t *testing.T, c *rawClient)
	}{
		{"malformed JSON", Options{}, func(t *testing.T, c *rawClient) {
			c.send(`{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{`)
			require.Equal(t, -32700, errorCode(c.response(nil)))
			c.send(`[1, 2, 3]`)
			require.Equal(t, -32700, errorCode(c.response(nil)))
			c.send(`{"jsonrpc":"2.0","id":8,"method":"textDocument/hover","params":"not an object"}`)
			require.Equal(t, -32602, errorCode(c.response(8)))
			alive(c, 9)
		}},
		{"Content-Length too short", Options{}, func(t *testing.T, c *rawClient) {
			body := `{"jsonrpc":"2.0","id":7,"method":"shutdown"}`
			c.sendRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body)-10, body))
			require.Equal(t, -32700, errorCode(c.response(nil)))
			alive(c, 9)
		}},
		{"Content-Length too long", Options{}, func(t *testing.T, c *rawClient) {
			// The first body swallows the start of the next message: the
			// first is still answered (what follows a JSON value is
			// ignored), the second is lost, and the server finds the
			// header of the third.
			body := `{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{}}`
			c.sendRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body)+20, body))
			c.request(8, "textDocument/hover", at(frontend, 0, 0))
			require.Equal(t, -32602, errorCode(c.response(7)))
			alive(c, 9)
		}},
		{"Content-Length not a number", Options{}, func(t *testing.T, c *rawClient) {
			c.sendRaw("Content-Length: lots\r\n\r\n")
			alive(c, 9)
		}},
		{"a 50 MB message", Options{}, func(t *testing.T, c *rawClient) {
			// Built by hand: encoding 50 MB as JSON would dominate the test.
			huge := strings.Repeat(`# padding line of a generated file\n`, 50<<20/36)
			c.send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":%q,"languageId":"nix","version":1,"text":"%s"}}}`,
				pathToURI(filepath.Join(root, "huge.nix")), huge))
			alive(c, 9)
		}},
		{"a message above the limit", Options{MaxMessage: 1 << 20}, func(t *testing.T, c *rawClient) {
			c.request(8, "textDocument/hover", map[string]any{"padding": strings.Repeat("x", 2<<20)})
			require.Equal(t, -32600, errorCode(c.response(nil)))
			alive(c, 9)
		}},
		{"positions past the end", Options{}, func(t *testing.T, c *rawClient) {
			for i, pos := range [][2]int{{10000, 0}, {0, 100000}, {1 << 31, 1 << 31}, {-1, -1}} {
				c.request(10+i, "textDocument/definition", at(frontend, pos[0], pos[1]))
				m := c.response(10 + i)
				// A negative position does not decode as a uint; the rest
				// are clamped into the file.
				if pos[0] >= 0 {
					require.Equal(t, 0, errorCode(m), "%v", m)
				} else {
					require.Equal(t, -32602, errorCode(m), "%v", m)
				}
			}
			alive(c, 9)
		}},
		{"documents never opened or not files", Options{}, func(t *testing.T, c *rawClient) {
			c.request(10, "textDocument/definition", at(pathToURI(filepath.Join(root, "nope.nix")), 1, 1))
			require.Equal(t, 0, errorCode(c.response(10)))
			c.request(11, "textDocument/hover", at("untitled:Untitled-1", 0, 0))
			require.Equal(t, -32602, errorCode(c.response(11)))
			c.request(12, "textDocument/hover", at("::not a uri", 0, 0))
			require.Equal(t, -32602, errorCode(c.response(12)))
			c.send(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///nowhere/x.nix","version":2},"contentChanges":[{"text":"x"}]}}`)
			c.send(`{"jsonrpc":"2.0","method":"textDocument/didClose","params":{"textDocument":{"uri":"file:///nowhere/x.nix"}}}`)
			alive(c, 9)
		}},
		{"a deeply nested document", Options{}, func(t *testing.T, c *rawClient) {
			deep := strings.Repeat("[ ", 20000) + strings.Repeat("] ", 20000)
			c.send(mustJSON(map[string]any{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": map[string]any{
				"textDocument": map[string]any{"uri": pathToURI(filepath.Join(root, "deep.nix")), "languageId": "nix", "version": 1, "text": deep},
			}}))
			c.request(8, "textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": pathToURI(filepath.Join(root, "deep.nix"))}})
			require.Equal(t, 0, errorCode(c.response(8)))
			alive(c, 9)
		}},
		{"edits with ranges past the end or reversed", Options{}, func(t *testing.T, c *rawClient) {
			uri := pathToURI(filepath.Join(root, "scratch.nix"))
			c.send(mustJSON(map[string]any{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": map[string]any{
				"textDocument": map[string]any{"uri": uri, "languageId": "nix", "version": 1, "text": "{ a = 1; }"},
			}}))
			for i, r := range []string{`{"start":{"line":5,"character":0},"end":{"line":9,"character":3}}`, `{"start":{"line":0,"character":8},"end":{"line":0,"character":2}}`} {
				c.send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":%q,"version":%d},"contentChanges":[{"range":%s,"text":"🚀"}]}}`, uri, i+2, r))
			}
			alive(c, 9)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newRawClient(t, tt.opt)
			c.request(1, "initialize", initialize)
			require.Equal(t, 0, errorCode(c.response(1)))
			tt.run(t, c)
			c.request(2, "shutdown", nil)
			c.response(2)
			c.send(`{"jsonrpc":"2.0","method":"exit"}`)
			select {
			case err := <-c.done:
				require.NoError(t, err)
				c.done <- err
			case <-time.After(testTimeout):
				t.Fatal("the server did not exit")
			}
		})
	}
}

// The client vanishing while requests wait (here, for indexing to finish)
// ends the session without a panic or a hang.
func TestClientVanishesMidRequest(t *testing.T) {
	root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	for i := 0; i < 10; i++ {
		c := newRawClient(t, Options{})
		c.request(1, "initialize", map[string]any{"rootUri": pathToURI(root), "capabilities": map[string]any{}})
		for id := 2; id < 20; id++ {
			c.request(id, "workspace/symbol", map[string]any{"query": "b"})
		}
		if i%2 == 0 {
			c.response(1)
		}
		c.conn.Close()
		select {
		case err := <-c.done:
			require.True(t, errors.Is(err, ErrExitWithoutShutdown), "%v", err)
			c.done <- err
		case <-time.After(testTimeout):
			t.Fatal("the server did not exit")
		}
	}
}

// $/cancelRequest reaches a request waiting for a large workspace to
// finish indexing: it ends at once with RequestCancelled, and the session
// goes on.
func TestCancelRequest(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	repo, err := genrepo.Generate(filepath.Join(dir, "repo"), genrepo.Options{Components: 1500, Fixture: filepath.Join("..", "testdata", "monorepo")})
	require.NoError(t, err)
	c := newRawClient(t, Options{})
	c.request(1, "initialize", map[string]any{"rootUri": pathToURI(repo.Root), "capabilities": map[string]any{"window": map[string]any{"workDoneProgress": true}}})
	c.response(1)
	c.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	c.request(5, "workspace/symbol", map[string]any{"query": "c0001"})
	c.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}`)
	require.Equal(t, -32800, errorCode(c.response(5)))
	// Messages are read in order, so had the cancellation waited for
	// indexing, the end of indexing's progress would be here already.
	require.NotContains(t, c.progressKinds(), "end", "the cancellation did not wait for indexing")

	c.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":12345}}`)
	c.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":"junk"}`)
	c.request(6, "workspace/symbol", map[string]any{"query": "c0001"})
	m := c.response(6)
	require.Equal(t, 0, errorCode(m))
	require.NotEmpty(t, m["result"])

	// Indexing this large a workspace showed work-done progress; its end
	// may arrive just after the first answer.
	var kinds []string
	require.Eventually(t, func() bool {
		kinds = c.progressKinds()
		return len(kinds) > 1 && kinds[len(kinds)-1] == "end"
	}, testTimeout, 10*time.Millisecond)
	require.Equal(t, "begin", kinds[0], "%v", kinds)
}

// progressKinds lists the kinds of the $/progress notifications received
// so far, in order.
func (c *rawClient) progressKinds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var kinds []string
	for _, n := range c.notes {
		if n["method"] == "$/progress" {
			value, _ := n["params"].(map[string]any)["value"].(map[string]any)
			kinds = append(kinds, fmt.Sprint(value["kind"]))
		}
	}
	return kinds
}

// A pathologically deep document costs its own parse: requests about other
// files and shutdown are answered promptly.
func TestDeeplyNestedDocument(t *testing.T) {
	c, root, backend, _ := monorepoSession(t)
	deep := filepath.Join(root, "deep.nix")
	text := strings.Repeat("{a=", 50000) + "1" + strings.Repeat(";}", 50000)
	require.NoError(t, os.WriteFile(deep, []byte(text), 0o644))
	start := time.Now()
	c.open(deep)
	var hover any
	c.mustCall("textDocument/hover", protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(backend)}}}, &hover)
	require.NoError(t, c.shutdown())
	require.Less(t, time.Since(start), 10*time.Second, "one deep file must not hold up the session")
}
