package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// This file turns the document and position a request names into what the
// features work on: one file of one snapshot, and a byte offset in it.

// fileView is one file of a snapshot, what a request at a position of it
// works on.
type fileView struct {
	snap  *analysis.Snapshot
	path  string
	lines *syntax.Lines
}

// viewOf returns the file a request names. ok is false when the server
// knows nothing about it (not a Nix file of any workspace): the request
// then has an empty answer, not an error.
func (s *server) viewOf(ctx context.Context, uri protocol.DocumentURI) (fileView, bool, error) {
	path, err := uriToPath(uri)
	if err != nil {
		return fileView{}, false, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	snap, err := s.session.Snapshot(ctx, path)
	if snap == nil || err != nil {
		return fileView{}, false, err
	}
	lines := linesOf(snap, path)
	if lines == nil {
		return fileView{}, false, nil
	}
	return fileView{snap: snap, path: path, lines: lines}, true, nil
}

// decodeAt decodes the params of a request at a position into params
// (whose embedded TextDocumentPositionParams is pos) and returns the file
// and the byte offset they name.
func (s *server) decodeAt(ctx context.Context, raw json.RawMessage, params any, pos *protocol.TextDocumentPositionParams) (fileView, int, bool, error) {
	if err := decodeParams(raw, params); err != nil {
		return fileView{}, 0, false, err
	}
	p := *pos
	v, ok, err := s.viewOf(ctx, p.TextDocument.URI)
	if !ok || err != nil {
		return v, 0, false, err
	}
	return v, toOffset(v.lines, p.Position), true, nil
}
