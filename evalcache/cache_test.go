package evalcache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log sink safe for the cache's background goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testCache opens a cache in a temporary folder that trusts root.
func testCache(t *testing.T, root string, opts Options) (*Cache, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "cache")
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(t.TempDir(), "data")
	}
	opts.Log = log
	home := t.TempDir()
	opts.Getenv = func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	c, err := Open(opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	if root != "" {
		require.NoError(t, c.Trust(root))
	}
	return c, log
}

// cached is the cache's answer for req without running nix, if it has one.
func cached(t testing.TB, c *Cache, req Request) (*Result, bool) {
	t.Helper()
	req, err := normalize(req)
	require.NoError(t, err)
	f := c.lookup(c.entryPath(req.ComponentDir, req.Mode, req.System), &req)
	return f.hit, f.hit != nil
}

// lookupPath is the cache's answer for a path, found by directory.
func lookupPath(c *Cache, path string) (*Result, Request, bool) {
	f, req, ok := c.findByPath(path, "", Scoped)
	return f.hit, req, ok && f.hit != nil
}

// fakeNix writes a stand-in for nix that answers --version like nix 2.8
// and runs body for everything else.
func fakeNix(t *testing.T, body string) string {
	t.Helper()
	nix := filepath.Join(t.TempDir(), "nix")
	script := "#!/bin/bash\ncase \"$*\" in *--version*) echo 'nix (Nix) 2.8.0'; exit 0;; esac\n" + body + "\n"
	require.NoError(t, os.WriteFile(nix, []byte(script), 0o755))
	return nix
}

// flakeDir is a folder with a flake.nix, which is all trust needs.
func flakeDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte("{ outputs = _: { }; }\n"), 0o644))
	return root
}

func monorepoRequest(root, component, shell string) Request {
	return Request{Root: root, Component: component, ComponentDir: filepath.Join(root, component), Shell: shell, System: "x86_64-linux"}
}

// prunedFor is the Pruned the analysis model would compute.
func prunedFor(t testing.TB, root string, modules ...string) *Pruned {
	t.Helper()
	src, kept := evaltest.PrunedFlake(t, root, modules...)
	return &Pruned{FlakeSource: src, Modules: kept}
}

func normalized(t *testing.T, req Request) Request {
	t.Helper()
	req, err := normalize(req)
	require.NoError(t, err)
	return req
}

var editFile = evaltest.EditFile

