package evalcache

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// A failed evaluation is written as an entry that keeps the last good
// environment, marked stale, with the cause in one sentence. What says
// nothing about the repository (a timeout, a download, a killed nix or
// builder, a full disk, a missing nix) is reported the same way but never
// served from the cache: the next request tries again.

// failure is a failed nix run as the user is told about it.
type failure struct {
	err       *EvalError
	transient bool
}

// failure writes the entry of a failed attempt; see runAttempt.
func (c *Cache) failure(ctx context.Context, a *attempt, ev evaluation, err error) (*Result, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("evaluate %s: %w", a.req.Component, ctx.Err())
	}
	f := c.describe(ctx, a, ev, err)
	rec := a.newRecord()
	rec.Err, rec.Retry = f.err, f.transient
	var extra []string
	if a.prev.last != nil {
		// The entry keeps the last good environment, and depends on the
		// files of both evaluations, so fixing any of them evaluates
		// again.
		rec.DrvPath, extra = a.prev.rec.DrvPath, a.prev.rec.files()
	}
	if err := c.store(a, rec, ev.read, extra); err != nil || (a.changed != "" && !a.last) {
		return nil, err
	}
	c.log.Warn("evaluation failed", "component", a.req.Component, "shell", a.req.Shell, "pruned", a.pruned,
		"transient", f.transient, "error", f.err.Error())
	if !rec.Retry {
		c.afterEvaluation(a, outcome{Error: f.err.Error()})
	}
	res := a.prev.answer(f.err, rec.files())
	res.Pruned, res.PruningOff = a.pruned, a.pruningOff
	return res, nil
}

// unavailable answers when nix cannot run at all (missing, too old, not
// answering): the last good environment, if any, with that sentence. No
// entry is written, so the next request tries nix again.
func (c *Cache) unavailable(req Request, f found, err error) *Result {
	c.log.Warn("nix cannot run", "component", req.Component, "error", err)
	files := c.inputPaths(req, nil, nil)
	if f.rec != nil {
		files = append(f.rec.files(), files...)
	}
	return f.answer(&EvalError{Message: err.Error()}, files)
}

var (
	// transientFailure matches nix's messages about the machine or the
	// network rather than the repository.
	transientFailure = regexp.MustCompile(`(?i)unable to download|couldn't resolve host|could not resolve host|couldn't connect to server|` +
		`connection refused|connection reset|timeout was reached|HTTP error 5\d\d|cannot connect to (socket|daemon)|` +
		`no space left on device|too many open files|resource temporarily unavailable|interrupted by the user|interrupted system call|` +
		`database is locked|unable to fork|killed by signal|due to signal`)
	buildFailure = regexp.MustCompile(`(?m)error: (builder for '[^']*' failed|\d+ dependenc(y|ies) of derivation .* failed to build)`)
	// nix 2.8 names tarball inputs (file ones too) in this message; later
	// versions name the input type, or none.
	unsupportedAttr = regexp.MustCompile(`unsupported (?:(\w+) )?input attribute '([^']+)'`)
	missingAttr     = regexp.MustCompile(`^attribute '(.*)' missing$`)
	missingFlakeOut = regexp.MustCompile(`does not provide attribute 'devShells\.`)
)

// isBuildFailure tells a failed build (worth retrying, not the fault of
// the module list) from a failed evaluation.
func isBuildFailure(stderr []byte) bool {
	return buildFailure.Match(stderr)
}

// describe turns a failed nix run into the sentence the user sees.
func (c *Cache) describe(ctx context.Context, a *attempt, ev evaluation, err error) failure {
	var exit *exec.ExitError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return failure{&EvalError{Message: fmt.Sprintf("nix did not finish within %s; evaluate again, or raise the timeout with %s", c.run.timeout, TimeoutVariable)}, true}
	case errors.Is(err, ErrNixMissing):
		return failure{&EvalError{Message: err.Error()}, true}
	case errors.As(err, &exit):
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			sig := status.Signal()
			return failure{&EvalError{Message: fmt.Sprintf("nix was stopped by signal %d (%s) before it finished; evaluate again", int(sig), sig)}, true}
		}
	}
	evalErr := parseNixError(ev.stderr, c.mapper(a.req))
	if len(ev.stderr) == 0 && err != nil {
		evalErr = &EvalError{Message: err.Error()}
	}
	transient := ev.built || isBuildFailure(ev.stderr) || transientFailure.MatchString(evalErr.Message)
	if !transient {
		c.explainLock(a.req, evalErr)
		c.explainMissingShell(ctx, a, evalErr)
	}
	return failure{evalErr, transient}
}

