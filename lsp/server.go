// Package lsp is monoflake's language server: a thin adapter that converts
// between the Language Server Protocol and the model of package analysis.
// Every feature is computed by a function of analysis that the command line
// calls too; this package only tracks editor buffers, keeps one snapshot of
// the model per workspace current, and translates positions, URIs and
// results.
//
// Concurrency: jsonrpc2 hands messages over one at a time from its read
// loop. Notifications that change documents edit and reparse the buffer
// right there, in order, and queue it for the workspace's updater, which
// folds queued buffers into a new snapshot in the background. Requests run
// in their own goroutines; each waits until the snapshot holds every edit
// sent before it, so a slow one never holds up typing and $/cancelRequest
// can reach it.
//
// The state is in three parts, each with its own lock: the server (the
// connection, lifecycle and requests in flight), the session (workspaces,
// buffers, the change sequence, and Snapshot for requests) and the
// environments (what evaluation knows, through one plan-then-trust flow).
// A feature is a file of its own that reads a snapshot from the session.
package lsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/sourcegraph/conc"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis/indexcache"
	"github.com/monoflake/monoflake/evalcache"
)

// Options configure a server. The zero value is usable.
type Options struct {
	// Log receives a line for everything the server does (the --log file);
	// nil discards. What users need to see goes to window/logMessage too.
	Log io.Writer
	// Version is reported to the client in serverInfo.
	Version string
	// DiagnosticsDelay is how long the server lets edits pile up before it
	// publishes diagnostics, so a burst of keystrokes publishes once. Zero
	// means DefaultDiagnosticsDelay; negative means no wait.
	DiagnosticsDelay time.Duration
	// MaxMessage bounds one incoming message in bytes; zero means
	// DefaultMaxMessage. Larger messages are skipped and answered with an
	// error.
	MaxMessage int64
	// Cache evaluates devShell environments; nil leaves every environment
	// in state "none" while everything static keeps working.
	Cache *evalcache.Cache
	// Index is the model's persistent index, shared with the command line:
	// opening an unchanged workspace reads no file it holds. nil reads
	// every file.
	Index *indexcache.Store

	// indexGate, in tests, holds every workspace's first load (after its
	// stored diagnostics went out) until it is closed.
	indexGate chan struct{}
}

// DefaultDiagnosticsDelay is the default Options.DiagnosticsDelay.
const DefaultDiagnosticsDelay = 2 * time.Millisecond

// ErrExitWithoutShutdown is what Serve returns when the client sent exit
// without shutdown, or went away without either; the process should then
// exit with status 1, as the specification asks.
var ErrExitWithoutShutdown = errors.New("the client ended the session without a shutdown request")

// Lifecycle states of a session.
const (
	stateNew int32 = iota
	stateRunning
	stateShutdown
)

// server is one connection with one client: the protocol's lifecycle,
// the requests in flight and the diagnostics publisher. What the editor
// has shown it lives in the session (session.go), what evaluation knows in
// the environments (environments.go); each guards its own state.
type server struct {
	opt    Options
	logger *log.Logger
	conn   jsonrpc2.Conn
	ctx    context.Context // ends when the connection ends; background work uses it
	stop   context.CancelFunc

	state    atomic.Int32
	exited   atomic.Bool
	client   atomic.Pointer[clientInfo] // set once, by initialize
	methods  map[string]method
	bg       conc.WaitGroup // every goroutine the server starts
	kick     chan struct{}  // wakes the diagnostics publisher
	early    chan earlyDiagnostics
	progress atomic.Int32 // names progress tokens
	// syntax says whether syntax diagnostics are published.
	syntax atomic.Bool

	session *session
	envs    *environments

	inflightMu sync.Mutex
	inflight   map[jsonrpc2.ID]context.CancelFunc
}

// clientInfo is what the client said about itself in initialize.
type clientInfo struct {
	workDoneProgress bool
	watchFiles       bool
	createFiles      bool // workspace edits may create files
	lensRefresh      bool // workspace/codeLens/refresh is supported
	init             InitializationOptions
}

// InitializationOptions are the server options an editor passes in
// initialize. The editor extensions send exactly these names.
type InitializationOptions struct {
	// Trusted says the editor trusts the workspace, so the server may
	// evaluate it with nix.
	Trusted    bool `json:"trusted"`
	Evaluation struct {
		Enabled *bool `json:"enabled"`
	} `json:"evaluation"`
	// System overrides the system evaluated for; "" means the repository's
	// configuration or the current system.
	System      *string             `json:"system"`
	Diagnostics DiagnosticsSettings `json:"diagnostics"`
}

