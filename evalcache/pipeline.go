package evalcache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// An evaluation is a pipeline of three steps, each a function below:
//
//	derivation   nix evaluates the devShell's derivation (cold: and builds it)
//	environment  the derivation's environment, built unless it is stored
//	entry        what the evaluation read, hashed and written as the entry
//
// A failure at any step becomes an entry too (failure.go), which keeps the
// last good environment. The files known to be read are hashed before nix
// starts; when one of them, or a file nix read, changed while nix ran, the
// pipeline starts over, so no entry pairs new hashes with an old
// environment.

// maxAttempts bounds how often an evaluation starts over because an input
// changed while it ran; the last attempt writes an entry that the next
// request evaluates again.
const maxAttempts = 3

// attempt is one pass through the pipeline.
type attempt struct {
	req     Request
	entry   string
	version string
	prev    found
	// pruned says the pruned module list is evaluated; pruningOff says
	// why not when the model gave one.
	pruned     bool
	pruningOff string
	flakeFile  string
	// cold: there is no earlier environment a derivation-only evaluation
	// could save a build for, so evaluation and build share one nix.
	cold  bool
	known map[string]dep // inputs as they were before nix started
	start time.Time
	last  bool
	// read is what nix read; once changed names an input that changed
	// while nix ran, the next attempt knows these files from the start.
	read    []string
	changed string
}

// evaluateEntry runs the pipeline until it ran with inputs that held
// still, or maxAttempts times.
func (c *Cache) evaluateEntry(ctx context.Context, req Request, entry, version string, prev found) (*Result, error) {
	var read []string
	for n := 1; ; n++ {
		a, err := c.newAttempt(req, entry, version, prev, read, n == maxAttempts)
		if err != nil {
			return nil, err
		}
		res, err := c.runAttempt(ctx, a)
		if err != nil || a.changed == "" || a.last {
			return res, err
		}
		c.log.Info("an input changed while it was evaluated; evaluating again", "component", req.Component, "file", a.changed)
		read = a.read
	}
}

func (c *Cache) newAttempt(req Request, entry, version string, prev found, read []string, last bool) (*attempt, error) {
	a := &attempt{req: req, entry: entry, version: version, prev: prev, last: last,
		flakeFile: filepath.Join(req.Root, "flake.nix"), cold: prev.last == nil}
	a.pruned, a.pruningOff = c.pruning(req)
	if a.pruned {
		var err error
		if a.flakeFile, err = c.writePruned(req.Pruned); err != nil {
			return nil, err
		}
	}
	var prevDeps []dep
	if prev.rec != nil {
		prevDeps = prev.rec.Deps
	}
	a.known, a.start = snapshotKnown(c.inputPaths(req, read, nil), prevDeps)
	return a, nil
}

// runAttempt is the pipeline. When an input changed while it ran
// (a.changed), the entry is written only by the last attempt.
func (c *Cache) runAttempt(ctx context.Context, a *attempt) (*Result, error) {
	ev, err := c.derivation(ctx, a)
	if err != nil {
		return c.failure(ctx, a, ev, err)
	}
	env, err := c.environment(ctx, a, &ev)
	if err != nil {
		return c.failure(ctx, a, ev, err)
	}
	return c.writeEntry(a, ev, env)
}

// derivation is the first step: the devShell's derivation path and the
// files its evaluation read.
func (c *Cache) derivation(ctx context.Context, a *attempt) (evaluation, error) {
	if !a.cold {
		return c.evalDrvPath(ctx, a.req, a.flakeFile)
	}
	ev, err := c.evalAndBuild(ctx, a.req, a.flakeFile, c.rootPath(a.entry))
	if err != nil || ev.drvPath != "" {
		return ev, err
	}
	// The log did not name the derivation; ask for it.
	drv, err := c.evalDrvPath(ctx, a.req, a.flakeFile)
	ev.drvPath, ev.read = drv.drvPath, append(ev.read, drv.read...)
	if err != nil {
		ev.stderr = drv.stderr
	}
	return ev, err
}

// environment is the second step: the environment of the derivation,
// stored once per derivation. Only a changed derivation needs a build; an
// input edit that leaves the derivation as it was reuses the stored one.
func (c *Cache) environment(ctx context.Context, a *attempt, ev *evaluation) (*Environment, error) {
	profile := c.rootPath(a.entry)
	data := ev.envJSON
	if data == nil {
		if a.prev.rec != nil && a.prev.rec.DrvPath == ev.drvPath && a.prev.last != nil && exists(profile) {
			return a.prev.last, nil
		}
		out, stderr, err := c.buildEnv(ctx, a.req, ev.drvPath, profile)
		if err != nil {
			ev.stderr, ev.built = stderr, true
			return nil, err
		}
		data = out
	}
	env, err := ParseEnvironment(data)
	if err != nil {
		return nil, err
	}
	if err := writeCacheFile(c.envPath(ev.drvPath), data); err != nil {
		return nil, fmt.Errorf("store the environment of %s: %w", a.req.Component, err)
	}
	pruneGenerations(profile)
	c.log.Info("built environment", "component", a.req.Component, "drv", ev.drvPath)
	return env, nil
}

