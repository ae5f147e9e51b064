package lsp

import (
	"context"
	"github.com/monoflake/monoflake/analysis/indexcache"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sourcegraph/conc"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// session is what the editor has shown the server: its workspaces (one per
// repository), the open buffers and the order in which they changed. It
// keeps one snapshot of the model per workspace current (snapshots.go) and
// hands each request the snapshot that holds every change sent before it
// (Snapshot). Its lock guards only its own state, so a slow environment or
// a request in flight never waits for it, and it never waits for them.
type session struct {
	ctx   context.Context // ends with the connection; background work uses it
	bg    *conc.WaitGroup // the server's: every goroutine it starts
	out   reporter
	index *indexcache.Store // the model's persistent index, or nil
	// indexGate, in tests, holds first loads (Options.indexGate).
	indexGate chan struct{}
	parser    *syntax.Parser // only the read loop parses buffers

	// changes numbers document changes in the order they were received.
	changes atomic.Uint64

	// editMu serialises changes of snapshots, so two writers never start
	// from the same old snapshot and lose each other's change.
	editMu sync.Mutex

	mu         sync.Mutex
	workspaces []*workspace
	docs       map[string]*document // open buffers by path
	dirty      map[string]bool      // files whose diagnostics go out first
}

// reporter is how the parts of the server speak to the editor; the server
// implements it over its connection.
type reporter interface {
	logf(format string, args ...any)
	message(typ protocol.MessageType, format string, args ...any)
	notify(method string, params any)
	beginProgress(title, message string) *progress
	// diagnosticsChanged wakes the diagnostics publisher.
	diagnosticsChanged()
	// earlyDiagnostics hands the publisher a workspace's stored
	// diagnostics before its first snapshot exists; it returns once the
	// publisher has them, so they go out before that snapshot's.
	earlyDiagnostics(ws *workspace, diags cachedDiagnostics)
	// lensesChanged asks the editor to ask for code lenses again.
	lensesChanged()
}

func newSession(ctx context.Context, bg *conc.WaitGroup, out reporter, index *indexcache.Store) *session {
	return &session{ctx: ctx, bg: bg, out: out, index: index, parser: syntax.NewParser(), docs: map[string]*document{}, dirty: map[string]bool{}}
}

// close frees the parser and every buffer once nothing runs any more.
func (s *session) close() {
	s.parser.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, d := range s.docs {
		d.doc.Close()
		delete(s.docs, p)
	}
}

// changeSeqKey is the context key of the number of the last document
// change a request saw arrive before it.
type changeSeqKey struct{}

// stamp returns ctx marked with the changes received so far: Snapshot
// waits for them.
func (s *session) stamp(ctx context.Context) context.Context {
	return context.WithValue(ctx, changeSeqKey{}, s.changes.Load())
}

// Snapshot returns the snapshot of the workspace path belongs to, once it
// holds every change sent before the request of ctx; nil (and no error)
// when no workspace holds path.
func (s *session) Snapshot(ctx context.Context, path string) (*analysis.Snapshot, error) {
	ws := s.workspaceFor(path)
	if ws == nil {
		return nil, nil
	}
	return s.snapshot(ctx, ws)
}

// SnapshotOpening is Snapshot, first opening the repository of a file
// outside every workspace folder when it is part of a flake (see
// workspaceForFile).
func (s *session) SnapshotOpening(ctx context.Context, path string) (*analysis.Snapshot, error) {
	ws := s.workspaceForFile(path)
	if ws == nil {
		return nil, nil
	}
	return s.snapshot(ctx, ws)
}

// Snapshots returns the current snapshot of every indexed workspace,
// waiting for those still indexing; one that failed to index is left out.
func (s *session) Snapshots(ctx context.Context) ([]*analysis.Snapshot, error) {
	s.mu.Lock()
	wss := append([]*workspace(nil), s.workspaces...)
	s.mu.Unlock()
	var out []*analysis.Snapshot
	for _, ws := range wss {
		snap, err := s.snapshot(ctx, ws)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			continue
		}
		out = append(out, snap)
	}
	return out, nil
}

// Document returns the open buffer of path, or nil.
func (s *session) Document(path string) *document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[path]
}

// OpenBelow lists the paths of the open buffers in dir or below it, sorted.
func (s *session) OpenBelow(dir string) []string {
	s.mu.Lock()
	var out []string
	for p := range s.docs {
		if contains(dir, p) {
			out = append(out, p)
		}
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out
}

// HasFolderAt reports whether the repository at root is open because of a
// workspace folder the editor named (not a file opened from elsewhere).
func (s *session) HasFolderAt(root string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ws := range s.workspaces {
		if ws.root == root && len(ws.folders) > 0 {
			return true
		}
	}
	return false
}
