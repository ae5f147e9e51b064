package lsp

import (
	"encoding/json"

	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/indexcache"
)

// Diagnostics of an unchanged repository from the persistent index.
//
// Indexing a large repository takes a while even from the index (the
// model is resolved again), and an editor opened on a repository nobody
// changed since the last session should not show an empty problem list
// meanwhile. So the diagnostics of every snapshot loaded from disk are
// stored under the snapshot's result key, and a workspace whose files
// still have the stats the index recorded publishes them before it loads.
// The first publishing pass over the loaded snapshot then corrects
// whatever differs, as it would after any edit.

// cachedDiagnostics are a workspace's diagnostics by absolute file path,
// every code included: the syntax setting applies when they are shown.
type cachedDiagnostics map[string][]protocol.Diagnostic

func cachedDiagnosticsKey(resultKey string) string {
	return indexcache.Key("lsp-diagnostics", resultKey)
}

// readCachedDiagnostics returns the stored diagnostics of root when the
// repository is as the index last saw it.
func (s *session) readCachedDiagnostics(root string) (cachedDiagnostics, bool) {
	if s.index == nil {
		return nil, false
	}
	key, ok := analysis.Unchanged(s.ctx, root, s.index)
	if !ok {
		return nil, false
	}
	data, ok := s.index.Get(cachedDiagnosticsKey(key))
	if !ok {
		return nil, false
	}
	var out cachedDiagnostics
	if json.Unmarshal(data, &out) != nil {
		return nil, false // a damaged entry only costs the early answer
	}
	return out, true
}

// storeCachedDiagnostics records the diagnostics of a snapshot loaded from
// disk, before any buffer is laid over it.
func (s *session) storeCachedDiagnostics(snap *analysis.Snapshot) {
	key := snap.ResultKey()
	if s.index == nil || key == "" {
		return
	}
	byFile := map[string][]analysis.Diagnostic{}
	for _, d := range snap.AllDiagnostics() {
		byFile[d.Loc.File] = append(byFile[d.Loc.File], d)
	}
	out := make(cachedDiagnostics, len(byFile))
	for p, diags := range byFile {
		out[p] = toDiagnostics(linesOf(snap, p), diags)
	}
	if data, err := json.Marshal(out); err == nil {
		_ = s.index.Put(cachedDiagnosticsKey(key), data) // losing it costs the next start time
	}
}

// shownCached leaves out what the settings turn off.
func (s *server) shownCached(diags []protocol.Diagnostic) []protocol.Diagnostic {
	if s.syntax.Load() {
		return diags
	}
	out := make([]protocol.Diagnostic, 0, len(diags))
	for _, d := range diags {
		if code, _ := d.Code.(string); code != analysis.CodeSyntax {
			out = append(out, d)
		}
	}
	return out
}
