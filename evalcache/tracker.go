package evalcache

import (
	"context"
	"sync"

	"github.com/sourcegraph/conc"
)

// Tracker evaluates components in the background for a long-running
// process (the language server): asking for a component answers at once
// with what is known, starts an evaluation when the cache has no fresh
// entry, and reports every change of state through a callback, so that the
// server can show progress, update code lenses and notify the editor. It
// knows nothing of the protocol.
type Tracker struct {
	cache  *Cache
	notify func(Request, *Result)

	ctx    context.Context
	cancel context.CancelFunc
	wg     conc.WaitGroup

	mu      sync.Mutex
	current map[string]*Result // by entry
	running map[string]bool
	// closed is set by Close; no evaluation starts after it, so none can
	// race with Close waiting for the running ones.
	closed bool
}

// NewTracker starts tracking evaluations through c. notify is called when
// an evaluation starts, with State Evaluating, from the goroutine calling
// Ensure or Reload (so it must not call back into the Tracker), and when it
// ends, with its result, from a background goroutine.
func NewTracker(c *Cache, notify func(Request, *Result)) *Tracker {
	ctx, cancel := context.WithCancel(context.Background())
	return &Tracker{cache: c, notify: notify, ctx: ctx, cancel: cancel,
		current: map[string]*Result{}, running: map[string]bool{}}
}

func (t *Tracker) key(req Request) (Request, string, error) {
	req, err := normalize(req)
	if err != nil {
		return req, "", err
	}
	return req, t.cache.entryPath(req.ComponentDir, req.Mode, req.System), nil
}

// Ensure returns the component's environment as known now: a cache hit, an
// untrusted repository, or, while an evaluation runs in the background, a
// Result in State Evaluating that still carries the last environment when
// there is one. It never waits for nix.
func (t *Tracker) Ensure(req Request) *Result {
	return t.start(req, false)
}

// Reload evaluates the component again, even when its entry is fresh
// (`monoflake.reloadEnvironment`).
func (t *Tracker) Reload(req Request) *Result {
	return t.start(req, true)
}

// Current returns the last result the tracker knows for the component,
// without touching the cache.
func (t *Tracker) Current(req Request) (*Result, bool) {
	_, key, err := t.key(req)
	if err != nil {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	res, ok := t.current[key]
	return res, ok
}

func (t *Tracker) start(req Request, force bool) *Result {
	req, key, err := t.key(req)
	if err != nil {
		return &Result{State: Failed, Err: &EvalError{Message: err.Error()}}
	}
	if !t.cache.TrustedFor(req) {
		res := &Result{State: Untrusted}
		t.set(key, res)
		return res
	}
	f := t.cache.lookup(key, &req)
	if f.hit != nil && !force {
		t.set(key, f.hit)
		return f.hit
	}
	t.mu.Lock()
	evaluating := &Result{State: Evaluating}
	if prev := t.current[key]; prev != nil {
		evaluating.Env, evaluating.Files, evaluating.DrvPath, evaluating.Err = prev.Env, prev.Files, prev.DrvPath, prev.Err
	} else if f.last != nil {
		evaluating.Env, evaluating.Files, evaluating.DrvPath = f.last, f.rec.files(), f.rec.DrvPath
	}
	if t.running[key] {
		t.mu.Unlock()
		return evaluating
	}
	t.running[key] = true
	t.current[key] = evaluating
	t.mu.Unlock()
	t.notify(req, evaluating)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		delete(t.running, key)
		return evaluating
	}
	t.wg.Go(func() {
		var res *Result
		var err error
		if force {
			res, err = t.cache.Reload(t.ctx, req)
		} else {
			res, err = t.cache.Get(t.ctx, req)
		}
		if err != nil {
			res = &Result{State: Failed, Err: &EvalError{Message: err.Error()}, Env: evaluating.Env, Files: evaluating.Files}
			if res.Env != nil {
				res.State = Stale
			}
		}
		t.mu.Lock()
		delete(t.running, key)
		t.current[key] = res
		t.mu.Unlock()
		if t.ctx.Err() == nil {
			t.notify(req, res)
		}
	})
	return evaluating
}

func (t *Tracker) set(key string, res *Result) {
	t.mu.Lock()
	t.current[key] = res
	t.mu.Unlock()
}

// Close cancels running evaluations (killing their nix processes) and
// waits for them.
func (t *Tracker) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
}
