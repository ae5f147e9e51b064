package evalcache

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// notifications records a Tracker's callbacks.
type notifications struct {
	mu     sync.Mutex
	states []State
	done   chan *Result
}

func (n *notifications) notify(_ Request, res *Result) {
	n.mu.Lock()
	n.states = append(n.states, res.State)
	n.mu.Unlock()
	if res.State != Evaluating {
		n.done <- res
	}
}

func (n *notifications) wait(t *testing.T) *Result {
	t.Helper()
	select {
	case res := <-n.done:
		return res
	case <-time.After(2 * time.Minute):
		t.Fatal("no notification")
		return nil
	}
}

func TestTracker(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{})
	n := &notifications{done: make(chan *Result, 8)}
	tr := NewTracker(c, n.notify)
	defer tr.Close()
	req := monorepoRequest(root, "backend", "backend")

	// First open: evaluating now, fresh later.
	res := tr.Ensure(req)
	require.Equal(t, Evaluating, res.State)
	require.Nil(t, res.Env)
	// Asking again while it runs starts nothing new (the notifications below
	// prove it); a fast evaluation may already be done.
	require.Contains(t, []State{Evaluating, Fresh}, tr.Ensure(req).State)
	done := n.wait(t)
	require.Equal(t, Fresh, done.State)
	require.Equal(t, "8080", done.Env.Variables["BACKEND_PORT"].Value)
	cur, ok := tr.Current(req)
	require.True(t, ok)
	require.Equal(t, done, cur)

	// Open again: a hit, no notification.
	res = tr.Ensure(req)
	require.True(t, res.Hit)

	// An edit: evaluating again, showing the last environment meanwhile.
	editFile(t, filepath.Join(root, "backend/nix/outputs.nix"), `BACKEND_PORT = "8080"`, `BACKEND_PORT = "9090"`)
	res = tr.Ensure(req)
	require.Equal(t, Evaluating, res.State)
	require.Equal(t, "8080", res.Env.Variables["BACKEND_PORT"].Value)
	require.Equal(t, "9090", n.wait(t).Env.Variables["BACKEND_PORT"].Value)

	// Reload evaluates a fresh entry anyway.
	require.Equal(t, Evaluating, tr.Reload(req).State)
	require.Equal(t, Fresh, n.wait(t).State)
	n.mu.Lock()
	require.Equal(t, []State{Evaluating, Fresh, Evaluating, Fresh, Evaluating, Fresh}, n.states)
	n.mu.Unlock()

	// Untrusted: answered at once, nothing runs.
	require.NoError(t, c.Revoke(root))
	require.Equal(t, Untrusted, tr.Ensure(monorepoRequest(root, "infra", "infra")).State)
}
