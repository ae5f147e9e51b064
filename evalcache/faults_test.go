package evalcache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/stretchr/testify/require"
)

// Faults of issue 12, each against the real nix (and git), with PATH-free
// wrapper scripts standing in for nix where a fault must be injected.

// wrappedNix is a script that runs the real nix with `inject` around it:
// `inject` sees the arguments as "$@" and runs the real nix as $REAL.
func wrappedNix(t *testing.T, inject string) string {
	t.Helper()
	real := requireTool(t, "nix")
	return fakeNix(t, "REAL="+real+"\n"+inject)
}

// An edit made while nix runs must not leave an entry that pairs the new
// file's hash with the old file's environment.
func TestEditWhileEvaluating(t *testing.T) {
	root := copyFixture(t, "monorepo")
	signals := t.TempDir()
	read, release := filepath.Join(signals, "read"), filepath.Join(signals, "release")
	// The first evaluation has read its files (nix has exited) but is held
	// before monoflake sees its answer.
	nix := wrappedNix(t, fmt.Sprintf(`out=$(mktemp); err=$(mktemp)
"$REAL" "$@" >"$out" 2>"$err"; rc=$?
if mkdir %[1]s.held 2>/dev/null; then
  touch %[1]s
  while [ ! -e %[2]s ]; do sleep 0.02; done
fi
cat "$out"; cat "$err" >&2; rm -f "$out" "$err"; exit $rc`, read, release))
	c, log := testCache(t, root, Options{Nix: nix})
	req := monorepoRequest(root, "backend", "backend")
	done := make(chan *Result, 1)
	go func() {
		res, err := c.Get(context.Background(), req)
		if err != nil {
			res = &Result{Err: &EvalError{Message: err.Error()}}
		}
		done <- res
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(read); return err == nil }, time.Minute, 10*time.Millisecond)
	editFile(t, filepath.Join(root, "backend/nix/outputs.nix"), `BACKEND_PORT = "8080"`, `BACKEND_PORT = "9090"`)
	require.NoError(t, os.WriteFile(release, nil, 0o644))
	res := <-done
	require.Nil(t, res.Err)
	require.Equal(t, "9090", res.Env.Variables["BACKEND_PORT"].Value, "the evaluation started over with the edited file")
	require.Contains(t, log.String(), "changed while it was evaluated")

	res, err := c.Get(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "9090", res.Env.Variables["BACKEND_PORT"].Value)
}

// A missing nix, or a flake.nix the model cannot read, keeps the last good
// environment, with the real cause.
func TestFailuresKeepTheLastEnvironment(t *testing.T) {
	requireTool(t, "nix")
	ctx := context.Background()

	t.Run("nix missing on a miss", func(t *testing.T) {
		root := copyFixture(t, "monorepo")
		c, _ := testCache(t, root, Options{})
		req := monorepoRequest(root, "backend", "backend")
		_, err := c.Get(ctx, req)
		require.NoError(t, err)
		editFile(t, filepath.Join(root, "backend/nix/outputs.nix"), `BACKEND_PORT = "8080"`, `BACKEND_PORT = "9090"`)

		without, err := Open(Options{Dir: c.Dir(), DataDir: c.dataDir, Nix: "/nonexistent/nix", Getenv: c.getenv})
		require.NoError(t, err)
		res, err := without.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, Stale, res.State)
		require.Equal(t, "8080", res.Env.Variables["BACKEND_PORT"].Value)
		require.Equal(t, ErrNixMissing.Error(), res.Err.Message)
		require.Contains(t, res.Files, filepath.Join(root, "backend/nix/outputs.nix"), "direnv still watches the files")

		res, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, "9090", res.Env.Variables["BACKEND_PORT"].Value, "with nix back, the next request evaluates")
	})

	t.Run("flake.nix does not parse", func(t *testing.T) {
		root := copyFixture(t, "monorepo")
		c, _ := testCache(t, root, Options{})
		backend := filepath.Join(root, "backend")
		res, _, err := c.EnvironmentFor(ctx, Query{Path: backend})
		require.NoError(t, err)
		require.Equal(t, Fresh, res.State)
		// Broken so that the model finds no component at all.
		editFile(t, filepath.Join(root, "flake.nix"), "imports = [", "imports = ((")

		res, req, err := c.EnvironmentFor(ctx, Query{Path: backend})
		require.NoError(t, err)
		require.Equal(t, "backend", req.Component)
		require.Equal(t, Stale, res.State)
		require.Equal(t, "8080", res.Env.Variables["BACKEND_PORT"].Value)
		require.Equal(t, filepath.Join(root, "flake.nix"), res.Err.File, "nix's own message: %s", res.Err)
		require.Contains(t, res.Err.Message, "syntax error")

		// Without an earlier environment there is nothing to keep, but the
		// cause is still the syntax error, not "outside every component".
		fresh, _ := testCache(t, root, Options{})
		_, _, err = fresh.EnvironmentFor(ctx, Query{Path: backend})
		require.ErrorContains(t, err, filepath.Join(root, "flake.nix")+":")
		require.NotContains(t, err.Error(), "outside every component")
	})
}