// DiagnosticsSettings choose what the server publishes. They come in
// initializationOptions and, under "monoflake", in
// workspace/didChangeConfiguration.
type DiagnosticsSettings struct {
	// Syntax false leaves parse errors to another language server of
	// the editor (nil, nixd), so the same error is not shown twice.
	Syntax *bool `json:"syntax"`
}

// Serve runs one session on conn until the client sends exit, the
// connection ends or ctx is cancelled. It returns nil after a clean
// shutdown and exit, and ErrExitWithoutShutdown when the client left
// without shutting down.
func Serve(ctx context.Context, conn io.ReadWriteCloser, opt Options) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	s := newServer(ctx, opt)
	s.stop = stop
	s.conn = jsonrpc2.NewConn(newStream(conn, opt.MaxMessage, s.logf))
	s.conn.Go(ctx, s.handle)
	s.bg.Go(func() { s.publishLoop(ctx) })

	select {
	case <-s.conn.Done():
	case <-ctx.Done():
		s.conn.Close()
		<-s.conn.Done()
	}
	s.stop()
	s.envs.Close()
	s.bg.Wait()
	s.session.close()
	if err := s.conn.Err(); err != nil && !s.exited.Load() {
		s.logf("connection ended: %v", err)
	}
	if s.exited.Load() && s.state.Load() == stateShutdown {
		return nil
	}
	return ErrExitWithoutShutdown
}

func newServer(ctx context.Context, opt Options) *server {
	out := opt.Log
	if out == nil {
		out = io.Discard
	}
	s := &server{
		opt:      opt,
		logger:   log.New(out, "", log.LstdFlags|log.Lmicroseconds),
		ctx:      ctx,
		kick:     make(chan struct{}, 1),
		early:    make(chan earlyDiagnostics),
		inflight: map[jsonrpc2.ID]context.CancelFunc{},
	}
	s.client.Store(&clientInfo{})
	s.syntax.Store(true)
	s.session = newSession(ctx, &s.bg, s, opt.Index)
	s.session.indexGate = opt.indexGate
	s.envs = newEnvironments(opt.Cache, s, s.session.HasFolderAt)
	s.methods = s.methodTable()
	return s
}

// method is how the server handles one LSP method. Exactly one of the
// fields is set.
type method struct {
	// notify handles a notification in the read loop, in order with every
	// other notification.
	notify func(ctx context.Context, params json.RawMessage) error
	// inline answers a request in the read loop: lifecycle requests whose
	// effect must be visible to the very next message.
	inline func(ctx context.Context, params json.RawMessage) (any, error)
	// call answers a request in its own goroutine.
	call func(ctx context.Context, params json.RawMessage) (any, error)
}

func (s *server) methodTable() map[string]method {
	return map[string]method{
		"initialize":                          {inline: s.initialize},
		"initialized":                         {notify: s.initialized},
		"shutdown":                            {inline: s.shutdown},
		"textDocument/didOpen":                {notify: s.didOpen},
		"textDocument/didChange":              {notify: s.didChange},
		"textDocument/didClose":               {notify: s.didClose},
		"textDocument/didSave":                {notify: ignore},
		"workspace/didChangeWatchedFiles":     {notify: s.didChangeWatchedFiles},
		"workspace/didChangeWorkspaceFolders": {notify: s.didChangeWorkspaceFolders},
		"workspace/didChangeConfiguration":    {notify: s.didChangeConfiguration},
		"textDocument/definition":             {call: s.definition},
		"textDocument/references":             {call: s.references},
		"textDocument/hover":                  {call: s.hover},
		"textDocument/documentSymbol":         {call: s.documentSymbol},
		"workspace/symbol":                    {call: s.workspaceSymbol},
		"textDocument/completion":             {call: s.completion},
		"textDocument/prepareRename":          {call: s.prepareRename},
		"textDocument/rename":                 {call: s.rename},
		"textDocument/documentLink":           {call: s.documentLink},
		"textDocument/codeLens":               {call: s.codeLens},
		"textDocument/codeAction":             {call: s.codeAction},
		"workspace/executeCommand":            {call: s.executeCommand},
		"monoflake/environment":               {call: s.environmentRequest},
	}
}

func ignore(context.Context, json.RawMessage) error { return nil }

