package lsp

import (
	"fmt"

	"go.lsp.dev/protocol"
)

// progress is one work-done progress the server shows in the client. A
// client without work-done progress support gets a progress that does
// nothing, so callers need no checks.
type progress struct {
	s     *server
	token *protocol.ProgressToken
}

// beginProgress asks the client for a progress token and starts showing
// title. It sends a request and waits for the answer, so it must not run
// in the read loop.
func (s *server) beginProgress(title, message string) *progress {
	if !s.client.Load().workDoneProgress {
		return &progress{}
	}
	token := protocol.NewProgressToken(fmt.Sprintf("monoflake-%d", s.progress.Add(1)))
	if _, err := s.conn.Call(s.ctx, "window/workDoneProgress/create", &protocol.WorkDoneProgressCreateParams{Token: *token}, nil); err != nil {
		s.logf("create progress: %v", err)
		return &progress{}
	}
	p := &progress{s: s, token: token}
	p.send(&protocol.WorkDoneProgressBegin{Kind: protocol.WorkDoneProgressKindBegin, Title: title, Message: message})
	return p
}

func (p *progress) report(message string, percentage uint32) {
	p.send(&protocol.WorkDoneProgressReport{Kind: protocol.WorkDoneProgressKindReport, Message: message, Percentage: percentage})
}

func (p *progress) end(message string) {
	p.send(&protocol.WorkDoneProgressEnd{Kind: protocol.WorkDoneProgressKindEnd, Message: message})
}

func (p *progress) send(value any) {
	if p.token == nil {
		return
	}
	p.s.notify("$/progress", &protocol.ProgressParams{Token: *p.token, Value: value})
}
