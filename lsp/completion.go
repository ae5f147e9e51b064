package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

func (s *server) completion(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.CompletionParams
	list := &protocol.CompletionList{Items: []protocol.CompletionItem{}}
	v, offset, ok, err := s.decodeAt(ctx, raw, &p, &p.TextDocumentPositionParams)
	if !ok || err != nil {
		return list, err
	}
	for _, it := range analysis.Complete(v.snap, v.path, offset) {
		list.Items = append(list.Items, protocol.CompletionItem{
			Label:    it.Label,
			Detail:   it.Detail,
			Kind:     toCompletionKind(it.Kind),
			TextEdit: &protocol.TextEdit{Range: toRange(v.lines, it.Replace), NewText: it.Label},
		})
	}
	return list, nil
}

func toCompletionKind(k analysis.CompletionKind) protocol.CompletionItemKind {
	switch k {
	case analysis.CompleteFile:
		return protocol.CompletionItemKindFile
	case analysis.CompleteFolder:
		return protocol.CompletionItemKindFolder
	}
	return protocol.CompletionItemKindField
}
