package lsp

import (
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// This file converts between the model's byte offsets and the protocol's
// line/UTF-16 positions. A nil *syntax.Lines (a file that is not indexed,
// such as Cargo.toml named by a path literal) maps every offset to the
// start of the file, which is where an editor should open it anyway.

func toPosition(lines *syntax.Lines, offset int) protocol.Position {
	if lines == nil {
		return protocol.Position{}
	}
	line, col := lines.UTF16Position(offset)
	return protocol.Position{Line: uint32(line), Character: uint32(col)}
}

func toRange(lines *syntax.Lines, span syntax.Span) protocol.Range {
	return protocol.Range{Start: toPosition(lines, span.Start), End: toPosition(lines, span.End)}
}

// toOffset converts a client position to a byte offset, clamped into the
// text: positions past the end of a line or of the file are common from
// clients whose buffer is a keystroke ahead.
func toOffset(lines *syntax.Lines, p protocol.Position) int {
	if lines == nil {
		return 0
	}
	return lines.UTF16Offset(clampInt(p.Line), clampInt(p.Character))
}

// clampInt keeps huge uint32 values from wrapping negative on 32-bit
// platforms.
func clampInt(v uint32) int {
	const maxInt32 = 1<<31 - 1
	if v > maxInt32 {
		return maxInt32
	}
	return int(v)
}

// linesOf returns the line index of a file of the snapshot, or nil.
func linesOf(snap *analysis.Snapshot, path string) *syntax.Lines {
	return snap.File(path).Lines()
}

func toLocation(snap *analysis.Snapshot, loc analysis.Location) protocol.Location {
	return protocol.Location{URI: pathToURI(loc.File), Range: toRange(linesOf(snap, loc.File), loc.Span)}
}

func toLocations(snap *analysis.Snapshot, locs []analysis.Location) []protocol.Location {
	out := make([]protocol.Location, 0, len(locs))
	for _, l := range locs {
		out = append(out, toLocation(snap, l))
	}
	return out
}

func toSeverity(s analysis.Severity) protocol.DiagnosticSeverity {
	switch s {
	case analysis.SeverityError:
		return protocol.DiagnosticSeverityError
	case analysis.SeverityWarning:
		return protocol.DiagnosticSeverityWarning
	default:
		return protocol.DiagnosticSeverityInformation
	}
}

// diagnosticSource names monoflake in the editor's problem list.
const diagnosticSource = "monoflake"

func toDiagnostics(lines *syntax.Lines, diags []analysis.Diagnostic) []protocol.Diagnostic {
	out := make([]protocol.Diagnostic, 0, len(diags))
	for _, d := range diags {
		out = append(out, toDiagnostic(toRange(lines, d.Loc.Span), d))
	}
	return out
}

// toDiagnostic is one diagnostic at r, whether r comes from the file's
// lines or from the persistent index.
func toDiagnostic(r protocol.Range, d analysis.Diagnostic) protocol.Diagnostic {
	return protocol.Diagnostic{Range: r, Severity: toSeverity(d.Severity), Code: d.Code, Source: diagnosticSource, Message: d.Message}
}

func toSymbolKind(s analysis.Symbol) protocol.SymbolKind {
	if s.Kind == analysis.SymbolCategory {
		return protocol.SymbolKindNamespace
	}
	switch s.Category {
	case analysis.Packages, analysis.LegacyPackages:
		return protocol.SymbolKindPackage
	case analysis.Apps:
		return protocol.SymbolKindFunction
	case analysis.Checks:
		return protocol.SymbolKindEvent
	case analysis.DevShells:
		return protocol.SymbolKindObject
	}
	return protocol.SymbolKindField
}

func toDocumentSymbols(lines *syntax.Lines, syms []analysis.Symbol) []protocol.DocumentSymbol {
	out := make([]protocol.DocumentSymbol, 0, len(syms))
	for _, s := range syms {
		ds := protocol.DocumentSymbol{
			Name:           s.Name,
			Detail:         s.Detail,
			Kind:           toSymbolKind(s),
			Range:          toRange(lines, s.Loc.Span),
			SelectionRange: toRange(lines, s.Selection),
		}
		if len(s.Children) > 0 {
			ds.Children = toDocumentSymbols(lines, s.Children)
		}
		out = append(out, ds)
	}
	return out
}

func toSymbolInformation(snap *analysis.Snapshot, s analysis.Symbol) protocol.SymbolInformation {
	return protocol.SymbolInformation{
		Name:          s.Name,
		Kind:          toSymbolKind(s),
		Location:      toLocation(snap, s.Loc),
		ContainerName: s.Detail,
	}
}