// writeEntry is the last step: the entry, from what the evaluation read.
func (c *Cache) writeEntry(a *attempt, ev evaluation, env *Environment) (*Result, error) {
	rec := a.newRecord()
	rec.DrvPath = ev.drvPath
	if err := c.store(a, rec, ev.read, nil); err != nil || (a.changed != "" && !a.last) {
		return nil, err
	}
	c.log.Info("evaluated", "component", a.req.Component, "shell", a.req.Shell, "mode", a.req.Mode, "pruned", a.pruned,
		"drv", ev.drvPath, "files", len(rec.Deps), "took", time.Since(a.start))
	if a.changed == "" {
		c.afterEvaluation(a, outcome{DrvPath: ev.drvPath})
	}
	return &Result{Env: env, State: Fresh, Files: rec.files(), DrvPath: rec.DrvPath, Pruned: a.pruned, PruningOff: a.pruningOff}, nil
}

// store records an attempt's inputs in rec and writes it, unless an input
// changed while nix ran (a.changed) and another attempt follows. The last
// attempt writes an entry the next request evaluates again.
func (c *Cache) store(a *attempt, rec *record, read, extra []string) error {
	deps, err := c.dependencies(a, read, extra)
	if err != nil {
		return err
	}
	a.read = read
	a.changed = changedWhileEvaluating(deps, a.known, a.start)
	if a.changed != "" && !a.last {
		return nil
	}
	rec.Deps, rec.Retry = deps, rec.Retry || a.changed != ""
	if err := writeRecord(a.entry, rec); err != nil {
		return fmt.Errorf("store the cache entry of %s: %w", a.req.Component, err)
	}
	return nil
}

func (a *attempt) newRecord() *record {
	r := a.req
	return &record{Root: r.Root, Component: r.Component, ComponentDir: r.ComponentDir, Shell: r.Shell, System: r.System,
		Mode: r.Mode, NixVersion: a.version, Evaluated: a.start.UnixNano(), Pruned: a.pruned, PruningOff: a.pruningOff}
}

// inputPaths is every file an entry depends on besides the nix binary:
// what nix read, extra files, the model's import closure, flake.nix and
// flake.lock.
func (c *Cache) inputPaths(req Request, read, extra []string) []string {
	paths := make([]string, 0, len(read)+len(extra)+len(req.Files)+2)
	paths = append(append(append(paths, read...), extra...), req.Files...)
	return append(paths, filepath.Join(req.Root, "flake.lock"), filepath.Join(req.Root, "flake.nix"))
}

// dependencies records the inputs of an attempt as they are now.
func (c *Cache) dependencies(a *attempt, read, extra []string) ([]dep, error) {
	deps, err := snapshotDeps(c.inputPaths(a.req, read, extra), a.known, a.start)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for i := range deps {
		if isUnder(deps[i].Path, c.dir) {
			// The pruned flake: content-addressed, so its stats say enough,
			// and not a file for direnv to watch.
			deps[i].Tool = true
			deps[i].Hash = fmt.Sprintf("stat:%d:%d:%d", deps[i].Size, deps[i].MTime, deps[i].Inode)
		}
		deps[i].settle(now)
	}
	// A new nix may evaluate differently; its binary changing is enough to
	// evaluate again.
	if d, ok := c.nixBinary(); ok {
		deps = append(deps, d)
	}
	return deps, nil
}

// nixBinary is the nix binary as a dependency, compared by stats alone:
// hashing a large binary on every evaluation costs more than it could ever
// save.
func (c *Cache) nixBinary() (dep, bool) {
	nix, err := exec.LookPath(c.nix)
	if err != nil {
		return dep{}, false
	}
	real, err := filepath.EvalSymlinks(nix)
	if err != nil {
		return dep{}, false
	}
	info, err := os.Stat(real)
	if err != nil {
		return dep{}, false
	}
	d := dep{Path: real, Tool: true}
	d.setStat(info)
	d.Hash = fmt.Sprintf("stat:%d:%d:%d", d.Size, d.MTime, d.Inode)
	return d, true
}