func TestGetCachesAndRevalidates(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, log := testCache(t, root, Options{})
	ctx := context.Background()
	req := monorepoRequest(root, "backend", "backend")

	res, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, Fresh, res.State)
	require.False(t, res.Hit)
	require.Equal(t, "8080", res.Env.Variables["BACKEND_PORT"].Value)
	require.Regexp(t, `^/nix/store/[a-z0-9]{32}-backend-shell\.drv$`, res.DrvPath)
	require.Contains(t, res.Files, filepath.Join(root, "backend/nix/outputs.nix"))
	require.NotContains(t, res.Files, filepath.Join(root, "frontend/src/index.js"), "scoped evaluation never reads it")

	steps := []struct {
		name   string
		change func()
		hit    bool
		builds int // environments built so far
		port   string
	}{
		{"unchanged", func() {}, true, 1, "8080"},
		{"touched but identical", func() {
			future := time.Now().Add(time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(root, "backend/nix/outputs.nix"), future, future))
		}, true, 1, "8080"},
		{"file the shell never reads", func() {
			editFile(t, filepath.Join(root, "frontend/src/index.js"), "frontend", "web")
		}, true, 1, "8080"},
		{"comment: new evaluation, same derivation, no build", func() {
			editFile(t, filepath.Join(root, "backend/nix/outputs.nix"), "# The backend", "# The Rust backend")
		}, false, 1, "8080"},
		{"value changed", func() {
			editFile(t, filepath.Join(root, "backend/nix/outputs.nix"), `BACKEND_PORT = "8080"`, `BACKEND_PORT = "9090"`)
		}, false, 2, "9090"},
		{"flake.lock changed", func() {
			editFile(t, filepath.Join(root, "flake.lock"), `"version": 7`, `"version": 7 `)
		}, false, 2, "9090"},
	}
	for _, s := range steps {
		s.change()
		res, err := c.Get(ctx, req)
		require.NoError(t, err, s.name)
		require.Equal(t, s.hit, res.Hit, s.name)
		require.Equal(t, Fresh, res.State, s.name)
		require.Equal(t, s.port, res.Env.Variables["BACKEND_PORT"].Value, s.name)
		require.Equal(t, s.builds, log.count("built environment"), s.name)
	}

	// Another Cache on the same folder (another process) sees the entry.
	other, err := Open(Options{Dir: c.Dir(), DataDir: c.dataDir, Nix: "/nonexistent/nix"})
	require.NoError(t, err)
	res, ok := cached(t, other, req)
	require.True(t, ok)
	require.Equal(t, "9090", res.Env.Variables["BACKEND_PORT"].Value)

	res, found, ok := lookupPath(other, filepath.Join(root, "backend/src/main.rs"))
	require.True(t, ok)
	require.Equal(t, "backend", found.Shell)
	require.Equal(t, "9090", res.Env.Variables["BACKEND_PORT"].Value)
	_, _, ok = lookupPath(other, filepath.Join(root, "frontend/src/index.js"))
	require.False(t, ok, "frontend was never evaluated")
}

// TestScopedMatchesFlake is the fidelity check: for every shell of the
// fixtures, scoped evaluation gives the derivation and variables of
// `nix print-dev-env`. The variables allowed to differ are listed in
// docs/EVALUATION.md; the fixtures need none of them.
func TestScopedMatchesFlake(t *testing.T) {
	requireTool(t, "nix")
	roots := map[string]string{"monorepo": copyFixture(t, "monorepo"), "subflakes": copyFixture(t, "subflakes")}
	ctx := context.Background()
	for _, tc := range fixtureShells {
		t.Run(tc.fixture+"/"+tc.dir+"/"+tc.shell, func(t *testing.T) {
			root := filepath.Join(roots[tc.fixture], tc.dir)
			c, _ := testCache(t, root, Options{})
			req := Request{Root: root, Component: tc.shell, ComponentDir: root, Shell: tc.shell, System: "x86_64-linux"}
			scoped, err := c.Get(ctx, req)
			require.NoError(t, err)
			require.Nil(t, scoped.Err)
			req.Mode = Flake
			flake, err := c.Get(ctx, req)
			require.NoError(t, err)
			require.Nil(t, flake.Err)
			require.Equal(t, flake.DrvPath, scoped.DrvPath)
			require.Equal(t, flake.Env.Variables, scoped.Env.Variables)
			require.Equal(t, tc.value, scoped.Env.Variables[tc.varName].Value)
			require.Contains(t, flake.Files, filepath.Join(root, "flake.nix"), "store paths map back to the repository")
		})
	}
}

func TestFlakeModeTracksSubflakeFiles(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "subflakes")
	c, _ := testCache(t, root, Options{})
	ctx := context.Background()
	for _, mode := range []Mode{Scoped, Flake} {
		req := Request{Root: root, Component: "root", ComponentDir: root, Shell: "default", System: "x86_64-linux", Mode: mode}
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.Contains(t, res.Files, filepath.Join(root, "backend/flake.nix"), mode)
		require.Contains(t, res.Files, filepath.Join(root, "lib/pkgs.nix"), mode)
	}
}