// minVersion is the first Nix that reads a locked attribute of an input
// type, for the attributes nix 2.8 rejects and lock files written by newer
// Nix carry (read from Nix's sources).
var minVersion = map[string]map[string]string{
	"tarball": {"unpack": "2.9", "rev": "2.17", "revCount": "2.17", "lastModified": "2.18"},
	"file":    {"unpack": "2.9", "rev": "2.17", "revCount": "2.17", "lastModified": "2.18"},
	"git": {"dirtyRev": "2.17", "dirtyShortRev": "2.17", "verifyCommit": "2.19", "keytype": "2.19", "publicKey": "2.19",
		"publicKeys": "2.19", "exportIgnore": "2.20", "lfs": "2.27"},
}

// explainLock rewrites nix's "unsupported input attribute" into which
// input of flake.lock is locked in a way this nix cannot read, and which
// Nix can.
func (c *Cache) explainLock(req Request, e *EvalError) {
	g := unsupportedAttr.FindStringSubmatch(e.Message)
	if g == nil {
		return
	}
	typ, attr := g[1], g[2]
	lock := readFlakeLock(req.Root)
	types := []string{typ}
	if typ == "tarball" {
		types = append(types, "file")
	}
	for _, t := range types {
		names := lock.lockedWith(t, attr)
		if len(names) == 0 {
			continue
		}
		if t == "" {
			t = fmt.Sprint(lock.Nodes[names[0]].Locked["type"])
		}
		needs := "a newer Nix"
		if v := minVersion[t][attr]; v != "" {
			needs = "Nix " + v + " or newer"
		}
		c.mu.Lock()
		version := c.version
		c.mu.Unlock()
		e.File, e.Line, e.Column = filepath.Join(req.Root, "flake.lock"), 0, 0
		e.Message = fmt.Sprintf("input %s is locked with %q, which nix %s cannot read for %s inputs; it needs %s "+
			"(or lock it again with this nix: nix flake lock --update-input %s)", quoteList(names), attr, version, t, needs, names[0])
		return
	}
}

// explainMissingShell rewrites nix's "attribute 'x' missing" about the
// devShell (or the system) into which shells exist and, when the name
// came from the configuration, which setting named it.
func (c *Cache) explainMissingShell(ctx context.Context, a *attempt, e *EvalError) {
	req := a.req
	g := missingAttr.FindStringSubmatch(e.Message)
	inExpr := e.File == "" || strings.HasPrefix(e.File, "«")
	missingShell := (g != nil && g[1] == req.Shell && inExpr) || (req.Mode == Flake && missingFlakeOut.MatchString(e.Message))
	if !missingShell && !(g != nil && g[1] == req.System && inExpr) {
		return
	}
	// The names come from the whole flake: a pruned module list holds the
	// component's own shells only.
	flakeFile := filepath.Join(req.Root, "flake.nix")
	if missingShell {
		if names, err := c.shellNames(ctx, req, flakeFile, req.System); err == nil {
			*e = EvalError{Message: fmt.Sprintf("there is no devShell %q for %s (the flake defines %s)", req.Shell, req.System, orNone(names))}
			if req.ShellSetting != "" {
				e.Message += "; it is named by " + req.ShellSetting
			}
			return
		}
	}
	// No shells for the system at all.
	if systems, err := c.shellNames(ctx, req, flakeFile, ""); err == nil {
		*e = EvalError{Message: fmt.Sprintf("the flake defines no devShells for %s (it defines them for %s); set \"system\" in %s",
			req.System, orNone(systems), filepath.Join(req.Root, ".monoflake.json"))}
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// mapper maps store paths in nix's messages back into the repository.
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
