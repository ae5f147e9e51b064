package evalcache

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/sourcegraph/conc/pool"
)

// found is what the cache holds for one entry: the one lookup every path
// goes through (Get, EnvironmentFor, the Tracker, an evaluation waiting for
// another process).
type found struct {
	rec  *record      // the entry as read; nil when there is none, it is unreadable or it answers for another request
	hit  *Result      // the answer when the entry is valid
	last *Environment // the last good environment, valid or not
}

// lookup reads one entry and checks it. want, when not nil, is the request
// the entry must answer for; without it (a lookup by directory) any entry
// made under this cache's settings will do. It never runs nix.
func (c *Cache) lookup(entry string, want *Request) found {
	rec, err := readRecord(entry)
	if err != nil || rec.IFD != c.ifd || (want != nil && !rec.matches(*want, c.ifd)) {
		return found{}
	}
	f := found{rec: rec}
	if rec.DrvPath != "" {
		// An environment file cut short reads as none: the entry is
		// evaluated again, never answered with an error.
		f.last, _ = c.loadEnv(rec.DrvPath)
	}
	if rec.Retry || (rec.Err == nil && f.last == nil) {
		return f
	}
	deps, ok, changed := validate(rec.Deps)
	if !ok {
		return f
	}
	f.hit = &Result{State: Fresh, Hit: true, Env: f.last, Files: rec.files(), DrvPath: rec.DrvPath, Pruned: rec.Pruned,
		PruningOff: rec.PruningOff, Err: rec.Err, Remote: rec.Remote}
	switch {
	case rec.Err != nil && f.last != nil:
		f.hit.State = Stale
	case rec.Err != nil:
		f.hit.State, f.hit.DrvPath = Failed, ""
	}
	if changed {
		// Touched but unchanged files: remember the new stats so the next
		// hit does not hash them again.
		rec.Deps = deps
		_ = refreshRecord(entry, rec)
	} else {
		touch(entry)
	}
	return f
}

// answer is a Result that keeps the last good environment of the entry:
// Stale with it, Failed without.
func (f found) answer(err *EvalError, files []string) *Result {
	res := &Result{State: Failed, Err: err, Files: files}
	if f.last != nil {
		res.State, res.Env, res.DrvPath = Stale, f.last, f.rec.DrvPath
	}
	return res
}

// touch marks an entry used, for trimming by age, at most once an hour.
func touch(path string) {
	if info, err := os.Stat(path); err == nil && time.Since(info.ModTime()) > time.Hour {
		now := time.Now()
		_ = os.Chtimes(path, now, now)
	}
}

func (c *Cache) loadEnv(drvPath string) (*Environment, error) {
	data, err := os.ReadFile(c.envPath(drvPath))
	if err != nil {
		return nil, err
	}
	return ParseEnvironment(data)
}

// Get returns the cached environment, or evaluates it. An evaluation that
// fails is not an error of Get: the Result says Stale (with the last good
// environment) or Failed, and carries the EvalError; so does a nix that is
// missing or unusable. Get's error is for what prevents any answer: the
// context ended, an unusable cache. A repository that is not trusted gives
// a Result in State Untrusted, and nothing runs.
func (c *Cache) Get(ctx context.Context, req Request) (*Result, error) {
	return c.get(ctx, req, false)
}

// Reload evaluates again even when the cache holds a fresh entry.
func (c *Cache) Reload(ctx context.Context, req Request) (*Result, error) {
	return c.get(ctx, req, true)
}

func (c *Cache) get(ctx context.Context, req Request, force bool) (*Result, error) {
	req, err := normalize(req)
	if err != nil {
		return nil, err
	}
	if !c.TrustedFor(req) {
		return &Result{State: Untrusted}, nil
	}
	if !force {
		if f := c.lookup(c.entryPath(req.ComponentDir, req.Mode, req.System), &req); f.hit != nil {
			return f.hit, nil
		}
	}
	return c.evaluate(ctx, req, force)
}