func TestPruning(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	ctx := context.Background()
	full := func(t *testing.T, component, shell string) *Result {
		c, _ := testCache(t, root, Options{})
		res, err := c.Get(ctx, monorepoRequest(root, component, shell))
		require.NoError(t, err)
		return res
	}
	complete := func(t *testing.T) *Pruned {
		return prunedFor(t, root, "nix/pkgs.nix", "backend/nix/outputs.nix", "frontend/nix/outputs.nix")
	}

	t.Run("right modules: same derivation, verified once", func(t *testing.T) {
		want := full(t, "frontend", "frontend")
		c, log := testCache(t, root, Options{})
		req := monorepoRequest(root, "frontend", "frontend")
		req.Pruned = complete(t)
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Pruned)
		require.Equal(t, want.DrvPath, res.DrvPath)
		require.NotContains(t, res.Files, filepath.Join(root, "analytics/nix/outputs.nix"))
		for _, f := range res.Files {
			require.False(t, isUnder(f, c.Dir()), "%s is the cache's, not one to watch", f)
		}
		c.bg.Wait()
		require.FileExists(t, c.verifiedPath(checkKey(normalized(t, req))))
		require.Equal(t, 1, log.count("verified pruning"))

		// An edit inside a kept module changes the derivation, not the
		// module list: no second check.
		editFile(t, filepath.Join(root, "frontend/nix/outputs.nix"), `FRONTEND_PORT = "3000"`, `FRONTEND_PORT = "3001"`)
		res, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Pruned)
		require.Equal(t, "3001", res.Env.Variables["FRONTEND_PORT"].Value)
		require.NoError(t, c.Close())
		require.Equal(t, 1, log.count("verified pruning"), "the check did not run again")
		require.NotContains(t, log.String(), "level=WARN")
		editFile(t, filepath.Join(root, "frontend/nix/outputs.nix"), `FRONTEND_PORT = "3001"`, `FRONTEND_PORT = "3000"`)
	})

	t.Run("missing module: off after the check, then on again when a check agrees", func(t *testing.T) {
		want := full(t, "frontend", "frontend")
		c, log := testCache(t, root, Options{})
		req := monorepoRequest(root, "frontend", "frontend")
		req.Pruned = prunedFor(t, root, "nix/pkgs.nix", "frontend/nix/outputs.nix")
		// The answer is the pruned evaluation's: it does not wait for the
		// whole flake.
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, Failed, res.State)
		require.True(t, res.Pruned)
		require.NoFileExists(t, c.noPrunePath(root), "the check has not been waited for")
		c.bg.Wait()
		require.FileExists(t, c.noPrunePath(root))
		require.Contains(t, log.String(), "differs from the whole flake")

		// The check marked the entry: the next request evaluates every
		// module, and says why.
		res, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.False(t, res.Hit)
		require.Equal(t, Fresh, res.State)
		require.False(t, res.Pruned)
		require.Equal(t, want.DrvPath, res.DrvPath)
		require.Contains(t, res.PruningOff, "evaluating only the modules frontend needs failed")
		res, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Hit)
		require.NotEmpty(t, res.PruningOff, "a hit says it too")

		// A complete module list (the model fixed, say) is checked while
		// pruning is off; once the check agrees, pruning is on again.
		req.Pruned = complete(t)
		res, err = c.Reload(ctx, req)
		require.NoError(t, err)
		require.False(t, res.Pruned)
		c.bg.Wait()
		require.NoFileExists(t, c.noPrunePath(root))
		require.Contains(t, log.String(), "pruning is on again")
		res, err = c.Reload(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Pruned)
		require.Empty(t, res.PruningOff)
		require.Equal(t, want.DrvPath, res.DrvPath)
	})

	t.Run("different derivation: off after the check", func(t *testing.T) {
		want := full(t, "backend", "backend")
		c, log := testCache(t, root, Options{})
		req := monorepoRequest(root, "backend", "backend")
		// A module list that changes the shell, as a wrong pruning could.
		req.Pruned = prunedFor(t, root, "nix/pkgs.nix", "backend/nix/outputs.nix",
			`{ perSystem = { pkgs, ... }: { devShells.backend = pkgs.mkShell { name = "other"; }; }; }`)
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Pruned)
		require.NotEqual(t, want.DrvPath, res.DrvPath)
		require.NoError(t, c.Close())
		require.Contains(t, log.String(), "differs from the whole flake")
		_, ok := cached(t, c, req)
		require.False(t, ok, "the check invalidated the entry")
		res, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.False(t, res.Pruned)
		require.Equal(t, want.DrvPath, res.DrvPath)
		require.Contains(t, res.PruningOff, "where the whole flake gives "+want.DrvPath)
	})

	t.Run("a typo fails both ways: pruning stays on", func(t *testing.T) {
		c, log := testCache(t, root, Options{})
		req := monorepoRequest(root, "frontend", "frontend")
		req.Pruned = complete(t)
		outputs := filepath.Join(root, "frontend/nix/outputs.nix")
		editFile(t, outputs, `FRONTEND_PORT = "3000"`, `FRONTEND_PORT = undefinedThing`)
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, Failed, res.State)
		require.NoError(t, c.Close())
		require.Contains(t, log.String(), "pruning check inconclusive")
		require.NoFileExists(t, c.noPrunePath(root))

		editFile(t, outputs, `FRONTEND_PORT = undefinedThing`, `FRONTEND_PORT = "3000"`)
		res, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, Fresh, res.State)
		require.True(t, res.Pruned, "after the fix, the shell is evaluated pruned")
	})

	t.Run("an edit before the check runs: inconclusive, pruning stays on", func(t *testing.T) {
		// A check command that starts nothing leaves the job waiting, as
		// a detached check still starting would.
		c, log := testCache(t, root, Options{CheckCommand: []string{"true"}})
		req := monorepoRequest(root, "frontend", "frontend")
		req.Pruned = complete(t)
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Pruned)
		data, err := os.ReadFile(c.checkJobPath(checkKey(normalized(t, req))))
		require.NoError(t, err)
		var job checkJob
		require.NoError(t, json.Unmarshal(data, &job))

		outputs := filepath.Join(root, "frontend/nix/outputs.nix")
		editFile(t, outputs, `FRONTEND_PORT = "3000"`, `FRONTEND_PORT = "3002"`)
		defer editFile(t, outputs, `FRONTEND_PORT = "3002"`, `FRONTEND_PORT = "3000"`)
		c.check(ctx, job)
		require.NoError(t, c.Close())
		require.Contains(t, log.String(), "a file the evaluation read changed since")
		require.NoFileExists(t, c.noPrunePath(root), "the edit is not blamed on the module list")
		require.NoFileExists(t, c.verifiedPath(job.Key))
	})
}

