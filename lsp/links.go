package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

func (s *server) documentLink(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.DocumentLinkParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	out := []protocol.DocumentLink{}
	v, ok, err := s.viewOf(ctx, p.TextDocument.URI)
	if !ok || err != nil {
		return out, err
	}
	for _, l := range analysis.Links(v.snap, v.path) {
		out = append(out, protocol.DocumentLink{Range: toRange(v.lines, l.Span), Target: pathToURI(l.Target)})
	}
	return out, nil
}
