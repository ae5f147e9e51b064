package lsp

import (
	"context"
	"errors"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

// codeRequestFailed is LSP's RequestFailed (3.17): the request was valid
// but cannot be carried out, with a message the editor shows.
const codeRequestFailed jsonrpc2.Code = -32803

// prepareRenameResult is the range-and-placeholder form of the answer.
type prepareRenameResult struct {
	Range       protocol.Range `json:"range"`
	Placeholder string         `json:"placeholder"`
}

func (s *server) prepareRename(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.PrepareRenameParams
	v, offset, ok, err := s.decodeAt(ctx, raw, &p, &p.TextDocumentPositionParams)
	if !ok || err != nil {
		return nil, err
	}
	span, name, err := analysis.PrepareRename(v.snap, v.path, offset)
	if err != nil {
		return nil, renameError(err)
	}
	return &prepareRenameResult{Range: toRange(v.lines, span), Placeholder: name}, nil
}

func (s *server) rename(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.RenameParams
	v, offset, ok, err := s.decodeAt(ctx, raw, &p, &p.TextDocumentPositionParams)
	if !ok || err != nil {
		return nil, err
	}
	edits, err := analysis.Rename(v.snap, v.path, offset, p.NewName)
	if err != nil {
		return nil, renameError(err)
	}
	we := &protocol.WorkspaceEdit{Changes: s.textEdits(v.snap, edits)}
	return we, nil
}

// renameError shows the model's reason to the user.
func renameError(err error) error {
	if errors.Is(err, analysis.ErrCannotRename) {
		return jsonrpc2.NewError(codeRequestFailed, err.Error())
	}
	return err
}