func TestEvalErrorKeepsStaleEnvironment(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{})
	ctx := context.Background()
	req := monorepoRequest(root, "backend", "backend")
	_, err := c.Get(ctx, req)
	require.NoError(t, err)

	outputs := filepath.Join(root, "backend/nix/outputs.nix")
	editFile(t, outputs, `RUST_LOG = "backend=debug";`, `RUST_LOG = undefinedThing;`)
	res, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, Stale, res.State)
	require.Equal(t, "8080", res.Env.Variables["BACKEND_PORT"].Value)
	require.Equal(t, &EvalError{File: outputs, Line: 37, Column: 18, Message: "undefined variable 'undefinedThing'"}, res.Err)

	res, err = c.Get(ctx, req)
	require.NoError(t, err)
	require.True(t, res.Hit, "the failure is cached until a file changes")
	require.Equal(t, Stale, res.State)

	editFile(t, outputs, `RUST_LOG = undefinedThing;`, `RUST_LOG = "backend=info";`)
	res, err = c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, Fresh, res.State)
	require.Nil(t, res.Err)
	require.Equal(t, "backend=info", res.Env.Variables["RUST_LOG"].Value)
}

func TestFailedWithoutEarlierEnvironment(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{})
	res, err := c.Get(context.Background(), monorepoRequest(root, "backend", "nosuchshell"))
	require.NoError(t, err)
	require.Equal(t, Failed, res.State)
	require.Nil(t, res.Env)
	require.Contains(t, res.Err.Message, "nosuchshell")
}

