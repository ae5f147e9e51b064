package lsp

import (
	"fmt"
	"sync"

	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
	"github.com/monoflake/monoflake/evalcache"
)

// environments is what the session knows of devShell environments: the
// tracker that evaluates them in the background, the last result of each
// component, its evaluation error, and the progress shown while it
// evaluates. Every surface (didOpen, monoflake/environment, code lenses,
// the reload command) goes through Get, so the file is planned, trusted
// and handed to the tracker the same way everywhere, as the command line
// and direnv do. Its lock guards only its own maps.
type environments struct {
	cache   *evalcache.Cache   // nil: every environment is in state none
	tracker *evalcache.Tracker // nil without a cache
	out     reporter
	// folderAt reports whether a repository is open because of a
	// workspace folder: the editor's trust covers those only.
	folderAt func(root string) bool

	mu       sync.Mutex
	settings InitializationOptions
	envs     map[string]environment    // by component directory
	diags    map[string]evalDiagnostic // by component directory
	progress map[string]*progress      // by component directory
}

// environment is the last known state of one component's devShell.
type environment struct {
	root string // the workspace root the editor trusts
	req  evalcache.Request
	res  *evalcache.Result
}

// stateNone is the environment state when the server has not evaluated
// the component: evaluation is off, or there is nothing to evaluate.
const stateNone = "none"

func newEnvironments(cache *evalcache.Cache, out reporter, folderAt func(string) bool) *environments {
	e := &environments{cache: cache, out: out, folderAt: folderAt,
		envs: map[string]environment{}, diags: map[string]evalDiagnostic{}, progress: map[string]*progress{}}
	if cache != nil {
		e.tracker = evalcache.NewTracker(cache, e.onEvaluation)
	}
	return e
}

// Configure takes the editor's options from initialize.
func (e *environments) Configure(opts InitializationOptions) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settings = opts
}

// Close stops every evaluation, killing its nix.
func (e *environments) Close() {
	if e.tracker != nil {
		e.tracker.Close()
	}
}

// Enabled reports whether the session evaluates at all.
func (e *environments) Enabled() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	enabled := e.settings.Evaluation.Enabled
	return e.cache != nil && (enabled == nil || *enabled)
}

// want is what a caller of Get wants done.
type want uint8

const (
	// peek: what is known, without starting anything (code lenses).
	peek want = iota
	// current: what is known, else ask the tracker (monoflake/environment).
	current
	// check: ask the tracker, which revalidates its entry (a file opened).
	check
	// reload: evaluate again (the reload command).
	reload
)

// Get plans the devShell of path in snap, decides whether the session may
// evaluate it, and does what w asks. The result is nil when evaluation is
// off or, for peek, when nothing is known yet; a plan that fails (no
// component, no devShell) is the error, and so is a reload the trust
// decision refuses.
func (e *environments) Get(snap *analysis.Snapshot, path string, w want) (evalcache.Request, *evalcache.Result, error) {
	req, err := e.plan(snap, path)
	if err != nil {
		return req, nil, err
	}
	if !e.Enabled() {
		return req, nil, nil
	}
	if !e.cache.TrustedFor(req) {
		if w == reload {
			return req, nil, fmt.Errorf("%s is not trusted, so monoflake does not evaluate it; trust the workspace first", snap.Root)
		}
		res := &evalcache.Result{State: evalcache.Untrusted}
		if w == check {
			// Nobody asked: the editor learns it from the notification.
			e.set(snap.Root, req, res)
		}
		return req, res, nil
	}
	if w == peek || w == current {
		if env, ok := e.known(req.ComponentDir); ok && env.req.Shell == req.Shell && env.res.State != evalcache.Untrusted {
			return req, env.res, nil
		}
		if w == peek {
			return req, nil, nil
		}
	}
	var res *evalcache.Result
	if w == reload {
		res = e.tracker.Reload(req)
	} else {
		res = e.tracker.Ensure(req)
	}
	// An answer in state evaluating is not recorded: the tracker has
	// already reported it through onEvaluation, and the evaluation may
	// even have ended since, in which case recording it would undo the
	// result and leave a progress report that nothing ends.
	if res.State != evalcache.Evaluating {
		e.set(snap.Root, req, res)
	}
	return req, res, nil
}

