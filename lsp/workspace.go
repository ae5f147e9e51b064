package lsp

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

// workspace is one repository the session indexes. Several workspace
// folders inside one repository share it.
type workspace struct {
	root  string // repository root, as analysis.FindRoot finds it
	ready chan struct{}
	err   error         // why the first index failed; set before ready closes
	kick  chan struct{} // wakes the updater

	// The rest is guarded by session.mu.

	// folders are the workspace folders that led here; none for a
	// repository opened through a file.
	folders []string

	// snap is the current snapshot; nil until the first index is done.
	snap *analysis.Snapshot
	// pending are the buffers changed since snap was made, by path; nil
	// for a buffer closed (its file on disk takes over). The updater
	// folds them into snap in the background, all at once, so a burst of
	// edits that makes the model re-resolve does so once, not per
	// keystroke, and the read loop never waits for it.
	pending map[string]*document
	// queued and applied number document changes (session.changes): the
	// last one queued for this workspace, and the last one snap holds.
	queued, applied uint64
	// settled is closed, and replaced, whenever snap changes.
	settled chan struct{}
	// inSnap are the buffers snap holds, for the versions diagnostics
	// are published with.
	inSnap map[string]*document
}

func newWorkspace(root string, folders []string) *workspace {
	return &workspace{root: root, folders: folders, ready: make(chan struct{}),
		pending: map[string]*document{}, settled: make(chan struct{}), inSnap: map[string]*document{}, kick: make(chan struct{}, 1)}
}