func TestTrust(t *testing.T) {
	root := filepath.Join(flakeDir(t), "repo")
	require.NoError(t, os.MkdirAll(root, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte("{ outputs = _: { }; }\n"), 0o644))
	component := filepath.Join(root, "backend")
	require.NoError(t, os.MkdirAll(component, 0o755))
	// A nix that cannot run proves that nothing is evaluated.
	c, _ := testCache(t, "", Options{Nix: "/nonexistent/nix"})
	req := Request{Root: root, Component: "backend", ComponentDir: component, Shell: "backend"}

	res, err := c.Get(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Untrusted, res.State)
	require.False(t, c.Trusted(root))

	require.NoError(t, c.Trust(filepath.Dir(root)))
	require.True(t, c.Trusted(root), "trusting a parent trusts what it holds")
	require.NoError(t, c.Revoke(filepath.Dir(root)))
	require.False(t, c.Trusted(root))

	// direnv's allow list: sha256 of the .envrc's path, a newline and its
	// content names a file under $XDG_DATA_HOME/direnv/allow.
	envrc := filepath.Join(component, ".envrc")
	require.NoError(t, os.WriteFile(envrc, []byte("use monoflake\n"), 0o644))
	allow := filepath.Join(xdgDataHome(c.getenv), "direnv", "allow")
	require.NoError(t, os.MkdirAll(allow, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(allow, hashHex(envrc+"\nuse monoflake\n")), []byte(envrc+"\n"), 0o644))
	require.True(t, c.TrustedFor(req))
	require.False(t, c.Trusted(root), "the component's .envrc does not trust the whole repository")
	require.NoError(t, os.WriteFile(envrc, []byte("use monoflake\necho changed\n"), 0o644))
	require.False(t, c.TrustedFor(req), "an edited .envrc needs a new allow")

	// Only a folder holding a flake.nix can be trusted: trust covers every
	// folder below.
	err = c.Trust(component)
	require.ErrorContains(t, err, component+" holds no flake.nix")
	require.False(t, c.TrustedFor(req))

	req.Trusted = true
	res, err = c.Get(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Failed, res.State)
	require.Equal(t, ErrNixMissing.Error(), res.Err.Message)
}

func TestConcurrentGetsEvaluateOnce(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, log := testCache(t, root, Options{})
	// A second Cache on the same folder stands for another process.
	other, err := Open(Options{Dir: c.Dir(), DataDir: c.dataDir, Log: log})
	require.NoError(t, err)
	req := monorepoRequest(root, "infra", "infra")
	// require stops only the goroutine that calls it, so the goroutines
	// hand their results back and the test goroutine checks them.
	type answer struct {
		res *Result
		err error
	}
	answers := make(chan answer, 8)
	for i := range 8 {
		go func() {
			cache := c
			if i%2 == 1 {
				cache = other
			}
			res, err := cache.Get(context.Background(), req)
			answers <- answer{res, err}
		}()
	}
	for range 8 {
		a := <-answers
		require.NoError(t, a.err)
		require.Equal(t, "1", a.res.Env.Variables["TF_IN_AUTOMATION"].Value)
	}
	require.Equal(t, 1, log.count("msg=evaluated"))
}

// hangingNix writes a stand-in for nix that starts a grandchild and waits
// forever; the grandchild's pid lands in pidFile.
func hangingNix(t *testing.T) (nix, pidFile string) {
	pidFile = filepath.Join(t.TempDir(), "child.pid")
	return fakeNix(t, "sleep 300 & echo $! > "+pidFile+"\nwait"), pidFile
}