// GetMany gets several environments (for example every component of a
// workspace when it opens), evaluating at most MaxParallel at a time.
// Results are in the order of reqs; the error is the first that prevented an
// answer.
func (c *Cache) GetMany(ctx context.Context, reqs []Request) ([]*Result, error) {
	results := make([]*Result, len(reqs))
	p := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(cap(c.sem))
	for i, req := range reqs {
		p.Go(func(ctx context.Context) error {
			res, err := c.Get(ctx, req)
			results[i] = res
			return err
		})
	}
	return results, p.Wait()
}

// EnvironmentFor is the environment a Query asks for: what `monoflake env`,
// `shell` and direnv call. It looks the entry up by directory first, which
// needs no indexing of the repository, so a hit costs a few stats; only a
// miss indexes the repository, plans and evaluates. When the model cannot
// plan (flake.nix does not parse, say) but an entry exists, nix evaluates
// the entry's request: it tells the real cause, and the last good
// environment is kept. Evaluation failures come back as a Result in state
// stale or failed.
func (c *Cache) EnvironmentFor(ctx context.Context, q Query) (*Result, Request, error) {
	if q.Mode == "" {
		q.Mode = Scoped
	}
	f, req, ok := c.findByPath(q.Path, q.Component, q.Mode)
	if ok {
		req.Trusted = q.Vouched
		if !c.TrustedFor(req) {
			return &Result{State: Untrusted}, req, nil
		}
		if f.hit != nil && !q.refreshes(f.rec) {
			return f.hit, req, nil
		}
	}
	planned, err := c.plan(ctx, q.Path, q.Component, q.Mode)
	if err != nil {
		if !ok || ctx.Err() != nil {
			return nil, planned, err
		}
		c.log.Warn("cannot plan; evaluating the entry found for the path", "path", q.Path, "component", req.Component, "error", err)
		res, err := c.get(ctx, req, true)
		return res, req, err
	}
	planned.Trusted = q.Vouched
	res, err := c.get(ctx, planned, q.Refresh || (ok && q.refreshes(f.rec)))
	if err != nil {
		return nil, planned, err
	}
	_ = c.TrimIfDue() // trimming is housekeeping: its failure costs disk, not the answer
	return res, planned, nil
}

// refreshes reports whether the query asks for a new evaluation of the
// entry.
func (q Query) refreshes(rec *record) bool {
	return q.Refresh || (!q.RefreshBefore.IsZero() && rec.Evaluated < q.RefreshBefore.UnixNano())
}

// findByPath finds the entry of the component holding path, without knowing
// the repository's layout: it tries path and its parents as component
// directories (or, for a named component, DIR/NAME for each of them). ok
// says an entry exists for the path; the Request it returns names that
// entry.
func (c *Cache) findByPath(path, component string, mode Mode) (found, Request, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return found{}, Request{}, false
	}
	if info, err := os.Stat(abs); err == nil && !info.IsDir() {
		abs = filepath.Dir(abs)
	}
	system := CurrentSystem()
	for dir := abs; ; dir = filepath.Dir(dir) {
		candidate := dir
		if component != "" {
			candidate = filepath.Join(dir, component)
		}
		entry := c.entryPath(candidate, mode, system)
		if _, err := os.Stat(entry); err == nil {
			if f := c.lookup(entry, nil); f.rec != nil && c.answersFor(f.rec, abs, component) {
				return f, f.rec.request(), true
			}
			if component == "" {
				// The nearest component directory with an entry decides.
				return found{}, Request{}, false
			}
		}
		if filepath.Dir(dir) == dir {
			return found{}, Request{}, false
		}
	}
}

// answersFor reports whether an entry found by directory answers for a
// path (and the component asked for).
func (c *Cache) answersFor(rec *record, path, component string) bool {
	if component != "" {
		return rec.Component == component && isUnder(path, rec.Root)
	}
	if !isUnder(path, rec.Root) {
		return false
	}
	// The flake's own shell answers for its root only: a path below may
	// belong to a component not evaluated yet, which only the model can
	// tell.
	return rec.ComponentDir != rec.Root || path == rec.Root
}
