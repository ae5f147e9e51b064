package lsp

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
	"github.com/monoflake/monoflake/direnv"
	"github.com/monoflake/monoflake/evalcache"
)

// The server's side of the evaluation cache: it evaluates the component
// of an opened file in the background (only in a trusted repository),
// reports the state in code lenses, hovers, monoflake/environment and
// monoflake/environmentChanged, and publishes evaluation errors as
// diagnostics in the file nix names. Everything static keeps working when
// there is no cache, no nix, or no trust.

// stateNone is the environment state when the server has not evaluated
// the component: evaluation is off, or there is nothing to evaluate.
const stateNone = "none"

// environment is what the session knows of one component's devShell
// environment.
type environment struct {
	root string // the workspace root the editor trusts
	req  evalcache.Request
	res  *evalcache.Result
}

// evaluationEnabled reports whether the session evaluates at all.
func (s *server) evaluationEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	enabled := s.client.init.Evaluation.Enabled
	return s.opt.Cache != nil && (enabled == nil || *enabled)
}

// trusted reports whether the session may evaluate a planned request:
// the cache decides, as it does for the command line and direnv, with the
// editor's vouch carried in the request (see plan).
func (s *server) trusted(req evalcache.Request) bool {
	return s.opt.Cache != nil && s.opt.Cache.TrustedFor(req)
}

// trustedByEditor reports whether the editor's workspace trust covers
// root: the editor vouches for its workspace folders, not for a repository
// that a file opened from elsewhere pulled in. Callers hold s.mu.
func (s *server) trustedByEditor(root string) bool {
	if !s.client.init.Trusted {
		return false
	}
	for _, ws := range s.workspaces {
		if ws.root == root && len(ws.folders) > 0 {
			return true
		}
	}
	return false
}

// plan maps a file to its component's devShell, the same way the command
// line and direnv do.
func (s *server) plan(snap *analysis.Snapshot, path string) (evalcache.Request, error) {
	req, err := evalcache.Plan(snap, path, "", evalcache.Scoped)
	if err != nil {
		return req, err
	}
	s.mu.Lock()
	req.Trusted = s.trustedByEditor(snap.Root)
	if sys := s.client.init.System; sys != nil && *sys != "" {
		req.System = *sys
	}
	s.mu.Unlock()
	return req, nil
}

// ensureEnvironment starts evaluating the component of an opened file
// when the session may; it runs in the background.
func (s *server) ensureEnvironment(ws *workspace, path string) {
	if ws == nil || !s.evaluationEnabled() {
		return
	}
	s.bg.Go(func() {
		snap, err := s.snapshot(s.ctx, ws)
		if err != nil || snap.ComponentOf(path) == nil {
			// Shared files (flake.nix, libraries) have no devShell of
			// their own worth evaluating on open.
			return
		}
		req, err := s.plan(snap, path)
		if err != nil {
			s.logf("no environment for %s: %v", path, err)
			return
		}
		if !s.trusted(req) {
			s.setEnvironment(snap.Root, req, &evalcache.Result{State: evalcache.Untrusted})
			return
		}
		s.recordAnswer(snap.Root, req, s.tracker.Ensure(req))
	})
}

// recordAnswer records what the tracker answered at once. An answer in
// state evaluating is not recorded: the tracker has already reported it
// through onEvaluation, and the evaluation may even have ended since,
// in which case recording it would undo the result and leave a progress
// report that nothing ends.
func (s *server) recordAnswer(root string, req evalcache.Request, res *evalcache.Result) {
	if res.State != evalcache.Evaluating {
		s.setEnvironment(root, req, res)
	}
}

// onEvaluation is the tracker's callback: an evaluation started or ended.
func (s *server) onEvaluation(req evalcache.Request, res *evalcache.Result) {
	s.mu.Lock()
	root := req.Root
	if env, ok := s.envs[req.ComponentDir]; ok {
		root = env.root
	}
	s.mu.Unlock()
	s.setEnvironment(root, req, res)
}