func TestTimeout(t *testing.T) {
	fake, _ := hangingNix(t)
	root := flakeDir(t)
	c, _ := testCache(t, root, Options{Nix: fake, Timeout: 200 * time.Millisecond})
	start := time.Now()
	res, err := c.Get(context.Background(), Request{Root: root, Component: "x", Shell: "x"})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, Failed, res.State)
	require.Equal(t, "nix did not finish within 200ms; evaluate again, or raise the timeout with MONOFLAKE_EVAL_TIMEOUT", res.Err.Message)
	_, ok := cached(t, c, Request{Root: root, Component: "x", Shell: "x"})
	require.False(t, ok, "a timeout is tried again, not served from the cache")
}

func TestCancelKillsProcessGroup(t *testing.T) {
	fake, pidFile := hangingNix(t)
	root := flakeDir(t)
	c, _ := testCache(t, root, Options{Nix: fake})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, Request{Root: root, Component: "x", Shell: "x"})
		done <- err
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(pidFile); return err == nil }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return processGone(strings.TrimSpace(string(pid))) }, 5*time.Second, 10*time.Millisecond, "the grandchild sleep must be killed with the group")
}

func TestNixVersion(t *testing.T) {
	_, err := NixVersion(context.Background(), "/nonexistent/nix")
	require.ErrorIs(t, err, ErrNixMissing)

	dir := t.TempDir()
	old := filepath.Join(dir, "nix")
	require.NoError(t, os.WriteFile(old, []byte("#!/bin/sh\necho 'nix (Nix) 2.3.16'\n"), 0o755))
	_, err = NixVersion(context.Background(), old)
	require.ErrorContains(t, err, "nix 2.3.16 is too old")

	lix := filepath.Join(dir, "lix")
	require.NoError(t, os.WriteFile(lix, []byte("#!/bin/sh\necho 'nix (Lix, like Nix) 2.91.1'\n"), 0o755))
	v, err := NixVersion(context.Background(), lix)
	require.NoError(t, err)
	require.Equal(t, "2.91.1", v)
}

// TestNixVersionIsKept checks that processes sharing a cache folder ask a
// nix binary its version once, and ask again a new binary at the same path
// or when the record is damaged.
func TestNixVersionIsKept(t *testing.T) {
	dir := t.TempDir()
	nix, calls := filepath.Join(dir, "nix"), filepath.Join(dir, "calls")
	install := func(version string) {
		script := fmt.Sprintf("#!/bin/sh\necho asked >> %s\necho 'nix (Nix) %s'\n", calls, version)
		require.NoError(t, os.WriteFile(nix, []byte(script), 0o755))
	}
	asked := func() int {
		data, _ := os.ReadFile(calls)
		return strings.Count(string(data), "asked\n")
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	var c *Cache
	version := func() string {
		c, _ = testCache(t, "", Options{Dir: cacheDir, Nix: nix}) // a process of its own
		v, err := c.nixVersion(context.Background())
		require.NoError(t, err)
		return v
	}

	install("2.8.0")
	require.Equal(t, "2.8.0", version())
	require.Equal(t, "2.8.0", version())
	require.Equal(t, 1, asked(), "the second process reads what the first learned")

	install("2.18.1")
	require.Equal(t, "2.18.1", version(), "a new binary is asked again")
	require.Equal(t, 2, asked())

	binary, ok := c.nixBinary()
	require.True(t, ok)
	for _, damaged := range []string{"", "garbage\n", "2.3.16\n"} {
		require.NoError(t, os.WriteFile(c.nixVersionPath(binary), []byte(damaged), 0o644))
		require.Equal(t, "2.18.1", version(), "a record of %q is not trusted", damaged)
	}
	require.Equal(t, 5, asked())
}

func TestBuildFailureIsRetried(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, log := testCache(t, root, Options{})
	ctx := context.Background()
	req := monorepoRequest(root, "infra", "infra")
	// A shell whose package fails to build: evaluation succeeds, the
	// build does not.
	outputs := filepath.Join(root, "infra/nix/outputs.nix")
	editFile(t, outputs, `packages = [ pkgs.terraform ];`,
		`packages = [ (pkgs.mkDerivation { name = "broken-tool"; buildScript = "echo broken-tool-failed; exit 1"; }) ];`)
	res, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, Failed, res.State)
	require.Contains(t, res.Err.Message, "broken-tool-failed")

	res, err = c.Get(ctx, req)
	require.NoError(t, err)
	require.False(t, res.Hit, "a build failure is not served from the cache")
	require.Equal(t, 2, log.count("evaluation failed"))
}

