package lsp

import (
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
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

// readCachedDiagnostics returns the stored diagnostics of root when the
// repository is as the index last saw it (analysis.StoredDiagnostics), in
// the protocol's terms.
func (s *session) readCachedDiagnostics(root string) (cachedDiagnostics, bool) {
	stored, ok := analysis.StoredDiagnostics(s.index, analysis.Prove(s.ctx, root, s.index))
	if !ok {
		return nil, false
	}
	pos := func(p analysis.Position) protocol.Position {
		return protocol.Position{Line: uint32(p.Line), Character: uint32(p.UTF16Column)}
	}
	out := cachedDiagnostics{}
	for _, d := range stored {
		out[d.Loc.File] = append(out[d.Loc.File], toDiagnostic(protocol.Range{Start: pos(d.Start), End: pos(d.End)}, d.Diagnostic))
	}
	return out, true
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
