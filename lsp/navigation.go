package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

func (s *server) definition(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.DefinitionParams
	v, offset, ok, err := s.decodeAt(ctx, raw, &p, &p.TextDocumentPositionParams)
	if !ok || err != nil {
		return nil, err
	}
	return toLocations(v.snap, analysis.Definition(v.snap, v.path, offset)), nil
}

func (s *server) references(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.ReferenceParams
	v, offset, ok, err := s.decodeAt(ctx, raw, &p, &p.TextDocumentPositionParams)
	if !ok || err != nil {
		return nil, err
	}
	return toLocations(v.snap, analysis.References(v.snap, v.path, offset, p.Context.IncludeDeclaration)), nil
}
