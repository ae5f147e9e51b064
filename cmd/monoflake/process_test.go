package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache/evaltest"
)

// process is the built binary running with a private home, cache and data
// folder, and a nix on PATH that records the pid of every evaluation.
type process struct {
	bin, home, nixPids string
	env                []string
}

func newProcess(t *testing.T, bin string) *process {
	t.Helper()
	home := t.TempDir()
	wrapper := filepath.Join(t.TempDir(), "nix")
	p := &process{bin: bin, home: home, nixPids: filepath.Join(home, "nix.pids")}
	// The real nix, started with exec so that the pid is nix's own.
	script := fmt.Sprintf("#!/bin/bash\ncase \"$*\" in *--version*) ;; *) echo $$ >> %s;; esac\nexec %s \"$@\"\n",
		p.nixPids, evaltest.RequireTool(t, "nix"))
	require.NoError(t, os.WriteFile(wrapper, []byte(script), 0o755))
	p.env = append(os.Environ(),
		"HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"PATH="+filepath.Dir(wrapper)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NIX_CONFIG="+os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	return p
}

func (p *process) command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env
	return cmd
}

func (p *process) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.command(args...).CombinedOutput()
	require.NoError(t, err, "monoflake %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// nixPid waits for the first evaluation's nix to start.
func (p *process) nixPid(t *testing.T) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(p.nixPids)
		pid, _ = strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
		return pid > 0
	}, time.Minute, 10*time.Millisecond, "nix never started")
	return pid
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces, so look after the ")".
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// deepNesting is a Nix file of n nested attribute sets, which keeps static
// analysis busy for a while (two seconds at 300,000 here).
func deepNesting(n int) []byte {
	return []byte(strings.Repeat("{a=", n) + "1" + strings.Repeat(";}", n) + "\n")
}

// TestProcess runs the built binary as users do.
func TestProcess(t *testing.T) {
	evaltest.RequireTool(t, "git")
	bin := filepath.Join(t.TempDir(), "monoflake")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	// SIGINT and SIGTERM end any monoflake within a second, and its nix
	// with it: while nix evaluates, while static analysis runs (which does
	// not watch for cancellation), while the server waits for a client.
	t.Run("signals", func(t *testing.T) {
		evaltest.RequireTool(t, "nix")
		busy := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(busy, "flake.nix"), []byte("{ outputs = _: { }; }\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(busy, "deep.nix"), deepNesting(300000), 0o644))
		tests := []struct {
			name    string
			sig     syscall.Signal
			args    func(p *process) []string
			withNix bool
		}{
			{"env while nix evaluates, SIGTERM", syscall.SIGTERM, func(p *process) []string {
				root := evaltest.HangingFlake(t)
				p.run(t, "trust", root)
				return []string{"env", root}
			}, true},
			{"env while nix evaluates, SIGINT", syscall.SIGINT, func(p *process) []string {
				root := evaltest.HangingFlake(t)
				p.run(t, "trust", root)
				return []string{"env", root}
			}, true},
			{"check during static analysis", syscall.SIGTERM, func(*process) []string { return []string{"check", busy} }, false},
			{"serve waiting for a client", syscall.SIGTERM, func(*process) []string { return []string{"serve"} }, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := newProcess(t, bin)
				cmd := p.command(tt.args(p)...)
				stdin, err := cmd.StdinPipe() // serve reads it; kept open
				require.NoError(t, err)
				defer stdin.Close()
				require.NoError(t, cmd.Start())
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				nix := 0
				if tt.withNix {
					nix = p.nixPid(t)
				} else {
					time.Sleep(300 * time.Millisecond) // at work
				}
				require.NoError(t, cmd.Process.Signal(tt.sig))
				start := time.Now()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					t.Fatal("monoflake did not stop")
				}
				require.Less(t, time.Since(start), time.Second)
				if nix != 0 {
					require.Eventually(t, func() bool { return !alive(nix) }, time.Second, 10*time.Millisecond, "nix outlived monoflake")
				}
			})
		}
	})

	// A monoflake killed outright takes its nix with it.
	t.Run("kill -9", func(t *testing.T) {
		p := newProcess(t, bin)
		root := evaltest.HangingFlake(t)
		p.run(t, "trust", root)
		cmd := p.command("env", root)
		require.NoError(t, cmd.Start())
		nix := p.nixPid(t)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		require.Eventually(t, func() bool { return !alive(nix) }, time.Second, 10*time.Millisecond, "nix outlived monoflake")
	})

	// The answer never waits for the pruning check: env prints and exits,
	// the check runs on in its own process and records its verdict.
	t.Run("env does not wait for the pruning check", func(t *testing.T) {
		p := newProcess(t, bin)
		root := evaltest.CopyFixture(t, "monorepo")
		p.run(t, "trust", root)
		// Evaluating the whole flake takes 3 s longer than the pruned one.
		slow := fmt.Sprintf("#!/bin/bash\ncase \"$*\" in *--version*|*/pruned/*) ;; *) sleep 3;; esac\nexec %s \"$@\"\n", evaltest.RequireTool(t, "nix"))
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "nix"), []byte(slow), 0o755))
		cmd := p.command("env", filepath.Join(root, "frontend"))
		cmd.Env = append(cmd.Env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "MONOFLAKE_LOG=1")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "export FRONTEND_PORT=3000")
		require.Contains(t, string(out), "pruned=true")
		require.Less(t, time.Since(start), 3*time.Second, "env waited for the check")

		log := filepath.Join(p.home, "cache", "monoflake", "checks.log")
		require.Eventually(t, func() bool {
			data, _ := os.ReadFile(log)
			return strings.Contains(string(data), "verified pruning")
		}, 2*time.Minute, 50*time.Millisecond)
		verified, err := os.ReadDir(filepath.Join(p.home, "cache", "monoflake", "verified"))
		require.NoError(t, err)
		require.Len(t, verified, 1)
		require.Eventually(t, func() bool {
			jobs, _ := os.ReadDir(filepath.Join(p.home, "cache", "monoflake", "checks"))
			return len(jobs) == 0
		}, time.Minute, 50*time.Millisecond, "the check cleans up after itself")
	})
}