// setEnvironment records a component's environment and tells the editor
// when its state changed: a notification, progress while it evaluates,
// and the evaluation error as a diagnostic.
func (s *server) setEnvironment(root string, req evalcache.Request, res *evalcache.Result) {
	s.mu.Lock()
	old, had := s.envs[req.ComponentDir]
	s.envs[req.ComponentDir] = environment{root: root, req: req, res: res}
	delete(s.evalDiags, req.ComponentDir)
	if e := res.Err; e != nil && (res.State == evalcache.Failed || res.State == evalcache.Stale) {
		s.evalDiags[req.ComponentDir] = evalDiagnostic{component: req.Component, shell: req.Shell, path: e.File, line: e.Line, column: e.Column, message: e.Message}
	}
	p := s.envProgress[req.ComponentDir]
	if res.State != evalcache.Evaluating {
		delete(s.envProgress, req.ComponentDir)
	}
	s.mu.Unlock()
	s.kickDiagnostics()
	if had && old.res.State == res.State {
		return
	}
	s.logf("environment of %s: %s", req.Component, res.State)
	s.notify("monoflake/environmentChanged", map[string]any{"root": root, "component": req.Component, "state": string(res.State)})
	switch {
	case res.State == evalcache.Evaluating && p == nil:
		p = s.beginProgress("Evaluating "+req.Component, "nix print-dev-env")
		s.mu.Lock()
		s.envProgress[req.ComponentDir] = p
		s.mu.Unlock()
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

// evaluationDiagnostics returns the evaluation errors to publish, by
// file; snaps give the positions. s.mu is held.
func (s *server) evaluationDiagnostics(snaps []*analysis.Snapshot) map[string][]protocol.Diagnostic {
	out := map[string][]protocol.Diagnostic{}
	for _, d := range s.evalDiags {
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

// environmentState is the state of a component's environment for its
// code lens.
func (s *server) environmentState(snap *analysis.Snapshot, component string) string {
	c := snap.Component(component)
	if c == nil {
		return stateNone
	}
	s.mu.Lock()
	env, ok := s.envs[c.Dir]
	s.mu.Unlock()
	switch {
	case ok:
		return string(env.res.State)
	case !s.evaluationEnabled():
		return stateNone
	}
	if req, err := s.plan(snap, c.Dir); err == nil && !s.trusted(req) {
		return string(evalcache.Untrusted)
	}
	return stateNone
}

// environmentHover describes what evaluation knows of a devShell output.
func (s *server) environmentHover(snap *analysis.Snapshot, o *analysis.Output) string {
	if o == nil || o.Category != analysis.DevShells {
		return ""
	}
	c := snap.Component(o.Component)
	if c == nil {
		return ""
	}
	s.mu.Lock()
	env, ok := s.envs[c.Dir]
	s.mu.Unlock()
	if !ok || env.req.Shell != o.Name {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nEnvironment: %s", env.res.State)
	if e := env.res.Env; e != nil {
		if v, ok := e.Variables["name"]; ok && v.Value != "" {
			fmt.Fprintf(&b, ", derivation `%s`", v.Value)
		}
		var pkgs []string
		for _, name := range []string{"nativeBuildInputs", "buildInputs", "propagatedBuildInputs"} {
			for _, p := range strings.Fields(e.Variables[name].Value) {
				pkgs = append(pkgs, storeName(p))
			}
		}
		if len(pkgs) > 0 {
			fmt.Fprintf(&b, "\n\nPackages: `%s`", strings.Join(pkgs, "`, `"))
		}
	}
	if env.res.Err != nil {
		fmt.Fprintf(&b, "\n\nLast evaluation failed: %s", env.res.Err.Message)
	}
	return b.String()
}

// storeName strips the store directory and hash from a store path.
func storeName(p string) string {
	base := filepath.Base(p)
	if i := strings.IndexByte(base, '-'); i == 32 {
		return base[i+1:]
	}
	return base
}

// environmentResult is the answer to monoflake/environment; the editor
// extensions read exactly these names.
type environmentResult struct {
	Root      string            `json:"root"`
	Component *string           `json:"component"`
	Shell     *string           `json:"shell"`
	State     string            `json:"state"`
	Variables map[string]string `json:"variables"`
	Error     *string           `json:"error"`
}

func (s *server) environmentRequest(ctx context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		URI protocol.DocumentURI `json:"uri"`
	}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	path, err := uriToPath(p.URI)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	out := &environmentResult{Root: filepath.Dir(path), State: stateNone, Variables: map[string]string{}}
	ws := s.workspaceForFile(path)
	if ws == nil {
		return out, nil
	}
	snap, err := s.snapshot(ctx, ws)
	if err != nil {
		return nil, err
	}
	out.Root = snap.Root
	req, err := s.plan(snap, path)
	if err != nil {
		msg := err.Error()
		out.Error = &msg
		return out, nil
	}
	out.Component, out.Shell = &req.Component, &req.Shell
	var res *evalcache.Result
	switch {
	case !s.evaluationEnabled():
		return out, nil
	case !s.trusted(req):
		res = &evalcache.Result{State: evalcache.Untrusted}
	default:
		s.mu.Lock()
		env, ok := s.envs[req.ComponentDir]
		s.mu.Unlock()
		if ok && env.req.Shell == req.Shell && env.res.State != evalcache.Untrusted {
			res = env.res
		} else {
			res = s.tracker.Ensure(req)
			s.recordAnswer(snap.Root, req, res)
		}
	}
	out.State = string(res.State)
	if res.Env != nil {
		// Filtered here, by the list direnv and `monoflake shell` use, so
		// that no editor keeps a copy of it.
		out.Variables = direnv.Applied(res.Env)
	}
	if res.Err != nil {
		msg := res.Err.Error()
		out.Error = &msg
	}
	return out, nil
}

func (s *server) executeCommand(ctx context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		Command   string   `json:"command"`
		Arguments []string `json:"arguments"`
	}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if len(p.Arguments) != 1 {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "%s takes one argument, a URI", p.Command)
	}
	path, err := uriToPath(protocol.DocumentURI(p.Arguments[0]))
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	if s.opt.Cache == nil {
		return nil, jsonrpc2.NewError(codeRequestFailed, "monoflake cannot evaluate here: the evaluation cache is not available")
	}
	switch p.Command {
	case CommandTrustWorkspace:
		if err := s.opt.Cache.Trust(path); err != nil {
			return nil, jsonrpc2.NewError(codeRequestFailed, err.Error())
		}
		s.mu.Lock()
		var open []string
		for p := range s.docs {
			if contains(path, p) {
				open = append(open, p)
			}
		}
		s.mu.Unlock()
		sort.Strings(open)
		for _, p := range open {
			s.ensureEnvironment(s.workspaceFor(p), p)
		}
		return nil, nil
	case CommandReloadEnvironment:
		ws := s.workspaceForFile(path)
		if ws == nil {
			return nil, jsonrpc2.Errorf(codeRequestFailed, "%s is not inside a flake", path)
		}
		snap, err := s.snapshot(ctx, ws)
		if err != nil {
			return nil, err
		}
		req, err := s.plan(snap, path)
		if err != nil {
			return nil, jsonrpc2.NewError(codeRequestFailed, err.Error())
		}
		if !s.trusted(req) {
			return nil, jsonrpc2.Errorf(codeRequestFailed, "%s is not trusted, so monoflake does not evaluate it; trust the workspace first", snap.Root)
		}
		s.recordAnswer(snap.Root, req, s.tracker.Reload(req))
		return nil, nil
	}
	return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "unknown command %q", p.Command)
}
