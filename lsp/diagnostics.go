package lsp

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sort"
	"time"

	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

// diagnosticsChanged wakes the publisher; wakes while it is busy coalesce.
func (s *server) diagnosticsChanged() {
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
// The workspace-wide pass is computed in a goroutine of its own, so an
// edit that arrives meanwhile still gets its diagnostics at once.
func (s *server) publishLoop(ctx context.Context) {
	delay := s.opt.DiagnosticsDelay
	if delay == 0 {
		delay = DefaultDiagnosticsDelay
	}
	published := map[string][]protocol.Diagnostic{}
	var wide <-chan time.Time // fires when the workspace-wide pass is due
	wideDone := make(chan workspaceDiagnostics, 1)
	running, again := false, false
	// edited are the files published by publishEdited while a wide pass
	// was computed: its older view of them must not overwrite theirs.
	edited := map[string]bool{}
	// stored are the files published from the index whose workspace has
	// no snapshot yet: a pass without that snapshot must not clear them.
	stored := map[string]*workspace{}
	// waiting are the stored diagnostics of workspaces still indexing, for
	// the buffers opened meanwhile; answered the buffers they were sent.
	waiting := map[*workspace]cachedDiagnostics{}
	answered := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-s.early:
			waiting[e.ws] = e.diags
			st := s.publishState(false)
			s.publishStored(published, st, e, stored)
			s.answerBuffers(published, st, waiting, answered, stored)
		case <-s.kick:
			if delay > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
			}
			st := s.publishState(true)
			for p := range s.publishEdited(published, st) {
				edited[p] = true
			}
			s.answerBuffers(published, st, waiting, answered, stored)
			wide = time.After(workspaceDiagnosticsDelay)
		case <-wide:
			wide = nil
			if running {
				again = true
				continue
			}
			running, edited = true, map[string]bool{}
			st := s.publishState(false)
			s.bg.Go(func() { wideDone <- s.workspaceDiagnostics(st) })
		case wd := <-wideDone:
			running = false
			for ws := range waiting {
				if _, ok := wd.st.snaps[ws]; ok {
					delete(waiting, ws)
				}
			}
			skip := edited
			for p, ws := range stored {
				if _, ok := wd.st.snaps[ws]; ok {
					delete(stored, p) // this pass has the snapshot: it decides
				} else {
					skip = maps.Clone(skip)
					skip[p] = true
				}
			}
			s.publishChanged(published, wd, skip)
			if again || len(edited) > 0 {
				// Edits during the pass may have changed other files.
				again, wide = false, time.After(workspaceDiagnosticsDelay)
			}
		}
	}
}

// earlyDiagnostics are a workspace's diagnostics from the index.
type earlyDiagnostics struct {
	ws    *workspace
	diags cachedDiagnostics
}

// earlyDiagnostics implements reporter.
func (s *server) earlyDiagnostics(ws *workspace, diags cachedDiagnostics) {
	select {
	case s.early <- earlyDiagnostics{ws, diags}:
	case <-s.ctx.Done():
	}
}

// publishStored sends a workspace's stored diagnostics of files that are
// not open: those are answered by answerBuffers, which checks that the
// buffer holds what the disk does.
func (s *server) publishStored(published map[string][]protocol.Diagnostic, st publishState, e earlyDiagnostics, stored map[string]*workspace) {
	open := s.session.unindexedBuffers()
	for _, p := range slices.Sorted(maps.Keys(e.diags)) {
		if _, isOpen := open[p]; isOpen || published[p] != nil {
			continue
		}
		if diags := s.shownCached(e.diags[p]); len(diags) > 0 {
			s.publish(published, st, p, diags)
			stored[p] = e.ws
		}
	}
}

// answerBuffers gives each buffer opened in a workspace that is still
// indexing, and whose text is the disk's, its stored diagnostics, an
// empty list when the file had none: the editor learns at once that the
// file it opened has no problems, instead of after the index.
func (s *server) answerBuffers(published map[string][]protocol.Diagnostic, st publishState, waiting map[*workspace]cachedDiagnostics, answered map[string]bool, stored map[string]*workspace) {
	if len(waiting) == 0 {
		return
	}
	open := s.session.unindexedBuffers()
	for _, p := range slices.Sorted(maps.Keys(open)) {
		b := open[p]
		diags, ok := waiting[b.ws]
		if !ok || answered[p] || published[p] != nil || !b.doc.onDisk() {
			continue
		}
		answered[p] = true
		st.open[p] = b.doc // publish carries the buffer's version
		shown := s.shownCached(diags[p])
		s.publish(published, st, p, shown)
		if len(shown) > 0 {
			stored[p] = b.ws
		}
	}
}