// remoteFlake is a committed flake whose shell uses a tarball input at an
// address that refuses connections, locked with extra attributes.
func remoteFlake(t *testing.T, extraLocked string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "remote")
	require.NoError(t, os.MkdirAll(root, 0o755))
	url := "http://127.0.0.1:1/remote.tar.gz"
	flake := `{
  inputs.remote = { url = "` + url + `"; flake = false; };
  outputs = { self, remote }: {
    devShells.x86_64-linux.default = derivation {
      name = "remote-shell"; system = "x86_64-linux"; builder = "/bin/bash";
      args = [ "-c" "echo > $out" ]; outputs = [ "out" ]; PATH = "/bin:/usr/bin";
      REMOTE = "${remote}";
    };
  };
}
`
	lock := `{"nodes": {"remote": {"flake": false, "locked": {` + extraLocked + `"type": "tarball", "url": "` + url + `", "narHash": "sha256-` +
		strings.Repeat("A", 43) + `="}, "original": {"type": "tarball", "url": "` + url + `"}},
  "root": {"inputs": {"remote": "remote"}}}, "root": "root", "version": 7}
`
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte(flake), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.lock"), []byte(lock), 0o644))
	evaltest.Git(t, root, "init", "-q")
	evaltest.Git(t, root, "add", "-A")
	evaltest.Git(t, root, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "remote")
	return root
}

// What says nothing about the repository is never served from the cache.
func TestTransientFailuresAreRetried(t *testing.T) {
	requireTool(t, "nix")
	// One attempt: nix would retry the download for seconds.
	t.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\ndownload-attempts = 1\n")
	tests := []struct {
		name    string
		root    func(t *testing.T) string
		req     func(root string) Request
		nix     func(t *testing.T) string
		message string
	}{
		{"a failed download", func(t *testing.T) string { return remoteFlake(t, "") },
			func(root string) Request {
				return Request{Root: root, Component: "remote", Shell: "default", System: "x86_64-linux"}
			},
			func(t *testing.T) string { return requireTool(t, "nix") }, "unable to download"},
		{"nix killed", func(t *testing.T) string { return copyFixture(t, "monorepo") },
			func(root string) Request { return monorepoRequest(root, "backend", "backend") },
			func(t *testing.T) string { return fakeNix(t, "kill -9 $$") }, "stopped by signal 9"},
		{"nix interrupted", func(t *testing.T) string { return evaltest.HangingFlake(t) },
			func(root string) Request {
				return Request{Root: root, Component: "hanging", Shell: "default", System: "x86_64-linux"}
			},
			func(t *testing.T) string { return wrappedNix(t, `(sleep 0.3; kill -INT $$) & exec "$REAL" "$@"`) }, "interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.root(t)
			c, log := testCache(t, root, Options{Nix: tt.nix(t)})
			req := tt.req(root)
			res, err := c.Get(context.Background(), req)
			require.NoError(t, err)
			require.Equal(t, Failed, res.State)
			require.Contains(t, strings.ToLower(res.Err.Message), tt.message)
			res, err = c.Get(context.Background(), req)
			require.NoError(t, err)
			require.False(t, res.Hit, "a transient failure is tried again: %s\n%s", res.Err, log)
			require.GreaterOrEqual(t, log.count("evaluation failed"), 2)
		})
	}
}

