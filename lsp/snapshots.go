package lsp

import (
	"context"
	"runtime/debug"
	"sort"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// This file keeps each workspace's snapshot current: buffer edits queue
// in the read loop and one updater per workspace folds them in; disk
// changes replace the snapshot directly; requests wait for the changes
// sent before them.

// update replaces ws's snapshot with change(current), for changes that do
// not come from buffers (files changed on disk). Without a snapshot yet
// (still indexing) there is nothing to do: the index reads the disk.
func (s *session) update(ws *workspace, changed []string, change func(*analysis.Snapshot) *analysis.Snapshot) {
	s.editMu.Lock()
	defer s.editMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			s.out.logf("panic applying disk changes in %s: %v\n%s", ws.root, r, debug.Stack())
		}
	}()
	s.mu.Lock()
	snap, applied := ws.snap, ws.applied
	s.mu.Unlock()
	if snap == nil {
		return
	}
	snap = change(snap)
	s.mu.Lock()
	for _, p := range changed {
		s.dirty[p] = true
	}
	s.swapLocked(ws, snap, applied)
	s.mu.Unlock()
	s.out.diagnosticsChanged()
}

// swapLocked makes snap, which holds every buffer change up to applied,
// ws's snapshot, and wakes the requests waiting for it. s.mu is held.
func (s *session) swapLocked(ws *workspace, snap *analysis.Snapshot, applied uint64) {
	ws.snap = snap
	ws.applied = max(ws.applied, applied)
	close(ws.settled)
	ws.settled = make(chan struct{})
}

// applyLoop folds the buffers changed in ws into its snapshot, as often as
// it can keep up: changes that arrive while it works are applied together
// next time.
func (s *session) applyLoop(ws *workspace) {
	select {
	case <-ws.ready:
	case <-s.ctx.Done():
		return
	}
	parser := syntax.NewParser() // for buffers closed without saving
	defer parser.Close()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-ws.kick:
		}
		s.applyPending(ws, parser)
	}
}

func (s *session) applyPending(ws *workspace, parser *syntax.Parser) {
	s.editMu.Lock()
	defer s.editMu.Unlock()
	s.mu.Lock()
	pending, upto, snap := ws.pending, ws.queued, ws.snap
	ws.pending = map[string]*document{}
	s.mu.Unlock()
	defer func() {
		// A model bug must cost these edits, not every later one, and
		// must not leave requests waiting for them.
		if r := recover(); r != nil {
			s.out.logf("panic applying edits in %s: %v\n%s", ws.root, r, debug.Stack())
			s.out.message(protocol.MessageTypeError, "monoflake failed to update its model of %s after an edit; see its log", ws.root)
			s.mu.Lock()
			s.swapLocked(ws, ws.snap, upto)
			s.mu.Unlock()
		}
	}()
	if snap == nil || len(pending) == 0 {
		return
	}
	paths := make([]string, 0, len(pending))
	for p := range pending {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if d := pending[p]; d != nil {
			snap = snap.WithTree(p, d.doc.Tree)
		} else {
			snap = snap.WithDiskFile(s.ctx, parser, p)
		}
	}
	s.mu.Lock()
	for _, p := range paths {
		if d := pending[p]; d != nil {
			ws.inSnap[p] = d
		} else {
			delete(ws.inSnap, p)
		}
		s.dirty[p] = true
	}
	s.swapLocked(ws, snap, upto)
	s.mu.Unlock()
	s.out.diagnosticsChanged()
}

// queueDocumentLocked records a buffer change (d nil: the buffer closed)
// for ws's updater. It runs in the read loop and never waits for the
// model. s.mu is held.
func (s *session) queueDocumentLocked(ws *workspace, path string, d *document, seq uint64) {
	ws.pending[path] = d
	ws.queued = seq
	select {
	case ws.kick <- struct{}{}:
	default:
	}
}

// snapshot waits until ws is indexed and holds every buffer change sent
// before the request of ctx, and returns it.
func (s *session) snapshot(ctx context.Context, ws *workspace) (*analysis.Snapshot, error) {
	select {
	case <-ws.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	seen, _ := ctx.Value(changeSeqKey{}).(uint64)
	for {
		s.mu.Lock()
		snap, settled := ws.snap, ws.settled
		done := ws.applied >= min(seen, ws.queued)
		s.mu.Unlock()
		if snap == nil {
			return nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "the workspace %s could not be indexed: %v", ws.root, ws.err)
		}
		if done {
			return snap, nil
		}
		select {
		case <-settled:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// unindexedBuffers are the open buffers of workspaces that have no
// snapshot yet, by path, with the workspace of each.
func (s *session) unindexedBuffers() map[string]unindexedBuffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]unindexedBuffer{}
	for p, d := range s.docs {
		if ws := s.workspaceForLocked(p); ws != nil && ws.snap == nil {
			out[p] = unindexedBuffer{d, ws}
		}
	}
	return out
}

type unindexedBuffer struct {
	doc *document
	ws  *workspace
}

// publishView is the session's part of a publishState, taken under its
// lock in one step; takeDirty moves the edited files of indexed workspaces
// into it.
func (s *session) publishView(takeDirty bool) publishState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := publishState{snapOf: map[string]*analysis.Snapshot{}, snaps: map[*workspace]*analysis.Snapshot{}, open: make(map[string]*document, len(s.docs))}
	for _, ws := range s.workspaces {
		if ws.snap != nil {
			st.snaps[ws] = ws.snap
		}
	}
	for ws := range st.snaps {
		// The buffers the snapshots hold, not the newest: diagnostics
		// carry the version they were computed from.
		for p, d := range ws.inSnap {
			st.open[p] = d
		}
	}
	for p := range s.dirty {
		if !takeDirty {
			break
		}
		// A file whose workspace is still indexing has no diagnostics
		// yet, which is not the same as having none: it stays dirty.
		if ws := s.workspaceForLocked(p); ws != nil && ws.snap != nil {
			st.dirty = append(st.dirty, p)
			st.snapOf[p] = ws.snap
			delete(s.dirty, p)
		}
	}
	sort.Strings(st.dirty)
	return st
}
