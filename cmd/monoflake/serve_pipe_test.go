package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A language client over the pipes of a real `monoflake serve`, as an editor
// starts it: only the base protocol's framing and the few messages the
// benchmark sends, so that nothing of the server's own code measures it.

// pipeMessage is any message of the protocol, a request, a response or a
// notification.
type pipeMessage struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

// pipeClient speaks to a server through its stdin and stdout. Messages are
// read by a goroutine of its own into a channel, so that a silent server
// fails the benchmark by a deadline instead of hanging it.
type pipeClient struct {
	b        *testing.B
	cmd      *exec.Cmd
	in       io.WriteCloser
	messages chan pipeMessage
	stderr   bytes.Buffer
}

// pipeTimeout bounds every wait for the server.
const pipeTimeout = 5 * time.Minute

func startServer(b *testing.B, bin string, env []string, dir string) *pipeClient {
	c := &pipeClient{b: b, cmd: exec.Command(bin, "serve"), messages: make(chan pipeMessage, 64)}
	c.cmd.Dir, c.cmd.Env, c.cmd.Stderr = dir, env, &c.stderr
	var err error
	c.in, err = c.cmd.StdinPipe()
	require.NoError(b, err)
	out, err := c.cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, c.cmd.Start())
	go c.read(bufio.NewReader(out))
	return c
}

// read decodes the server's messages until its stdout closes.
func (c *pipeClient) read(r *bufio.Reader) {
	defer close(c.messages)
	headers := textproto.NewReader(r)
	for {
		h, err := headers.ReadMIMEHeader()
		if err != nil {
			return
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var m pipeMessage
		if json.Unmarshal(body, &m) == nil {
			c.messages <- m
		}
	}
}

func (c *pipeClient) send(m map[string]any) {
	m["jsonrpc"] = "2.0"
	body, err := json.Marshal(m)
	require.NoError(c.b, err)
	_, err = fmt.Fprintf(c.in, "Content-Length: %d\r\n\r\n%s", len(body), body)
	require.NoError(c.b, err)
}

// until reads messages until done says one is the awaited one, answering the
// server's own requests (progress tokens, configuration) as an editor would.
func (c *pipeClient) until(what string, done func(pipeMessage) bool) pipeMessage {
	deadline := time.After(pipeTimeout)
	for {
		select {
		case m, ok := <-c.messages:
			require.True(c.b, ok, "the server ended while the client waited for %s: %s", what, c.stderr.String())
			if m.Method != "" && m.ID != nil {
				c.answer(m)
				continue
			}
			if done(m) {
				return m
			}
		case <-deadline:
			c.b.Fatalf("no %s from the server within %v", what, pipeTimeout)
		}
	}
}

// answer replies to a request of the server: an empty configuration for
// every item asked for, else a null result.
func (c *pipeClient) answer(m pipeMessage) {
	var result any
	if m.Method == "workspace/configuration" {
		var params struct {
			Items []json.RawMessage `json:"items"`
		}
		_ = json.Unmarshal(m.Params, &params)
		result = make([]any, len(params.Items))
	}
	c.send(map[string]any{"id": m.ID, "result": result})
}

func (c *pipeClient) response(id int) func(pipeMessage) bool {
	return func(m pipeMessage) bool { return m.Method == "" && string(m.ID) == strconv.Itoa(id) }
}

// firstDiagnostics starts the server on root, opens file and times the
// process from its start to the first diagnostics of the file, which must
// hold want of them; then it shuts the server down and reads its peak RSS.
func firstDiagnostics(b *testing.B, bin string, env []string, root, file string, want int) usage {
	text, err := os.ReadFile(file)
	require.NoError(b, err)
	uri := "file://" + filepath.ToSlash(file)
	start := time.Now()
	c := startServer(b, bin, env, root)
	c.send(map[string]any{"id": 1, "method": "initialize", "params": map[string]any{
		"processId":        os.Getpid(),
		"rootUri":          "file://" + root,
		"workspaceFolders": []map[string]string{{"uri": "file://" + root, "name": filepath.Base(root)}},
		"capabilities":     map[string]any{"window": map[string]any{"workDoneProgress": true}},
	}})
	init := c.until("the initialize response", c.response(1))
	require.Nil(b, init.Error, "initialize: %s", init.Error)
	c.send(map[string]any{"method": "initialized", "params": map[string]any{}})
	c.send(map[string]any{"method": "textDocument/didOpen", "params": map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "nix", "version": 1, "text": string(text)},
	}})
	var diags struct {
		URI         string            `json:"uri"`
		Diagnostics []json.RawMessage `json:"diagnostics"`
	}
	c.until("diagnostics of "+file, func(m pipeMessage) bool {
		return m.Method == "textDocument/publishDiagnostics" && json.Unmarshal(m.Params, &diags) == nil && diags.URI == uri
	})
	wall := time.Since(start)
	require.Len(b, diags.Diagnostics, want, "the first diagnostics of %s", file)

	c.send(map[string]any{"id": 2, "method": "shutdown"})
	c.until("the shutdown response", c.response(2))
	c.send(map[string]any{"method": "exit"})
	require.NoError(b, c.in.Close())
	stuck := time.AfterFunc(pipeTimeout, func() { _ = c.cmd.Process.Kill() })
	defer stuck.Stop()
	for range c.messages {
	}
	require.NoError(b, c.cmd.Wait(), "monoflake serve: %s", c.stderr.String())
	return usage{wall: wall, rss: maxRSS(c.cmd.ProcessState)}
}