// Entries and environments cut short (a full disk, a power loss) are
// evaluated again, never an error, never a wrong hit.
func TestCutShortFilesAreRebuilt(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, _ := testCache(t, root, Options{})
	ctx := context.Background()
	req := monorepoRequest(root, "backend", "backend")
	first, err := c.Get(ctx, req)
	require.NoError(t, err)
	entry := c.entryPath(normalized(t, req).ComponentDir, Scoped, "x86_64-linux")
	outputs := filepath.Join(root, "backend/nix/outputs.nix")

	cut := []struct {
		name string
		file func() string
		keep func(data []byte) []byte
	}{
		{"empty entry", func() string { return entry }, func([]byte) []byte { return nil }},
		{"half an entry", func() string { return entry }, func(d []byte) []byte { return d[:len(d)/2] }},
		{"entry without its dependency on outputs.nix", func() string { return entry }, func(d []byte) []byte {
			var kept []string
			for _, line := range strings.SplitAfter(string(d), "\n") {
				if !strings.HasPrefix(line, outputs+"\t") {
					kept = append(kept, line)
				}
			}
			return []byte(strings.Join(kept, ""))
		}},
		{"empty environment", func() string { return c.envPath(first.DrvPath) }, func([]byte) []byte { return nil }},
		{"half an environment", func() string { return c.envPath(first.DrvPath) }, func(d []byte) []byte { return d[:len(d)/2] }},
	}
	port := 8080
	for _, tt := range cut {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(tt.file())
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(tt.file(), tt.keep(data), 0o644))
			// A change the damaged entry would not know of.
			editFile(t, outputs, fmt.Sprintf(`BACKEND_PORT = "%d"`, port), fmt.Sprintf(`BACKEND_PORT = "%d"`, port+1))
			port++
			res, err := c.Get(ctx, req)
			require.NoError(t, err)
			require.Equal(t, Fresh, res.State, "%v", res.Err)
			require.False(t, res.Hit)
			require.Equal(t, fmt.Sprint(port), res.Env.Variables["BACKEND_PORT"].Value)
			res, err = c.Get(ctx, req)
			require.NoError(t, err)
			require.True(t, res.Hit, "rebuilt")
		})
	}
}

// Refresh evaluates again; so does an entry older than RefreshBefore
// (direnv reload touching the .envrc).
func TestRefresh(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	c, log := testCache(t, root, Options{})
	ctx := context.Background()
	path := filepath.Join(root, "infra")
	var touched time.Time // when the .envrc was last touched
	steps := []struct {
		name   string
		q      Query
		reload bool // touch before the step
		hit    bool
	}{
		{"first", Query{Path: path}, false, false},
		{"cached", Query{Path: path}, false, true},
		{"refresh", Query{Path: path, Refresh: true}, false, false},
		{"evaluated after the touch", Query{Path: path}, true, false},
		{"evaluated since the touch", Query{Path: path}, false, true},
	}
	for i, s := range steps {
		if s.reload {
			touched = time.Now()
		}
		if !touched.IsZero() {
			s.q.RefreshBefore = touched
		}
		res, _, err := c.EnvironmentFor(ctx, s.q)
		require.NoError(t, err, s.name)
		require.Equal(t, s.hit, res.Hit, s.name)
		require.Equal(t, Fresh, res.State, s.name)
		require.Equal(t, "1", res.Env.Variables["TF_IN_AUTOMATION"].Value, s.name)
		evaluations := 0
		for _, p := range steps[:i+1] {
			if !p.hit {
				evaluations++
			}
		}
		require.Equal(t, evaluations, log.count("msg=evaluated"), s.name)
	}
}

// A modern flake.lock read by nix 2.8: which input, which Nix reads it.
func TestOldNixNewLock(t *testing.T) {
	requireTool(t, "nix")
	root := remoteFlake(t, `"lastModified": 1700000000, `)
	for _, mode := range []Mode{Scoped, Flake} {
		t.Run(string(mode), func(t *testing.T) {
			c, _ := testCache(t, root, Options{})
			res, err := c.Get(context.Background(), Request{Root: root, Component: "remote", Shell: "default", System: "x86_64-linux", Mode: mode})
			require.NoError(t, err)
			require.Equal(t, Failed, res.State)
			require.Equal(t, filepath.Join(root, "flake.lock"), res.Err.File)
			require.Contains(t, res.Err.Message, `input "remote" is locked with "lastModified"`)
			require.Contains(t, res.Err.Message, "it needs Nix 2.18 or newer")
		})
	}
}

// A devShell the configuration names that does not exist: the setting and
// the shells that do.
func TestMissingShell(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	config := filepath.Join(root, ".monoflake.json")
	require.NoError(t, os.WriteFile(config, []byte(`{"shells": {"analytics": "nope"}}`), 0o644))
	snap, err := analysis.Load(context.Background(), root)
	require.NoError(t, err)
	for _, mode := range []Mode{Scoped, Flake} {
		t.Run(string(mode), func(t *testing.T) {
			req, err := Plan(snap, filepath.Join(root, "analytics"), "", mode)
			require.NoError(t, err)
			c, _ := testCache(t, root, Options{})
			res, err := c.Get(context.Background(), req)
			require.NoError(t, err)
			require.Equal(t, Failed, res.State)
			require.Equal(t, `there is no devShell "nope" for x86_64-linux (the flake defines backend, frontend, infra, python); `+
				`it is named by "shells": {"analytics": "nope"} in `+config, res.Err.Message)
			require.Empty(t, res.Err.File)
		})
	}
	c, _ := testCache(t, root, Options{})
	req := monorepoRequest(root, "backend", "backend")
	req.System = "aarch64-linux"
	res, err := c.Get(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, `the flake defines no devShells for aarch64-linux (it defines them for x86_64-linux); set "system" in `+config, res.Err.Message)
}