// plan maps a file to its component's devShell, the same way the command
// line and direnv do, with the editor's vouch and system in the request.
func (e *environments) plan(snap *analysis.Snapshot, path string) (evalcache.Request, error) {
	req, err := evalcache.Plan(snap, path, "", evalcache.Scoped)
	if err != nil {
		return req, err
	}
	e.mu.Lock()
	settings := e.settings
	e.mu.Unlock()
	// The editor vouches for its workspace folders, not for a repository
	// that a file opened from elsewhere pulled in.
	req.Trusted = settings.Trusted && e.folderAt(snap.Root)
	if sys := settings.System; sys != nil && *sys != "" {
		req.System = *sys
	}
	return req, nil
}

// known returns the last state recorded for a component directory.
func (e *environments) known(dir string) (environment, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[dir]
	return env, ok
}

// onEvaluation is the tracker's callback: an evaluation started or ended.
func (e *environments) onEvaluation(req evalcache.Request, res *evalcache.Result) {
	root := req.Root
	if env, ok := e.known(req.ComponentDir); ok {
		root = env.root
	}
	e.set(root, req, res)
}

// set records a component's environment and tells the editor when its
// state changed: a notification, progress while it evaluates, and the
// evaluation error as a diagnostic.
func (e *environments) set(root string, req evalcache.Request, res *evalcache.Result) {
	e.mu.Lock()
	old, had := e.envs[req.ComponentDir]
	e.envs[req.ComponentDir] = environment{root: root, req: req, res: res}
	delete(e.diags, req.ComponentDir)
	if err := res.Err; err != nil && (res.State == evalcache.Failed || res.State == evalcache.Stale) {
		e.diags[req.ComponentDir] = evalDiagnostic{component: req.Component, shell: req.Shell, path: err.File, line: err.Line, column: err.Column, message: err.Message}
	}
	p := e.progress[req.ComponentDir]
	if res.State != evalcache.Evaluating {
		delete(e.progress, req.ComponentDir)
	}
	e.mu.Unlock()
	e.out.diagnosticsChanged()
	if had && old.res.State == res.State {
		return
	}
	e.out.logf("environment of %s: %s", req.Component, res.State)
	e.out.notify("monoflake/environmentChanged", map[string]any{"root": root, "component": req.Component, "state": string(res.State)})
	e.out.lensesChanged()
	switch {
	case res.State == evalcache.Evaluating && p == nil:
		p = e.out.beginProgress("Evaluating "+req.Component, "nix print-dev-env")
		e.mu.Lock()
		e.progress[req.ComponentDir] = p
		e.mu.Unlock()
	case res.State != evalcache.Evaluating && p != nil:
		p.end(string(res.State))
	}
}

// evalDiagnostic is an evaluation error where nix says it is, or, when
// nix names no position (builtins.throw, a failed build), at the devShell
// that failed.
type evalDiagnostic struct {
	component, shell string
	path             string // "" when nix named no file
	line, column     int    // 1-based; 0 when unknown
	message          string
}

// Diagnostics returns the evaluation errors to publish, by file; snaps
// give the positions.
func (e *environments) Diagnostics(snaps []*analysis.Snapshot) map[string][]protocol.Diagnostic {
	e.mu.Lock()
	diags := make([]evalDiagnostic, 0, len(e.diags))
	for _, d := range e.diags {
		diags = append(diags, d)
	}
	e.mu.Unlock()
	out := map[string][]protocol.Diagnostic{}
	for _, d := range diags {
		path, rng, ok := evalErrorRange(snaps, d)
		if !ok {
			continue
		}
		out[path] = append(out[path], protocol.Diagnostic{
			Range:    rng,
			Severity: protocol.DiagnosticSeverityError,
			Code:     "evaluation",
			Source:   diagnosticSource,
			Message:  d.message,
		})
	}
	return out
}

// evalErrorRange places an evaluation error: at nix's position, else on
// the name of the devShell that failed.
func evalErrorRange(snaps []*analysis.Snapshot, d evalDiagnostic) (string, protocol.Range, bool) {
	for _, snap := range snaps {
		if d.path != "" {
			lines := linesOf(snap, d.path)
			if lines == nil {
				continue
			}
			start := lines.Offset(d.line-1, d.column-1)
			end := lines.Offset(d.line-1, 1<<30)
			return d.path, toRange(lines, syntax.Span{Start: start, End: max(end, start)}), true
		}
		c := snap.Component(d.component)
		if c == nil {
			continue
		}
		for _, o := range c.Outputs {
			if o.Category == analysis.DevShells && o.Name == d.shell {
				return o.Def.File, toRange(linesOf(snap, o.Def.File), o.Def.Span), true
			}
		}
	}
	return "", protocol.Range{}, false
}