// handle is the jsonrpc2 handler: it runs in the connection's read loop.
func (s *server) handle(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) (err error) {
	call, isCall := req.(*jsonrpc2.Call)
	name := req.Method()
	defer func() {
		if r := recover(); r != nil {
			s.logf("panic handling %s: %v\n%s", name, r, debug.Stack())
			if isCall {
				_ = reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error handling %s: %v", name, r))
			}
			err = nil
		}
	}()
	switch name {
	case "exit":
		s.exited.Store(true)
		s.logf("exit (after shutdown: %v)", s.state.Load() == stateShutdown)
		// Closing the stream ends the read loop, and with it Serve.
		return s.conn.Close()
	case "$/cancelRequest":
		s.cancelRequest(req.Params())
		return nil
	}
	state := s.state.Load()
	switch {
	case state == stateNew && name != "initialize":
		if isCall {
			return reply(ctx, nil, jsonrpc2.NewError(jsonrpc2.ServerNotInitialized, "the server is not initialized yet; send initialize first"))
		}
		return nil
	case state == stateShutdown && isCall:
		return reply(ctx, nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "the server is shutting down; only exit is accepted"))
	}
	m, ok := s.methods[name]
	switch {
	case !ok && isCall:
		return reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method %q is not supported", name))
	case !ok:
		s.logf("ignoring notification %s", name)
		return nil
	case !isCall && m.notify == nil:
		s.logf("ignoring %s sent as a notification", name)
		return nil
	case m.notify != nil:
		if !isCall {
			if err := m.notify(ctx, req.Params()); err != nil {
				s.logf("%s: %v", name, err)
			}
			return nil
		}
		return reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "%s is a notification, not a request", name))
	case m.inline != nil:
		result, err := m.inline(ctx, req.Params())
		return reply(ctx, result, asRPCError(name, err))
	}
	s.startCall(ctx, call, reply, m.call)
	return nil
}

// startCall answers a request in its own goroutine, cancellable through
// $/cancelRequest.
func (s *server) startCall(ctx context.Context, call *jsonrpc2.Call, reply jsonrpc2.Replier, fn func(context.Context, json.RawMessage) (any, error)) {
	id := call.ID()
	// The request must see every change sent before it.
	ctx, cancel := context.WithCancel(s.session.stamp(s.ctx))
	s.inflightMu.Lock()
	s.inflight[id] = cancel
	s.inflightMu.Unlock()
	s.bg.Go(func() {
		defer func() {
			s.inflightMu.Lock()
			delete(s.inflight, id)
			s.inflightMu.Unlock()
			cancel()
		}()
		start := time.Now()
		result, err := s.runCall(ctx, call.Method(), call.Params(), fn)
		if ctx.Err() != nil && err == nil {
			// The answer may be complete, but the client asked not to
			// get it: the specification wants RequestCancelled.
			result, err = nil, protocol.ErrRequestCancelled
		}
		if rerr := reply(s.ctx, result, asRPCError(call.Method(), err)); rerr != nil {
			s.logf("reply to %s %v: %v", call.Method(), id, rerr)
		}
		s.logf("%s %v took %v", call.Method(), id, time.Since(start).Round(time.Microsecond))
	})
}

// runCall runs fn, turning a panic into an internal error.
func (s *server) runCall(ctx context.Context, name string, params json.RawMessage, fn func(context.Context, json.RawMessage) (any, error)) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("panic handling %s: %v\n%s", name, r, debug.Stack())
			result, err = nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error handling %s: %v", name, r)
		}
	}()
	return fn(ctx, params)
}

func (s *server) cancelRequest(params json.RawMessage) {
	var p struct {
		ID jsonrpc2.ID `json:"id"`
	}
	if err := json.Unmarshal(params, &p); err != nil {
		s.logf("$/cancelRequest: %v", err)
		return
	}
	s.inflightMu.Lock()
	cancel := s.inflight[p.ID]
	s.inflightMu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// asRPCError gives every error a JSON-RPC code; jsonrpc2 would send plain
// errors with code 0.
func asRPCError(method string, err error) error {
	if err == nil {
		return nil
	}
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		return rpcErr
	}
	if errors.Is(err, context.Canceled) {
		return protocol.ErrRequestCancelled
	}
	return jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
}

// decodeParams reads a request's params; a mismatch is InvalidParams.
func decodeParams(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return jsonrpc2.NewError(jsonrpc2.InvalidParams, "missing params")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params: %v", err)
	}
	return nil
}

// notify sends a notification to the client; a failure (the client went
// away) is only logged.
func (s *server) notify(method string, params any) {
	if err := s.conn.Notify(s.ctx, method, params); err != nil {
		s.logf("send %s: %v", method, err)
	}
}

// logf writes to the log file only.
func (s *server) logf(format string, args ...any) {
	s.logger.Printf(format, args...)
}

// message logs and shows a line in the client's output log.
func (s *server) message(typ protocol.MessageType, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	s.logf("%s: %s", typ, text)
	s.notify("window/logMessage", &protocol.LogMessageParams{Type: typ, Message: text})
}
