package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

func (s *server) hover(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.HoverParams
	v, offset, ok, err := s.decodeAt(ctx, raw, &p, &p.TextDocumentPositionParams)
	if !ok || err != nil {
		return nil, err
	}
	info, ok := analysis.Hover(v.snap, v.path, offset)
	if !ok {
		return nil, nil
	}
	r := toRange(v.lines, info.Span)
	return &protocol.Hover{
		Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: info.Markdown + s.environmentHover(v.snap, info.Output)},
		Range:    &r,
	}, nil
}
