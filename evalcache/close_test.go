package evalcache

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Close waits for background work; CloseContext stops waiting when its
// context ends and cancels that work instead.
func TestCloseContext(t *testing.T) {
	c, _ := testCache(t, "", Options{})
	var finished atomic.Bool
	c.bg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		finished.Store(true)
	})
	require.NoError(t, c.Close())
	require.True(t, finished.Load(), "Close waits for the background work")

	c, _ = testCache(t, "", Options{})
	var cancelled atomic.Bool
	c.bg.Go(func() {
		select {
		case <-c.bgCtx.Done():
			cancelled.Store(true)
		case <-time.After(time.Minute):
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	require.NoError(t, c.CloseContext(ctx))
	require.Less(t, time.Since(start), 10*time.Second)
	require.True(t, cancelled.Load(), "an interrupted close cancels the background work")
}
