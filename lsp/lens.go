package lsp

import (
	"context"
	"fmt"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
)

// codeLens puts a lens above each devShell definition: which component
// it belongs to and, for the component's own devShell, the state of its
// environment with a command that re-evaluates it.
func (s *server) codeLens(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.CodeLensParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	out := []protocol.CodeLens{}
	v, ok, err := s.viewOf(ctx, p.TextDocument.URI)
	if !ok || err != nil {
		return out, err
	}
	for _, l := range analysis.DevShellLenses(v.snap, v.path) {
		lens := protocol.CodeLens{Range: toRange(v.lines, l.Span)}
		if !l.Primary {
			lens.Command = &protocol.Command{Title: fmt.Sprintf("devShell %s of %s", l.Shell, l.Component)}
		} else {
			state := s.environmentState(v.snap, l.Component)
			lens.Command = &protocol.Command{
				Title:     fmt.Sprintf("devShell of %s · environment %s", l.Component, state),
				Command:   CommandReloadEnvironment,
				Arguments: []any{string(p.TextDocument.URI)},
			}
		}
		out = append(out, lens)
	}
	return out, nil
}

// lensesChanged sends workspace/codeLens/refresh, when the client supports
// it, so lenses showing an environment's state follow it. The request
// waits for the client's answer, so it goes out in a goroutine of its own.
func (s *server) lensesChanged() {
	if !s.client.Load().lensRefresh {
		return
	}
	s.bg.Go(func() {
		if _, err := s.conn.Call(s.ctx, "workspace/codeLens/refresh", nil, nil); err != nil {
			s.logf("workspace/codeLens/refresh: %v", err)
		}
	})
}
