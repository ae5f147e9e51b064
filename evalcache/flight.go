package evalcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// One evaluation per entry at a time: later callers in this process wait
// for the running one (a flight), other processes wait on a lock file and
// look at the entry again once they hold it.

// flight is an evaluation in progress that later callers wait for.
type flight struct {
	done chan struct{}
	res  *Result
	err  error
}

// evaluate evaluates req's entry unless another caller already is; force
// evaluates even when the entry is valid.
func (c *Cache) evaluate(ctx context.Context, req Request, force bool) (*Result, error) {
	req, err := normalize(req)
	if err != nil {
		return nil, err
	}
	entry := c.entryPath(req.ComponentDir, req.Mode, req.System)
	c.mu.Lock()
	if f, ok := c.flights[entry]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.res, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[entry] = f
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.flights, entry)
		c.mu.Unlock()
		close(f.done)
	}()
	f.res, f.err = c.evaluateLocked(ctx, req, entry, force)
	return f.res, f.err
}

// evaluateLocked holds the entry's lock file while it evaluates.
func (c *Cache) evaluateLocked(ctx context.Context, req Request, entry string, force bool) (*Result, error) {
	unlock, err := lockFile(ctx, c.entryLockPath(entry))
	if err != nil {
		return nil, fmt.Errorf("wait for another evaluation of %s: %w", req.Component, err)
	}
	defer unlock()
	found := c.lookup(entry, &req)
	if found.hit != nil && !force {
		// Another process evaluated while this one waited.
		return found.hit, nil
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	version, err := c.nixVersion(ctx)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("evaluate %s: %w", req.Component, ctx.Err())
	}
	if err != nil {
		return c.unavailable(req, found, err), nil
	}
	var remoteMiss string
	if req.TeamCache != "" && !force {
		res, why := c.fetchRemote(ctx, req, entry, version, found)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("evaluate %s: %w", req.Component, ctx.Err())
		}
		if res != nil {
			return res, nil
		}
		c.log.Info("evaluating here", "component", req.Component, "because", why)
		remoteMiss = why
	}
	res, err := c.evaluateEntry(ctx, req, entry, version, found)
	if res != nil {
		res.RemoteMiss = remoteMiss
	}
	return res, err
}

// nixVersion is the version of nix, asked once per binary: `nix --version`
// costs 20-30 ms, a fifth of a cold evaluation, so what it said is kept in
// the cache folder under the binary's path and stats, which entries already
// trust to tell a new nix. Failures are never kept: the next call asks again.
func (c *Cache) nixVersion(ctx context.Context) (string, error) {
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v != "" {
		return v, nil
	}
	binary, known := c.nixBinary()
	if known {
		if data, err := os.ReadFile(c.nixVersionPath(binary)); err == nil {
			if v := strings.TrimSpace(string(data)); v != "" && versionPattern.FindString(v) == v && compareVersions(v, minNixVersion) >= 0 {
				c.mu.Lock()
				c.version = v
				c.mu.Unlock()
				return v, nil
			}
		}
	}
	v, err := nixVersion(ctx, c.nix, min(versionTimeout, c.run.timeout))
	if err != nil {
		return "", err
	}
	if known {
		_ = writeCacheFile(c.nixVersionPath(binary), []byte(v+"\n")) // losing it costs the next miss 20 ms
	}
	c.mu.Lock()
	c.version = v
	c.mu.Unlock()
	return v, nil
}

// lockFile takes an exclusive lock on path, shared by every process using
// the cache folder, waiting until it is free or ctx ends. The lock goes away
// with the process, so a killed evaluation never leaves it held.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// tryLockFile is lockFile without waiting: ok is false when another
// process holds the lock.
func tryLockFile(path string) (unlock func(), ok bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, true, nil
}