// contains reports whether path is dir or below it.
func contains(dir, path string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// addFolder adds a workspace folder, indexing its repository unless
// another folder already did.
func (s *session) addFolder(dir string) {
	root, _, err := analysis.FindRoot(dir)
	if err != nil {
		s.out.message(protocol.MessageTypeWarning, "monoflake cannot open the workspace folder %s: %v", dir, err)
		return
	}
	s.mu.Lock()
	for _, ws := range s.workspaces {
		if ws.root == root {
			ws.folders = append(ws.folders, dir)
			s.mu.Unlock()
			return
		}
	}
	ws := newWorkspace(root, []string{dir})
	s.workspaces = append(s.workspaces, ws)
	s.mu.Unlock()
	s.startWorkspace(ws)
}

// removeFolder forgets a workspace folder, and its repository when no
// folder is left in it. Open buffers keep their repository.
func (s *session) removeFolder(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.workspaces[:0]
	for _, ws := range s.workspaces {
		folders := ws.folders[:0]
		for _, f := range ws.folders {
			if f != dir {
				folders = append(folders, f)
			}
		}
		ws.folders = folders
		if len(ws.folders) > 0 || s.hasDocumentIn(ws) {
			kept = append(kept, ws)
		}
	}
	s.workspaces = kept
	s.out.diagnosticsChanged()
}

// hasDocumentIn reports whether a buffer is open in ws; s.mu is held.
func (s *session) hasDocumentIn(ws *workspace) bool {
	for p := range s.docs {
		if s.workspaceForLocked(p) == ws {
			return true
		}
	}
	return false
}

// workspaceFor returns the workspace a file belongs to: the one with the
// nearest workspace folder above it, else the repository holding it; nil
// when none does.
func (s *session) workspaceFor(path string) *workspace {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workspaceForLocked(path)
}

func (s *session) workspaceForLocked(path string) *workspace {
	var best *workspace
	bestLen := -1
	for _, ws := range s.workspaces {
		for _, f := range ws.folders {
			if contains(f, path) && len(f) > bestLen {
				best, bestLen = ws, len(f)
			}
		}
	}
	if best != nil {
		return best
	}
	for _, ws := range s.workspaces {
		if contains(ws.root, path) && len(ws.root) > bestLen {
			best, bestLen = ws, len(ws.root)
		}
	}
	return best
}

// workspaceForFile is workspaceFor, opening the repository of a file
// outside every workspace folder when it is part of a flake. A loose Nix
// file elsewhere gets no workspace: indexing whatever directory holds it
// (a home directory, /tmp) would cost more than it could tell.
func (s *session) workspaceForFile(path string) *workspace {
	if ws := s.workspaceFor(path); ws != nil {
		return ws
	}
	root, hasFlake, err := analysis.FindRoot(filepath.Dir(path))
	if err != nil || !hasFlake {
		return nil
	}
	s.mu.Lock()
	for _, ws := range s.workspaces {
		if ws.root == root {
			s.mu.Unlock()
			return ws
		}
	}
	ws := newWorkspace(root, nil)
	s.workspaces = append(s.workspaces, ws)
	s.mu.Unlock()
	s.startWorkspace(ws)
	return ws
}

// startWorkspace indexes a new workspace and keeps its snapshot up to
// date with the buffers edited in it.
func (s *session) startWorkspace(ws *workspace) {
	s.bg.Go(func() { s.firstLoad(ws) })
	s.bg.Go(func() { s.applyLoop(ws) })
}

// firstLoad indexes a workspace for the first time.
func (s *session) firstLoad(ws *workspace) {
	defer close(ws.ready)
	if cached, ok := s.readCachedDiagnostics(ws.root); ok {
		s.out.earlyDiagnostics(ws, cached)
	}
	if s.indexGate != nil {
		select {
		case <-s.indexGate:
		case <-s.ctx.Done():
			return
		}
	}
	if err := s.load(ws); err != nil {
		ws.err = err
		if s.ctx.Err() == nil {
			s.out.message(protocol.MessageTypeError, "monoflake could not index %s: %v", ws.root, err)
		}
	}
}

// load indexes ws from disk and makes the result, with the open buffers
// on top, its current snapshot.
func (s *session) load(ws *workspace) error {
	start := time.Now()
	snap, err := analysis.LoadWith(s.ctx, ws.root, analysis.LoadOptions{Index: s.index})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	base := snap // snap gets the open buffers laid over it below
	s.bg.Go(func() { base.StoreDiagnostics(s.index) })

	s.editMu.Lock()
	defer s.editMu.Unlock()
	// The open buffers go on top, and every change queued so far is in
	// them: what is queued after this point applies to the new snapshot.
	s.mu.Lock()
	var overlay []*document
	for p, d := range s.docs {
		if s.workspaceForLocked(p) == ws {
			overlay = append(overlay, d)
		}
	}
	ws.pending = map[string]*document{}
	upto := ws.queued
	s.mu.Unlock()
	for _, d := range overlay {
		snap = snap.WithTree(d.path, d.doc.Tree)
	}
	s.mu.Lock()
	ws.inSnap = map[string]*document{}
	for _, d := range overlay {
		ws.inSnap[d.path] = d
		s.dirty[d.path] = true
	}
	s.swapLocked(ws, snap, upto)
	s.mu.Unlock()
	s.out.diagnosticsChanged()

	s.out.message(protocol.MessageTypeInfo, "monoflake indexed %s: %d components, %d Nix files in %v",
		ws.root, len(snap.Components()), len(snap.Files()), elapsed.Round(time.Millisecond))
	if snap.ConfigErr != nil {
		s.out.message(protocol.MessageTypeWarning, "monoflake ignores its configuration: %v", snap.ConfigErr)
	}
	return nil
}

// reportIndexing shows work-done progress while the workspaces index.
func (s *session) reportIndexing() {
	s.mu.Lock()
	wss := append([]*workspace(nil), s.workspaces...)
	s.mu.Unlock()
	pending := 0
	for _, ws := range wss {
		select {
		case <-ws.ready:
		default:
			pending++
		}
	}
	if pending == 0 {
		return
	}
	p := s.out.beginProgress("Indexing Nix workspace", fmt.Sprintf("%d repositories", pending))
	for i, ws := range wss {
		select {
		case <-ws.ready:
		case <-s.ctx.Done():
			return
		}
		p.report(fmt.Sprintf("indexed %s", filepath.Base(ws.root)), uint32((i+1)*100/len(wss)))
	}
	p.end("done")
}

// Reindex indexes the workspace holding path again, in the background,
// for a change the file watchers do not report (git's index).
func (s *session) Reindex(path string) {
	ws := s.workspaceFor(path)
	if ws == nil {
		return
	}
	s.bg.Go(func() {
		select {
		case <-ws.ready:
			s.reindex(ws)
		case <-s.ctx.Done():
		}
	})
}

// reindex indexes an indexed workspace again from disk.
func (s *session) reindex(ws *workspace) {
	if err := s.load(ws); err != nil && s.ctx.Err() == nil {
		s.out.message(protocol.MessageTypeError, "monoflake could not re-index %s: %v", ws.root, err)
	}
}

// didChangeWorkspaceFolders opens and forgets repositories as the editor's
// folders change.
func (s *server) didChangeWorkspaceFolders(ctx context.Context, raw json.RawMessage) error {
	var p protocol.DidChangeWorkspaceFoldersParams
	if err := decodeParams(raw, &p); err != nil {
		return err
	}
	for _, f := range p.Event.Removed {
		if d, err := uriToPath(protocol.DocumentURI(f.URI)); err == nil {
			s.session.removeFolder(d)
		}
	}
	for _, f := range p.Event.Added {
		if d, err := uriToPath(protocol.DocumentURI(f.URI)); err == nil {
			s.session.addFolder(d)
		}
	}
	return nil
}
