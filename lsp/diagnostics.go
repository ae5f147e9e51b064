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

// publishLoop publishes diagnostics whenever a snapshot changes. It owns
// what was last published, so it alone decides what to resend or clear.
func (s *Server) publishLoop(ctx context.Context) {
	delay := s.opt.DiagnosticsDelay
	if delay == 0 {
		delay = DefaultDiagnosticsDelay
	}
	published := map[string][]protocol.Diagnostic{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		if delay > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
		s.publishOnce(published)
	}
}

// fileDiagnostics is what one publishDiagnostics says about one file.
type fileDiagnostics struct {
	path    string
	uri     protocol.DocumentURI
	version int32
	diags   []protocol.Diagnostic
}

// publishOnce sends the diagnostics that differ from what the client has:
// first for the files just edited (always, so the editor knows they match
// the new version), then for every other file whose diagnostics changed,
// such as the frontend file whose reference an edit in backend broke or
// fixed, and empty lists for files that no longer have any.
func (s *Server) publishOnce(published map[string][]protocol.Diagnostic) {
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = map[string]bool{}
	type source struct {
		snap *analysis.Snapshot
		ws   *workspace
	}
	var sources []source
	for _, ws := range s.workspaces {
		if ws.snap != nil {
			sources = append(sources, source{ws.snap, ws})
		}
	}
	open := make(map[string]*document, len(s.docs))
	for p, d := range s.docs {
		open[p] = d
	}
	owner := func(p string) *workspace { return s.workspaceForLocked(p) }
	s.mu.Unlock()

	current := map[string]fileDiagnostics{}
	for _, src := range sources {
		byFile := map[string][]analysis.Diagnostic{}
		for _, d := range src.snap.AllDiagnostics() {
			byFile[d.Loc.File] = append(byFile[d.Loc.File], d)
		}
		for p, diags := range byFile {
			if _, seen := current[p]; seen {
				continue
			}
			s.mu.Lock()
			mine := owner(p) == src.ws
			s.mu.Unlock()
			if !mine {
				continue
			}
			current[p] = fileDiagnostics{path: p, diags: toDiagnostics(linesOf(src.snap, p), diags)}
		}
	}

	var first, rest []string
	for p := range dirty {
		first = append(first, p)
	}
	for p := range current {
		if !dirty[p] {
			rest = append(rest, p)
		}
	}
	for p := range published {
		if _, ok := current[p]; !ok && !dirty[p] {
			rest = append(rest, p)
		}
	}
	sort.Strings(first)
	sort.Strings(rest)
	for i, p := range append(first, rest...) {
		fd := current[p]
		fd.path = p
		if fd.diags == nil {
			fd.diags = []protocol.Diagnostic{}
		}
		fd.uri = pathToURI(p)
		if d := open[p]; d != nil {
			fd.uri, fd.version = d.uri, d.version
		}
		old, had := published[p]
		if i >= len(first) && had == (len(fd.diags) > 0) && reflect.DeepEqual(old, fd.diags) {
			continue
		}
		if i < len(first) && !had && len(fd.diags) == 0 && open[p] == nil {
			continue // nothing to say about a closed file without problems
		}
		s.notify("textDocument/publishDiagnostics", &protocol.PublishDiagnosticsParams{
			URI: fd.uri, Version: uint32(max(fd.version, 0)), Diagnostics: fd.diags,
		})
		if len(fd.diags) > 0 {
			published[p] = fd.diags
		} else {
			delete(published, p)
		}
	}
}
