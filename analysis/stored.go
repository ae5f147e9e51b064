package analysis

import (
	"encoding/json"

	"github.com/monoflake/monoflake/analysis/indexcache"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// Diagnostics of an unchanged repository, from the persistent index.
//
// Loading a large repository takes a while even from the index (the model
// is resolved again), while a repository nobody changed since the last run
// has the diagnostics it had then. So every snapshot loaded from disk can
// store its diagnostics under its result key, with their positions, and a
// later process (`monoflake check`, the language server starting) finds
// them with StoredDiagnostics at the cost of Unchanged: a stat per file.

// StoredDiagnostic is a diagnostic with its positions, so that showing it
// needs no file.
type StoredDiagnostic struct {
	Diagnostic
	Start, End Position
}

// Position is a place in a file: Line 0-based, Column in bytes and
// UTF16Column in UTF-16 code units from the start of the line (what
// command-line tools and editors count).
type Position struct {
	Line, Column, UTF16Column int
}

func storedDiagnosticsKey(resultKey string) string {
	return indexcache.Key("diagnostics", factsVersion, resultKey)
}

// StoredDiagnostics returns the diagnostics stored for a repository that
// proof found unchanged (Prove), with their positions; ok is false when it
// changed or nothing is stored.
func StoredDiagnostics(store *indexcache.Store, proof Proof) (diags []StoredDiagnostic, ok bool) {
	if store == nil || proof.Key == "" {
		return nil, false
	}
	data, ok := store.Get(storedDiagnosticsKey(proof.Key))
	if !ok || json.Unmarshal(data, &diags) != nil {
		return nil, false
	}
	return diags, true
}

// StoreDiagnostics returns the snapshot's diagnostics with their
// positions, and records them in store when the snapshot was loaded from
// disk with no edit laid over it (ResultKey). Losing the write costs the
// next process time, not answers.
func (s *Snapshot) StoreDiagnostics(store *indexcache.Store) []StoredDiagnostic {
	all := s.AllDiagnostics()
	out := make([]StoredDiagnostic, 0, len(all))
	for _, d := range all {
		sd := StoredDiagnostic{Diagnostic: d}
		if f := s.File(d.Loc.File); f != nil && f.Lines() != nil {
			lines := f.Lines()
			sd.Start, sd.End = positionIn(lines, d.Loc.Span.Start), positionIn(lines, d.Loc.Span.End)
		}
		out = append(out, sd)
	}
	if key := s.ResultKey(); store != nil && key != "" {
		if data, err := json.Marshal(out); err == nil {
			_ = store.Put(storedDiagnosticsKey(key), data)
		}
	}
	return out
}

func positionIn(lines *syntax.Lines, offset int) Position {
	line, col := lines.Position(offset)
	_, utf16 := lines.UTF16Position(offset)
	return Position{Line: line, Column: col, UTF16Column: utf16}
}
