package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

// workspaceSymbolLimit bounds a workspace/symbol answer: a client shows a
// few dozen at most, and a 5,000-component workspace matches thousands for
// a one-letter query.
const workspaceSymbolLimit = 200

func (s *server) documentSymbol(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.DocumentSymbolParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	v, ok, err := s.viewOf(ctx, p.TextDocument.URI)
	if !ok || err != nil {
		return []protocol.DocumentSymbol{}, err
	}
	return toDocumentSymbols(v.lines, analysis.DocumentSymbols(v.snap, v.path)), nil
}

func (s *server) workspaceSymbol(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.WorkspaceSymbolParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	snaps, err := s.session.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	out := []protocol.SymbolInformation{}
	for _, snap := range snaps {
		for _, sym := range analysis.WorkspaceSymbols(snap, p.Query, workspaceSymbolLimit-len(out)) {
			out = append(out, toSymbolInformation(snap, sym))
		}
		if len(out) >= workspaceSymbolLimit {
			break
		}
	}
	return out, nil
}
