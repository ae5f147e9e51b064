package lsp

import (
	"context"
	"reflect"
	"sort"
	"time"

	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

// kickDiagnostics wakes the publisher; wakes while it is busy coalesce.
func (s *Server) kickDiagnostics() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// workspaceDiagnosticsDelay is how long after the last change the
// publisher looks at every other file of the workspace. The edited file's
// diagnostics go out at once; the workspace-wide pass costs a walk over
// every file, which a burst of keystrokes should pay once.
const workspaceDiagnosticsDelay = 50 * time.Millisecond

// publishLoop publishes diagnostics whenever a snapshot changes. It owns
// what was last published, so it alone decides what to resend or clear.
func (s *Server) publishLoop(ctx context.Context) {
	delay := s.opt.DiagnosticsDelay
	if delay == 0 {
		delay = DefaultDiagnosticsDelay
	}
	published := map[string][]protocol.Diagnostic{}
	var wide <-chan time.Time // fires when the workspace-wide pass is due
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			if delay > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
			}
			s.publishEdited(published, s.publishState())
			wide = time.After(workspaceDiagnosticsDelay)
		case <-wide:
			wide = nil
			s.publishAll(published)
		}
	}
}

// publishState is what one publishing pass works from, taken under the
// lock in one step so that snapshots and buffer versions agree.
type publishState struct {
	dirty      []string                      // edited files of indexed workspaces, sorted
	snapOf     map[string]*analysis.Snapshot // the snapshot that owns each dirty file
	snaps      map[*workspace]*analysis.Snapshot
	open       map[string]*document
	evaluation map[string][]protocol.Diagnostic
}

func (s *Server) publishState() publishState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := publishState{snapOf: map[string]*analysis.Snapshot{}, snaps: map[*workspace]*analysis.Snapshot{}, open: make(map[string]*document, len(s.docs))}
	var all []*analysis.Snapshot
	for _, ws := range s.workspaces {
		if ws.snap != nil {
			st.snaps[ws] = ws.snap
			all = append(all, ws.snap)
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
		// A file whose workspace is still indexing has no diagnostics
		// yet, which is not the same as having none: it stays dirty.
		if ws := s.workspaceForLocked(p); ws != nil && ws.snap != nil {
			st.dirty = append(st.dirty, p)
			st.snapOf[p] = ws.snap
			delete(s.dirty, p)
		}
	}
	sort.Strings(st.dirty)
	st.evaluation = s.evaluationDiagnostics(all)
	return st
}

// publishEdited sends the diagnostics of the files just edited, always
// (so the editor knows they match the new version), straight from the
// snapshot's per-file index.
func (s *Server) publishEdited(published map[string][]protocol.Diagnostic, st publishState) map[string]bool {
	done := map[string]bool{}
	for _, p := range st.dirty {
		snap := st.snapOf[p]
		diags := append(toDiagnostics(linesOf(snap, p), snap.Diagnostics(p)), st.evaluation[p]...)
		if len(diags) > 0 || published[p] != nil || st.open[p] != nil {
			s.publish(published, st, p, diags)
		}
		done[p] = true
	}
	return done
}

// publishAll sends, after the edited files, every other file whose
// diagnostics changed, such as the frontend file whose reference an edit
// in backend broke or fixed, and empty lists for files that have none left.
func (s *Server) publishAll(published map[string][]protocol.Diagnostic) {
	st := s.publishState()
	done := s.publishEdited(published, st)
	current := map[string][]protocol.Diagnostic{}
	for ws, snap := range st.snaps {
		byFile := map[string][]analysis.Diagnostic{}
		for _, d := range snap.AllDiagnostics() {
			byFile[d.Loc.File] = append(byFile[d.Loc.File], d)
		}
		for p, diags := range byFile {
			if s.workspaceFor(p) == ws {
				current[p] = toDiagnostics(linesOf(snap, p), diags)
			}
		}
	}
	for p, diags := range st.evaluation {
		current[p] = append(current[p], diags...)
	}
	var rest []string
	for p := range current {
		rest = append(rest, p)
	}
	for p := range published {
		if _, ok := current[p]; !ok {
			rest = append(rest, p)
		}
	}
	sort.Strings(rest)
	for _, p := range rest {
		if !done[p] && !reflect.DeepEqual(published[p], current[p]) {
			s.publish(published, st, p, current[p])
		}
	}
}

// publish sends one file's diagnostics and remembers them.
func (s *Server) publish(published map[string][]protocol.Diagnostic, st publishState, path string, diags []protocol.Diagnostic) {
	params := &protocol.PublishDiagnosticsParams{URI: pathToURI(path), Diagnostics: diags}
	if params.Diagnostics == nil {
		params.Diagnostics = []protocol.Diagnostic{}
	}
	if d := st.open[path]; d != nil {
		params.URI, params.Version = d.uri, uint32(max(d.version, 0))
	}
	s.notify("textDocument/publishDiagnostics", params)
	if len(diags) > 0 {
		published[path] = diags
	} else {
		delete(published, path)
	}
}