// evalcache's own git calls run nothing of the repository's.
func TestGitCallsRunNoRepositoryCode(t *testing.T) {
	root := copyFixture(t, "monorepo")
	pwned := filepath.Join(t.TempDir(), "PWNED")
	evaltest.Git(t, root, "config", "core.fsmonitor", "touch "+pwned+"; echo")
	ctx := context.Background()
	files := trackedFiles(ctx, root)
	require.Contains(t, files, filepath.Join(root, "backend/nix/outputs.nix"))
	require.Contains(t, files, filepath.Join(root, ".git/index"))
	require.True(t, hasCommit(ctx, root))
	require.Equal(t, root, workTreeTop(ctx, filepath.Join(root, "backend")))
	require.NoFileExists(t, pwned)
	require.False(t, hasCommit(ctx, t.TempDir()))

	// The setting is live: plain git runs it.
	cmd := exec.Command("git", "ls-files")
	cmd.Dir = root
	require.NoError(t, cmd.Run())
	require.FileExists(t, pwned)
}

// The pruning check runs in a process of its own: neither the answer nor
// Close waits for it, and its verdict lands in the cache folder later.
func TestCheckRunsDetached(t *testing.T) {
	root := copyFixture(t, "monorepo")
	// The whole flake takes 3 s longer than the pruned module list.
	nix := wrappedNix(t, `case "$*" in *"/pruned/"*) ;; *) sleep 3;; esac; exec "$REAL" "$@"`)
	c, _ := testCache(t, root, Options{Nix: nix, CheckCommand: []string{os.Args[0], checkSubcommand}})
	req := monorepoRequest(root, "frontend", "frontend")
	req.Pruned = prunedFor(t, root, "nix/pkgs.nix", "backend/nix/outputs.nix", "frontend/nix/outputs.nix")
	key := checkKey(normalized(t, req))
	start := time.Now()
	res, err := c.Get(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Fresh, res.State, "%v", res.Err)
	require.True(t, res.Pruned)
	require.NoError(t, c.Close())
	require.Less(t, time.Since(start), 3*time.Second, "neither the answer nor Close waited for the check")
	require.NoFileExists(t, c.verifiedPath(key))

	require.Eventually(t, func() bool { return exists(c.verifiedPath(key)) }, 2*time.Minute, 50*time.Millisecond)
	// Done once its lock is free.
	require.Eventually(t, func() bool {
		unlock, ok, err := tryLockFile(c.checkLockPath(key))
		if ok {
			unlock()
		}
		return ok && err == nil
	}, time.Minute, 50*time.Millisecond)
	log, err := os.ReadFile(c.checkLogPath())
	require.NoError(t, err)
	require.Contains(t, string(log), "verified pruning")
	require.NoFileExists(t, c.checkJobPath(key))
}

// Every nix call has a timeout, nix --version included, and the timeout is
// configurable through the environment.
func TestTimeouts(t *testing.T) {
	root := flakeDir(t)
	hangsOnVersion := filepath.Join(t.TempDir(), "nix")
	require.NoError(t, os.WriteFile(hangsOnVersion, []byte("#!/bin/bash\nexec sleep 300\n"), 0o755))
	c, _ := testCache(t, root, Options{Nix: hangsOnVersion, Timeout: 300 * time.Millisecond})
	start := time.Now()
	res, err := c.Get(context.Background(), Request{Root: root, Component: "x", Shell: "x"})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, Failed, res.State)
	require.Equal(t, hangsOnVersion+" --version did not answer within 300ms, so devShells cannot be evaluated", res.Err.Message)

	hanging, _ := hangingNix(t)
	env := map[string]string{TimeoutVariable: "150ms", "HOME": t.TempDir()}
	c, err = Open(Options{Dir: t.TempDir(), DataDir: t.TempDir(), Nix: hanging, Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	require.NoError(t, c.Trust(root))
	res, err = c.Get(context.Background(), Request{Root: root, Component: "x", Shell: "x"})
	require.NoError(t, err)
	require.Contains(t, res.Err.Message, "nix did not finish within 150ms")

	env[TimeoutVariable] = "soon"
	_, err = Open(Options{Dir: t.TempDir(), DataDir: t.TempDir(), Getenv: func(k string) string { return env[k] }})
	require.EqualError(t, err, "MONOFLAKE_EVAL_TIMEOUT=soon is not a duration such as 90s or 20m")
}