// TestSelfCopy: a shell that forces self.outPath gets the store path nix
// gives it (the git-tracked files under the name "source"), and then
// depends on every tracked file.
func TestSelfCopy(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	outputs := filepath.Join(root, "backend/nix/outputs.nix")
	editFile(t, outputs, "{ ... }:\n{\n  perSystem", "{ self, ... }:\n{\n  perSystem")
	editFile(t, outputs, `BACKEND_PORT = "8080";`, `BACKEND_PORT = "8080";
      REPO_SOURCE = "${self}";`)
	evaltest.Git(t, root, "commit", "-q", "-a", "-m", "use self")
	// An untracked file is not part of the flake's source.
	require.NoError(t, os.WriteFile(filepath.Join(root, "untracked.txt"), []byte("x"), 0o644))
	c, _ := testCache(t, root, Options{})
	ctx := context.Background()
	req := monorepoRequest(root, "backend", "backend")
	scoped, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Nil(t, scoped.Err)
	req.Mode = Flake
	flake, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, flake.Env.Variables["REPO_SOURCE"], scoped.Env.Variables["REPO_SOURCE"])
	require.Equal(t, flake.DrvPath, scoped.DrvPath)
	require.Contains(t, scoped.Files, filepath.Join(root, "frontend/src/index.js"), "every tracked file")
	require.NotContains(t, scoped.Files, filepath.Join(root, "untracked.txt"))

	req.Mode = Scoped
	editFile(t, filepath.Join(root, "frontend/src/index.js"), "frontend", "web")
	res, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.False(t, res.Hit)
	require.NotEqual(t, scoped.Env.Variables["REPO_SOURCE"], res.Env.Variables["REPO_SOURCE"])
}

func TestGCRootsAndTrim(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{MaxAge: time.Hour})
	ctx := context.Background()
	backend, infra := monorepoRequest(root, "backend", "backend"), monorepoRequest(root, "infra", "infra")
	resBackend, err := c.Get(ctx, backend)
	require.NoError(t, err)
	_, err = c.Get(ctx, infra)
	require.NoError(t, err)

	// Each environment's store path is kept alive by a profile link.
	backendEntry := c.entryPath(backend.ComponentDir, Scoped, "x86_64-linux")
	infraEntry := c.entryPath(infra.ComponentDir, Scoped, "x86_64-linux")
	for _, entry := range []string{backendEntry, infraEntry} {
		target, err := filepath.EvalSymlinks(c.rootPath(entry))
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(target, "-env"), target)
	}

	// An entry unused for longer than MaxAge goes; its environment and root
	// stay while another process might still be writing an entry that
	// refers to them, and go once they are older than an evaluation takes.
	old := time.Now().Add(-2 * time.Hour)
	entry := c.entryPath(backend.ComponentDir, Scoped, "x86_64-linux")
	require.NoError(t, os.Chtimes(entry, old, old))
	require.NoError(t, c.Trim())
	require.NoFileExists(t, entry)
	require.FileExists(t, c.envPath(resBackend.DrvPath), "a young environment is left for a later trim")
	c.settle = 0
	require.NoError(t, c.Trim())
	require.NoFileExists(t, entry)
	require.NoFileExists(t, c.envPath(resBackend.DrvPath))
	_, err = os.Lstat(c.rootPath(backendEntry))
	require.True(t, os.IsNotExist(err), "the GC root is removed")
	_, ok := cached(t, c, infra)
	require.True(t, ok)
	_, err = os.Lstat(c.rootPath(infraEntry))
	require.NoError(t, err)

	// So does what a process killed while writing an entry left.
	temp := filepath.Join(filepath.Dir(infraEntry), "."+filepath.Base(infraEntry)+".tmp123")
	require.NoError(t, os.WriteFile(temp, []byte("{"), 0o644))
	require.NoError(t, os.Chtimes(temp, old, old))
	require.NoError(t, c.Trim())
	require.NoFileExists(t, temp)

	// The checks' log is cut when it grows past its bound.
	require.NoError(t, os.WriteFile(c.checkLogPath(), make([]byte, maxCheckLog+1), 0o644))
	require.NoError(t, c.Trim())
	require.NoFileExists(t, c.checkLogPath())

	// Size: with room for one environment, the least recently used goes.
	c.maxSize = 1
	require.NoError(t, c.Trim())
	_, ok = cached(t, c, infra)
	require.False(t, ok)
}

