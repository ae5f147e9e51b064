package genrepo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nixConfig turns flakes on and the binary cache off: tests never touch the
// network, and an unreachable cache costs seconds per build.
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\n"

// devEnv is the part of `nix print-dev-env --json` the test reads.
type devEnv struct {
	Variables map[string]struct {
		Type  string `json:"type"`
		Value any    `json:"value"`
	} `json:"variables"`
}

// TestShellsEvaluate evaluates every generated devShell with the real nix,
// in flake mode from the committed git tree, and checks that each one
// carries its own settings and those of the shells it takes inputs from:
// with the fixture's flake-parts look-alike, and with the real flake-parts
// and nixpkgs lib as inputs.
func TestShellsEvaluate(t *testing.T) {
	requireTool(t, "git")
	requireTool(t, "nix")
	t.Setenv("NIX_CONFIG", nixConfig)
	t.Run("look-alike", func(t *testing.T) {
		testShellsEvaluate(t, Options{Components: 10, Git: true})
	})
	t.Run("real libraries", func(t *testing.T) {
		libs, err := FindNixLibs()
		if err != nil {
			t.Skipf("skipping the real flake-parts: %v", err)
		}
		testShellsEvaluate(t, Options{Components: 10, Git: true, NixLibs: libs, InputsDir: t.TempDir()})
	})
}

func testShellsEvaluate(t *testing.T, opt Options) {
	repo, err := Generate(t.TempDir(), opt)
	require.NoError(t, err)
	p := newPlan(opt)

	// A shell takes the hooks and packages of the shells in its inputsFrom,
	// which took theirs from their own: want[i] is every component whose
	// shell ends up in component i's.
	want := make([][]string, len(p.components))
	for i, c := range p.components {
		set := []string{c.name}
		for _, d := range c.shellDeps {
			set = append(set, want[d]...)
		}
		slices.Sort(set)
		want[i] = slices.Compact(set)
	}

	for i, c := range p.components {
		t.Run(c.name, func(t *testing.T) {
			env := printDevEnv(t, repo.Root, ".#devShells.x86_64-linux."+c.name)
			require.Equal(t, c.name, variable(t, env, "MONOREPO_COMPONENT"))
			require.Equal(t, want[i], matches(hookRan, variable(t, env, "shellHook")), "the components whose shellHook runs")
			require.Equal(t, want[i], matches(packageBin, variable(t, env, "PATH")), "the components whose package is on PATH")
		})
	}
}

var (
	hookRan    = regexp.MustCompile(`export (C[0-9]+)_HOOK=ran`)
	packageBin = regexp.MustCompile(`/nix/store/[a-z0-9]+-(c[0-9]+)-[0-9.]+/bin`)
)

// matches returns the first groups of every match in s, lower-cased, sorted
// and without repeats.
func matches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.ToLower(m[1]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestFlakeCheck builds every package, check and app of a generated
// repository through `nix flake check`, and runs one app.
func TestFlakeCheck(t *testing.T) {
	requireTool(t, "git")
	requireTool(t, "nix")
	repo, err := Generate(t.TempDir(), Options{Components: 12, Seed: 5, Git: true})
	require.NoError(t, err)
	runNix(t, repo.Root, "flake", "check")

	var app Component
	for _, c := range repo.Components {
		if slices.Contains(c.Outputs, "apps") {
			app = c
			break
		}
	}
	require.NotEmpty(t, app.Name, "no component defines an app")
	out := runNix(t, repo.Root, "run", ".#apps.x86_64-linux."+app.Name, "--", "hello")
	require.Regexp(t, "^"+app.Name+` [0-9.]+ hello\n$`, string(out))
}

func variable(t *testing.T, env devEnv, name string) string {
	t.Helper()
	v, ok := env.Variables[name]
	require.True(t, ok, "the environment has no %s", name)
	s, ok := v.Value.(string)
	require.True(t, ok, "%s is a %s, not a string", name, v.Type)
	return s
}

// builderRace is how nix reports a builder it killed after the builder had
// already closed its output but before it had quite exited
// (NixOS/nix#2176). Such a failure is not cached and says nothing about the
// derivation, so it is retried.
const builderRace = "failed due to signal 9 (Killed)"

func printDevEnv(t *testing.T, dir, installable string) devEnv {
	t.Helper()
	var env devEnv
	require.NoError(t, json.Unmarshal(runNix(t, dir, "print-dev-env", "--json", installable), &env))
	return env
}

// runNix runs nix offline in dir and returns what it printed on stdout.
func runNix(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	for attempt := 1; ; attempt++ {
		stdout.Reset()
		stderr.Reset()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "nix", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "NIX_CONFIG="+nixConfig)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		err := cmd.Run()
		cancel()
		if err == nil {
			return stdout.Bytes()
		}
		if attempt < 5 && strings.Contains(stderr.String(), builderRace) {
			continue
		}
		require.NoError(t, err, "nix %s: %s", strings.Join(args, " "), stderr.String())
	}
}

// TestGenerateRealLibraries checks the tree a repository using the real
// libraries gets: inputs outside it, locked by content (so the lock is the
// same wherever they are copied), and no look-alike left behind.
func TestGenerateRealLibraries(t *testing.T) {
	requireTool(t, "git")
	requireTool(t, "nix")
	t.Setenv("NIX_CONFIG", nixConfig)
	libs, err := FindNixLibs()
	if err != nil {
		t.Skipf("skipping the real flake-parts: %v", err)
	}
	type locked struct {
		NarHash string `json:"narHash"`
		Rev     string `json:"rev"`
		Type    string `json:"type"`
	}
	lockOf := func(root string) map[string]locked {
		var lock struct {
			Nodes map[string]struct {
				Locked locked `json:"locked"`
			} `json:"nodes"`
		}
		require.NoError(t, json.Unmarshal([]byte(readFile(t, root, "flake.lock")), &lock))
		out := map[string]locked{}
		for name, n := range lock.Nodes {
			if name != "root" {
				out[name] = n.Locked
			}
		}
		return out
	}
	var locks []map[string]locked
	for range 2 {
		inputs := t.TempDir()
		repo, err := Generate(t.TempDir(), Options{Components: 3, Git: true, NixLibs: libs, InputsDir: inputs})
		require.NoError(t, err)
		flake := readFile(t, repo.Root, "flake.nix")
		require.Contains(t, flake, `flake-parts.url = "git+file://`+inputs+`/flake-parts";`)
		require.Contains(t, flake, `nixpkgs-lib.url = "path:`+inputs+`/nixpkgs-lib";`)
		require.Contains(t, flake, `flake-parts.inputs.nixpkgs-lib.follows = "nixpkgs-lib";`)
		require.NoFileExists(t, filepath.Join(repo.Root, filepath.FromSlash(lookAlike)))
		require.Empty(t, git(t, repo.Root, "status", "--porcelain", "--untracked-files=all"))
		require.DirExists(t, filepath.Join(inputs, "flake-parts", ".git"))
		locks = append(locks, lockOf(repo.Root))
	}
	require.Equal(t, "git", locks[0]["flake-parts"].Type)
	require.Equal(t, "path", locks[0]["nixpkgs-lib"].Type)
	require.Equal(t, locks[0], locks[1])

	_, err = Generate(filepath.Join(t.TempDir(), "repo"), Options{Components: 1, NixLibs: libs})
	require.ErrorContains(t, err, "need a folder to be copied into")
	root := filepath.Join(t.TempDir(), "repo")
	_, err = Generate(root, Options{Components: 1, NixLibs: libs, InputsDir: filepath.Join(root, "inputs")})
	require.ErrorContains(t, err, "inside the repository")
}
