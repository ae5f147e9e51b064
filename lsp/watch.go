package lsp

import (
	"context"
	"path/filepath"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// reloadThreshold is how many changed files make re-indexing the whole
// workspace cheaper than updating the snapshot file by file: each update
// re-resolves the model.
const reloadThreshold = 64

// registerWatchers asks the client to watch the files the model reads, so
// changes outside the editor (a git checkout, a generator) reach it.
func (s *server) registerWatchers() {
	var watchers []protocol.FileSystemWatcher
	for _, g := range []string{"**/*.nix", "**/flake.lock", "**/" + analysis.ConfigFile} {
		watchers = append(watchers, protocol.FileSystemWatcher{GlobPattern: g})
	}
	params := &protocol.RegistrationParams{Registrations: []protocol.Registration{{
		ID:              "monoflake-watch",
		Method:          "workspace/didChangeWatchedFiles",
		RegisterOptions: &protocol.DidChangeWatchedFilesRegistrationOptions{Watchers: watchers},
	}}}
	if _, err := s.conn.Call(s.ctx, "client/registerCapability", params, nil); err != nil {
		s.logf("register file watchers: %v", err)
	}
}

func (s *server) didChangeWatchedFiles(ctx context.Context, raw json.RawMessage) error {
	var p protocol.DidChangeWatchedFilesParams
	if err := decodeParams(raw, &p); err != nil {
		return err
	}
	var paths []string
	for _, ev := range p.Changes {
		if path, err := uriToPath(ev.URI); err == nil {
			paths = append(paths, path)
		}
	}
	s.session.diskChanged(paths)
	return nil
}

// diskChanged brings the snapshots up to date with files changed on disk,
// in the background: reading and parsing many files must not hold up the
// read loop.
func (s *session) diskChanged(paths []string) {
	byWorkspace := map[*workspace][]string{}
	for _, path := range paths {
		if ws := s.workspaceFor(path); ws != nil {
			byWorkspace[ws] = append(byWorkspace[ws], path)
		}
	}
	for ws, paths := range byWorkspace {
		s.bg.Go(func() { s.applyDiskChanges(ws, paths) })
	}
}

// applyDiskChanges brings ws's snapshot up to date with files changed on
// disk. Open buffers win over their files.
func (s *session) applyDiskChanges(ws *workspace, paths []string) {
	select {
	case <-ws.ready:
	case <-s.ctx.Done():
		return
	}
	reload := len(paths) > reloadThreshold
	var nix []string
	for _, p := range paths {
		switch base := filepath.Base(p); {
		case base == "flake.lock" || base == analysis.ConfigFile:
			reload = true
		case isNixFile(p):
			nix = append(nix, p)
		}
	}
	if reload {
		s.reindex(ws)
		return
	}
	if len(nix) == 0 {
		return
	}
	parser := syntax.NewParser()
	defer parser.Close()
	s.update(ws, nix, func(snap *analysis.Snapshot) *analysis.Snapshot {
		for _, p := range nix {
			s.mu.Lock()
			open := s.docs[p] != nil
			s.mu.Unlock()
			if !open && contains(snap.Root, p) {
				snap = snap.WithDiskFile(s.ctx, parser, p)
			}
		}
		return snap
	})
}
