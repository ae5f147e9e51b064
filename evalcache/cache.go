package evalcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
)

// Cache evaluates devShells and remembers their environments on disk. One
// Cache is safe for concurrent use, and several processes (the server, the
// direnv hook, a second editor) may share its folder.
type Cache struct {
	dir     string
	dataDir string
	nix     string
	run     runner
	log     *slog.Logger
	getenv  func(string) string
	maxAge  time.Duration
	maxSize int64
	// settle is how long Trim leaves unreferenced environments and GC
	// roots alone: another process may be evaluating the entry that will
	// refer to them.
	settle time.Duration

	sem chan struct{} // bounds concurrent evaluations
	ifd bool          // allow import from derivation

	// bg owns background work (pruning verification); Close waits for it.
	bg       conc.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	mu      sync.Mutex
	flights map[string]*flight
	version string // nix's, once known
}

// flight is an evaluation in progress that later callers wait for.
type flight struct {
	done chan struct{}
	res  *Result
	err  error
}

// Open prepares the cache folder. It does not run nix, so a cache hit never
// pays for starting it.
func Open(opts Options) (*Cache, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dir, err := cacheDir(opts.Dir, getenv)
	if err != nil {
		return nil, err
	}
	dataDir, err := dataDir(opts.DataDir, getenv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the cache folder: %w", err)
	}
	nix := opts.Nix
	if nix == "" {
		nix = "nix"
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	parallel := opts.MaxParallel
	if parallel <= 0 {
		parallel = 4
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	c := &Cache{
		dir: dir, dataDir: dataDir, nix: nix,
		run:     runner{nix: nix, timeout: timeout},
		log:     slog.New(slog.NewTextHandler(logw, nil)),
		getenv:  getenv,
		maxAge:  orDefault(opts.MaxAge, 30*24*time.Hour),
		maxSize: opts.MaxSize,
		settle:  timeout,
		sem:     make(chan struct{}, parallel),
		ifd:     opts.AllowImportFromDerivation,
		flights: map[string]*flight{},
	}
	if c.maxSize == 0 {
		c.maxSize = 512 << 20
	}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	if err := c.writeHelper(); err != nil {
		return nil, err
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func cacheDir(dir string, getenv func(string) string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	if d := getenv("MONOFLAKE_CACHE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "monoflake"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "monoflake"), nil
	}
	return "", errors.New("cannot find a cache folder: set MONOFLAKE_CACHE_DIR, XDG_CACHE_HOME or HOME")
}

func dataDir(dir string, getenv func(string) string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	if d := xdgDataHome(getenv); d != "" {
		return filepath.Join(d, "monoflake"), nil
	}
	return "", errors.New("cannot find a data folder: set XDG_DATA_HOME or HOME")
}

func xdgDataHome(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share")
	}
	return ""
}

// Close waits for background work (pruning verification) to finish.
func (c *Cache) Close() error {
	return c.CloseContext(context.Background())
}

// CloseContext is Close for a caller that may be interrupted: it waits for
// background work (verifying a pruned evaluation against the whole flake)
// until ctx ends, then cancels what is left, killing its nix processes, and
// waits for that.
func (c *Cache) CloseContext(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		c.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	c.bgCancel()
	<-done
	return nil
}

// Dir is the cache folder.
func (c *Cache) Dir() string { return c.dir }

// Layout of the cache folder.
func (c *Cache) helperPath() string {
	return filepath.Join(c.dir, "nix", "scoped-"+hashStrings(string(scopedNix))[:16]+".nix")
}
func (c *Cache) prunedDir() string { return filepath.Join(c.dir, "pruned") }
func (c *Cache) entryPath(componentDir string, mode Mode, system string) string {
	return filepath.Join(c.dir, "entries", hashStrings(cacheVersion, componentDir, string(mode), system)+".json")
}
func (c *Cache) envPath(drvPath string) string {
	return filepath.Join(c.dir, "envs", hashStrings(drvPath)+".json")
}

// rootPath is the profile (GC root) of an entry's environment. It is per
// entry, not per derivation: nix registers a profile by its path, so one
// cannot be renamed once the derivation is known.
func (c *Cache) rootPath(entry string) string {
	return filepath.Join(c.dir, "roots", strings.TrimSuffix(filepath.Base(entry), ".json"))
}
func (c *Cache) noPrunePath(root string) string {
	return filepath.Join(c.dir, "noprune", hashStrings(root))
}

// verifiedPath marks a pruned module list as checked for one shell. It is
// keyed by the pruned flake, not the derivation: edits inside the kept
// modules change the derivation but not whether the list is complete, and
// the model rewrites the list when references change.
func (c *Cache) verifiedPath(req Request) string {
	return filepath.Join(c.dir, "verified", hashStrings(req.Root, req.System, req.Shell, string(req.Pruned.FlakeSource)))
}

func (c *Cache) writeHelper() error {
	path := c.helperPath()
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := writeAtomic(path, scopedNix); err != nil {
		return fmt.Errorf("write the evaluation helper into the cache folder: %w", err)
	}
	return nil
}

// CurrentSystem is the Nix system of this machine, such as x86_64-linux.
func CurrentSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-" + runtime.GOOS
}

func normalize(req Request) (Request, error) {
	if req.System == "" {
		req.System = CurrentSystem()
	}
	if req.Mode == "" {
		req.Mode = Scoped
	}
	if req.Shell == "" {
		return req, errors.New("no devShell named for the component")
	}
	if !filepath.IsAbs(req.Root) {
		return req, fmt.Errorf("repository root %q is not absolute", req.Root)
	}
	if req.ComponentDir == "" {
		req.ComponentDir = req.Root
	}
	req.Root, req.ComponentDir = filepath.Clean(req.Root), filepath.Clean(req.ComponentDir)
	return req, nil
}

// Cached returns the cached environment when every file it depends on is
// unchanged. It never runs nix. A repository that is not trusted gives a
// Result in State Untrusted and false.
func (c *Cache) Cached(ctx context.Context, req Request) (*Result, bool) {
	req, err := normalize(req)
	if err != nil {
		return nil, false
	}
	if !c.TrustedFor(req) {
		return &Result{State: Untrusted}, false
	}
	rec, res, ok := c.lookup(c.entryPath(req.ComponentDir, req.Mode, req.System))
	if !ok || rec.Shell != req.Shell || rec.Root != req.Root {
		return nil, false
	}
	return res, true
}

// Lookup finds the cached environment of the component whose directory
// holds path, without knowing the repository's layout: it tries path and its
// parents as component directories. It never runs nix, which keeps
// `monoflake env` on a hit far below the cost of indexing the repository.
// The Request returned names the entry found (for Reload).
func (c *Cache) Lookup(ctx context.Context, path string, mode Mode, system string) (*Result, Request, bool) {
	if mode == "" {
		mode = Scoped
	}
	if system == "" {
		system = CurrentSystem()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, Request{}, false
	}
	if info, err := os.Stat(abs); err == nil && !info.IsDir() {
		abs = filepath.Dir(abs)
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		entry := c.entryPath(dir, mode, system)
		if _, err := os.Stat(entry); err == nil {
			rec, res, ok := c.lookup(entry)
			if rec == nil || !isUnder(abs, rec.Root) {
				return nil, Request{}, false
			}
			if rec.ComponentDir == rec.Root && abs != rec.Root {
				// The flake's own shell answers for its root only: a path
				// below may belong to a component not evaluated yet, which
				// only the model can tell.
				return nil, Request{}, false
			}
			req := rec.request()
			if !c.TrustedFor(req) {
				return &Result{State: Untrusted}, req, false
			}
			return res, req, ok
		}
		if filepath.Dir(dir) == dir {
			return nil, Request{}, false
		}
	}
}

func (r *record) request() Request {
	return Request{Root: r.Root, Component: r.Component, ComponentDir: r.ComponentDir, Shell: r.Shell, System: r.System, Mode: r.Mode}
}

// lookup reads and validates one entry. The record is returned even when
// stale, for callers that want its request.
func (c *Cache) lookup(entry string) (*record, *Result, bool) {
	rec, err := readRecord(entry)
	if err != nil {
		return nil, nil, false
	}
	if rec.Transient {
		return rec, nil, false
	}
	deps, ok, changed := validate(rec.Deps)
	if !ok {
		return rec, nil, false
	}
	res := &Result{State: Fresh, Hit: true, Files: rec.files(), DrvPath: rec.DrvPath, Pruned: rec.Pruned, Err: rec.Err}
	if rec.DrvPath != "" {
		res.Env, err = c.loadEnv(rec.DrvPath)
		if err != nil {
			return rec, nil, false
		}
	}
	switch {
	case rec.Err != nil && res.Env != nil:
		res.State = Stale
	case rec.Err != nil:
		res.State = Failed
	case res.Env == nil:
		return rec, nil, false
	}
	if changed {
		// Touched but unchanged files: remember the new stats so the next
		// hit does not hash them again. Losing this write costs only time.
		rec.Deps = deps
		_ = writeRecord(entry, rec)
	} else {
		touch(entry)
	}
	return rec, res, true
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
// environment) or Failed, and carries the EvalError. Get's error is for what
// prevents any answer: nix missing, the context ended, an unusable cache.
func (c *Cache) Get(ctx context.Context, req Request) (*Result, error) {
	if res, ok := c.Cached(ctx, req); ok {
		return res, nil
	} else if res != nil && res.State == Untrusted {
		return res, nil
	}
	return c.evaluate(ctx, req, false)
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

// Reload evaluates again even when the cache holds a fresh entry.
func (c *Cache) Reload(ctx context.Context, req Request) (*Result, error) {
	if !c.TrustedFor(req) {
		return &Result{State: Untrusted}, nil
	}
	return c.evaluate(ctx, req, true)
}

// evaluate runs one evaluation per entry at a time: later callers in this
// process wait for the running one, other processes wait on a lock file.
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

func (c *Cache) evaluateLocked(ctx context.Context, req Request, entry string, force bool) (*Result, error) {
	unlock, err := lockFile(ctx, filepath.Join(c.dir, "locks", filepath.Base(entry)+".lock"))
	if err != nil {
		return nil, fmt.Errorf("wait for another evaluation of %s: %w", req.Component, err)
	}
	defer unlock()
	if !force {
		// Another process may have evaluated while this one waited.
		if rec, res, ok := c.lookup(entry); ok && rec.Shell == req.Shell && rec.Root == req.Root {
			return res, nil
		}
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	version, err := c.nixVersion(ctx)
	if err != nil {
		return nil, err
	}
	prev, _ := readRecord(entry)
	return c.evaluateNow(ctx, req, entry, version, prev)
}

func (c *Cache) nixVersion(ctx context.Context) (string, error) {
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v != "" {
		return v, nil
	}
	v, err := NixVersion(ctx, c.nix)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.version = v
	c.mu.Unlock()
	return v, nil
}

// evaluateNow evaluates the derivation (pruned when possible), builds its
// environment unless one is stored for that derivation already, and writes
// the entry.
func (c *Cache) evaluateNow(ctx context.Context, req Request, entry, version string, prev *record) (*Result, error) {
	pruned := req.Mode == Scoped && req.Pruned != nil && !exists(c.noPrunePath(req.Root))
	flakeFile := filepath.Join(req.Root, "flake.nix")
	if pruned {
		var err error
		if flakeFile, err = c.writePruned(req.Pruned); err != nil {
			return nil, err
		}
	}
	// Without an earlier environment there is nothing a derivation-only
	// evaluation could save, so evaluation and build share one nix process.
	cold := prev == nil || prev.DrvPath == "" || prev.Shell != req.Shell
	profile := c.rootPath(entry)
	var envJSON []byte
	run := func(flakeFile string) (evaluation, error) {
		if !cold {
			return c.evalDrvPath(ctx, req, flakeFile)
		}
		ev, out, err := c.evalAndBuild(ctx, req, flakeFile, profile)
		envJSON = out
		return ev, err
	}
	start := time.Now()
	ev, err := run(flakeFile)
	// A timeout says nothing about the module list, so it does not turn
	// pruning off.
	if err != nil && pruned && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !isBuildFailure(ev.stderr) {
		c.log.Warn("pruned evaluation failed; evaluating every module of this repository from now on",
			"root", req.Root, "component", req.Component, "error", parseNixError(ev.stderr, c.mapper(req)).Error())
		c.disablePruning(req.Root)
		pruned = false
		ev, err = run(filepath.Join(req.Root, "flake.nix"))
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("evaluate %s: %w", req.Component, ctx.Err())
	}
	if errors.Is(err, ErrNixMissing) {
		return nil, err
	}
	rec := &record{Root: req.Root, Component: req.Component, ComponentDir: req.ComponentDir, Shell: req.Shell,
		System: req.System, Mode: req.Mode, NixVersion: version, Pruned: pruned}
	if err != nil {
		evalErr, transient := c.nixError(req, ev.stderr, err)
		return c.failed(req, entry, rec, prev, ev.read, evalErr, transient || isBuildFailure(ev.stderr))
	}
	if cold && ev.drvPath == "" {
		// The log did not name the derivation; ask for it.
		flakeFile := filepath.Join(req.Root, "flake.nix")
		if pruned {
			flakeFile, _ = c.writePruned(req.Pruned)
		}
		drv, err := c.evalDrvPath(ctx, req, flakeFile)
		if err != nil {
			evalErr, transient := c.nixError(req, drv.stderr, err)
			return c.failed(req, entry, rec, prev, ev.read, evalErr, transient)
		}
		ev.drvPath = drv.drvPath
	}
	rec.DrvPath = ev.drvPath
	evaluated := time.Now()
	if envJSON == nil && (prev.DrvPath != ev.drvPath || !exists(c.envPath(ev.drvPath)) || !exists(profile)) {
		// Only a changed derivation needs a build; an input edit that leaves
		// the derivation as it was reuses the stored environment.
		out, err := c.buildEnv(ctx, req, ev.drvPath, profile)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("evaluate %s: %w", req.Component, ctx.Err())
		}
		if err != nil {
			rec.DrvPath = ""
			evalErr, _ := c.nixError(req, out, err)
			return c.failed(req, entry, rec, prev, ev.read, evalErr, true)
		}
		envJSON = out
	}
	if envJSON != nil {
		if _, err := ParseEnvironment(envJSON); err != nil {
			return nil, err
		}
		if err := writeAtomic(c.envPath(ev.drvPath), envJSON); err != nil {
			return nil, fmt.Errorf("store the environment of %s: %w", req.Component, err)
		}
		pruneGenerations(profile)
		c.log.Info("built environment", "component", req.Component, "drv", ev.drvPath)
	}
	built := time.Now()
	if rec.Deps, err = c.dependencies(req, ev.read, nil); err != nil {
		return nil, err
	}
	rec.Key = computeKey(rec)
	if err := writeRecord(entry, rec); err != nil {
		return nil, fmt.Errorf("store the cache entry of %s: %w", req.Component, err)
	}
	c.log.Info("evaluated", "component", req.Component, "shell", req.Shell, "mode", req.Mode, "pruned", pruned, "drv", ev.drvPath,
		"files", len(rec.Deps), "eval", evaluated.Sub(start), "build", built.Sub(evaluated), "record", time.Since(built))
	if pruned {
		c.verifyLater(req, rec.DrvPath)
	}
	env, err := c.loadEnv(rec.DrvPath)
	if err != nil {
		return nil, err
	}
	return &Result{Env: env, State: Fresh, Files: rec.files(), DrvPath: rec.DrvPath, Pruned: pruned}, nil
}

// nixError describes a failed nix run. A timeout is transient: the next
// request tries again instead of serving it from the cache.
func (c *Cache) nixError(req Request, stderr []byte, err error) (*EvalError, bool) {
	if errors.Is(err, context.DeadlineExceeded) {
		return &EvalError{Message: fmt.Sprintf("nix did not finish within %s; evaluate again or raise the timeout", c.run.timeout)}, true
	}
	return parseNixError(stderr, c.mapper(req)), false
}

// failed records a failed evaluation: the last good environment stays, marked
// stale, and the entry depends on the files of both evaluations so that
// fixing any of them triggers a new one.
func (c *Cache) failed(req Request, entry string, rec, prev *record, read []string, evalErr *EvalError, transient bool) (*Result, error) {
	rec.Err, rec.Transient = evalErr, transient
	var extra []string
	if prev != nil && prev.Shell == req.Shell {
		rec.DrvPath = prev.DrvPath
		extra = prev.files()
	}
	var err error
	if rec.Deps, err = c.dependencies(req, read, extra); err != nil {
		return nil, err
	}
	rec.Key = computeKey(rec)
	if err := writeRecord(entry, rec); err != nil {
		return nil, fmt.Errorf("store the cache entry of %s: %w", req.Component, err)
	}
	c.log.Warn("evaluation failed", "component", req.Component, "shell", req.Shell, "error", evalErr.Error())
	res := &Result{State: Failed, Err: evalErr, Files: rec.files(), DrvPath: rec.DrvPath}
	if rec.DrvPath != "" {
		if env, err := c.loadEnv(rec.DrvPath); err == nil {
			res.Env, res.State = env, Stale
		}
	}
	return res, nil
}

// dependencies is every file an entry depends on: what nix read, the
// model's import closure, flake.lock and the nix binary.
func (c *Cache) dependencies(req Request, read, extra []string) ([]dep, error) {
	paths := append(append(append([]string{}, read...), extra...), req.Files...)
	paths = append(paths, filepath.Join(req.Root, "flake.lock"), filepath.Join(req.Root, "flake.nix"))
	deps, err := snapshotDeps(paths)
	if err != nil {
		return nil, err
	}
	for i := range deps {
		if isUnder(deps[i].Path, c.dir) {
			// The pruned flake: content-addressed, so its stats say enough,
			// and not a file for direnv to watch.
			deps[i].Tool = true
			deps[i].Hash = fmt.Sprintf("stat:%d:%d:%d", deps[i].Size, deps[i].MTime, deps[i].Inode)
		}
	}
	// A new nix may evaluate differently; its binary changing is enough to
	// evaluate again.
	if nix, err := exec.LookPath(c.nix); err == nil {
		if real, err := filepath.EvalSymlinks(nix); err == nil {
			if info, err := os.Stat(real); err == nil {
				// Compared by stats alone: hashing a large binary on every
				// evaluation costs more than it could ever save.
				d := dep{Path: real, Tool: true}
				d.setStat(info)
				d.Hash = fmt.Sprintf("stat:%d:%d:%d", d.Size, d.MTime, d.Inode)
				deps = append(deps, d)
			}
		}
	}
	return deps, nil
}

func (c *Cache) mapper(req Request) func(string) (string, bool) {
	m := storeMapper{root: req.Root, bases: map[string]string{}, subflakes: relativePathInputs(req.Root)}
	return func(p string) (string, bool) {
		if m.rootStore == "" && req.Mode == Flake {
			if g := storeSource.FindStringSubmatch(p); g != nil {
				// Without the log, guess that a source holding this file
				// at the same place in the repository is the root's.
				if rel := g[2]; rel != "" && sameContent(p, req.Root+rel) {
					m.rootStore = g[1]
				}
			}
		}
		return m.toRepo(p)
	}
}

func (c *Cache) writePruned(p *Pruned) (string, error) {
	path := filepath.Join(c.prunedDir(), hashStrings(string(p.FlakeSource))+".nix")
	if exists(path) {
		return path, nil
	}
	if err := writeAtomic(path, p.FlakeSource); err != nil {
		return "", fmt.Errorf("write the pruned flake into the cache folder: %w", err)
	}
	return path, nil
}

func (c *Cache) disablePruning(root string) {
	if err := writeAtomic(c.noPrunePath(root), []byte(root+"\n")); err != nil {
		c.log.Warn("cannot record that pruning is off", "root", root, "error", err)
	}
}

// verifyLater checks, after the answer was given, that evaluating every
// module gives the same derivation as the pruned module list, once per
// module list. When it does not, pruning is turned off for the repository
// and the entry is evaluated again without it.
func (c *Cache) verifyLater(req Request, drvPath string) {
	if exists(c.verifiedPath(req)) {
		return
	}
	c.bg.Go(func() {
		ctx := c.bgCtx
		full := req
		full.Pruned = nil
		ev, err := c.evalDrvPath(ctx, full, filepath.Join(req.Root, "flake.nix"))
		if ctx.Err() != nil {
			return
		}
		if err == nil && ev.drvPath == drvPath {
			_ = writeAtomic(c.verifiedPath(req), []byte(drvPath+"\n"))
			c.log.Info("verified pruning", "component", req.Component, "shell", req.Shell, "modules", len(req.Pruned.Modules))
			return
		}
		c.log.Warn("pruned evaluation differs from the full one; evaluating every module of this repository from now on",
			"root", req.Root, "component", req.Component, "pruned", drvPath, "full", ev.drvPath)
		c.disablePruning(req.Root)
		if _, err := c.evaluate(ctx, full, true); err != nil {
			c.log.Warn("re-evaluation without pruning failed", "component", req.Component, "error", err)
		}
	})
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