// publishState is what one publishing pass works from: the snapshots and
// the buffer versions they hold, taken from the session in one step so that
// they agree, and the evaluation errors placed in them.
type publishState struct {
	dirty      []string                      // edited files of indexed workspaces, sorted
	snapOf     map[string]*analysis.Snapshot // the snapshot that owns each dirty file
	snaps      map[*workspace]*analysis.Snapshot
	open       map[string]*document
	evaluation map[string][]protocol.Diagnostic
}

// publishState takes the state of one pass; takeDirty moves the edited
// files of indexed workspaces into it (the workspace-wide pass leaves them
// to publishEdited).
func (s *server) publishState(takeDirty bool) publishState {
	st := s.session.publishView(takeDirty)
	all := make([]*analysis.Snapshot, 0, len(st.snaps))
	for _, snap := range st.snaps {
		all = append(all, snap)
	}
	st.evaluation = s.envs.Diagnostics(all)
	return st
}

// shown leaves out the diagnostics the settings turn off.
func (s *server) shown(diags []analysis.Diagnostic) []analysis.Diagnostic {
	if s.syntax.Load() {
		return diags
	}
	out := make([]analysis.Diagnostic, 0, len(diags))
	for _, d := range diags {
		if d.Code != analysis.CodeSyntax {
			out = append(out, d)
		}
	}
	return out
}

// publishEdited sends the diagnostics of the files just edited, always
// (so the editor knows they match the new version), straight from the
// snapshot's per-file index.
func (s *server) publishEdited(published map[string][]protocol.Diagnostic, st publishState) map[string]bool {
	done := map[string]bool{}
	for _, p := range st.dirty {
		snap := st.snapOf[p]
		diags := append(toDiagnostics(linesOf(snap, p), s.shown(snap.Diagnostics(p))), st.evaluation[p]...)
		if len(diags) > 0 || published[p] != nil || st.open[p] != nil {
			s.publish(published, st, p, diags)
		}
		done[p] = true
	}
	return done
}

// workspaceDiagnostics is every file's diagnostics in one publishState.
type workspaceDiagnostics struct {
	st      publishState
	current map[string][]protocol.Diagnostic
}

// workspaceDiagnostics walks every file of every indexed workspace.
func (s *server) workspaceDiagnostics(st publishState) workspaceDiagnostics {
	current := map[string][]protocol.Diagnostic{}
	for ws, snap := range st.snaps {
		byFile := map[string][]analysis.Diagnostic{}
		for _, d := range s.shown(snap.AllDiagnostics()) {
			byFile[d.Loc.File] = append(byFile[d.Loc.File], d)
		}
		for p, diags := range byFile {
			if s.session.workspaceFor(p) == ws {
				current[p] = toDiagnostics(linesOf(snap, p), diags)
			}
		}
	}
	for p, diags := range st.evaluation {
		current[p] = append(current[p], diags...)
	}
	return workspaceDiagnostics{st: st, current: current}
}

// publishChanged sends every file whose diagnostics changed, such as the
// frontend file whose reference an edit in backend broke or fixed, and
// empty lists for files that have none left; files in skip were published
// from a newer snapshot since.
func (s *server) publishChanged(published map[string][]protocol.Diagnostic, wd workspaceDiagnostics, skip map[string]bool) {
	var paths []string
	for p := range wd.current {
		paths = append(paths, p)
	}
	for p := range published {
		if _, ok := wd.current[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if !skip[p] && !reflect.DeepEqual(published[p], wd.current[p]) {
			s.publish(published, wd.st, p, wd.current[p])
		}
	}
}

// publish sends one file's diagnostics and remembers them.
func (s *server) publish(published map[string][]protocol.Diagnostic, st publishState, path string, diags []protocol.Diagnostic) {
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