// TestFlakeModeErrorPosition: nix reports the error in the store copy of
// the flake; the position is mapped back into the repository.
func TestFlakeModeErrorPosition(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{})
	outputs := filepath.Join(root, "backend/nix/outputs.nix")
	editFile(t, outputs, `RUST_LOG = "backend=debug";`, `RUST_LOG = undefinedThing;`)
	req := monorepoRequest(root, "backend", "backend")
	req.Mode = Flake
	res, err := c.Get(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Failed, res.State)
	require.Equal(t, &EvalError{File: outputs, Line: 37, Column: 18, Message: "undefined variable 'undefinedThing'"}, res.Err)
}

func TestGetMany(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{MaxParallel: 2})
	reqs := []Request{
		monorepoRequest(root, "analytics", "python"),
		monorepoRequest(root, "backend", "backend"),
		monorepoRequest(root, "frontend", "frontend"),
		monorepoRequest(root, "infra", "infra"),
		monorepoRequest(root, "nosuch", "nosuch"),
	}
	results, err := c.GetMany(context.Background(), reqs)
	require.NoError(t, err)
	require.Len(t, results, len(reqs))
	for i, want := range []string{"analytics", "backend", "frontend", "infra"} {
		require.Equal(t, want, results[i].Env.Variables["MONOREPO_COMPONENT"].Value)
	}
	require.Equal(t, Failed, results[4].State)
}

// Links inside a source directory nix copies are recorded as links, never
// followed: a loop or a link out of the repository costs nothing.
func TestSymlinksInSourcesAreNotFollowed(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	require.NoError(t, os.Symlink(".", filepath.Join(root, "backend", "src", "loop")))
	require.NoError(t, os.Symlink("/", filepath.Join(root, "backend", "src", "everything")))
	evaltest.Git(t, root, "add", "-A")
	c, _ := testCache(t, root, Options{})
	ctx := context.Background()
	// The frontend shell builds backend's package, which copies backend/src.
	req := monorepoRequest(root, "frontend", "frontend")
	res, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, Fresh, res.State, "%v", res.Err)
	require.Contains(t, res.Files, filepath.Join(root, "backend", "src", "loop"))
	for _, f := range res.Files {
		require.True(t, strings.HasPrefix(f, root), "a dependency outside the repository: %s", f)
	}
	res, err = c.Get(ctx, req)
	require.NoError(t, err)
	require.True(t, res.Hit)

	// Pointing a link elsewhere is a change.
	require.NoError(t, os.Remove(filepath.Join(root, "backend", "src", "loop")))
	require.NoError(t, os.Symlink("..", filepath.Join(root, "backend", "src", "loop")))
	_, ok := cached(t, c, req)
	require.False(t, ok)
}

// processGone reports whether a process has ended: no longer in /proc, or
// a zombie nobody reaped yet (the machine's init may not reap at once).
func processGone(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
