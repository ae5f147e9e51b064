package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/direnv"
	"github.com/monoflake/monoflake/evalcache"
)

func TestInit(t *testing.T) {
	root := t.TempDir()
	module := `{ perSystem = { pkgs, ... }: { devShells.x = pkgs.mkShell { }; }; }`
	subFlake := `{ outputs = { self }: { devShells.x86_64-linux.default = 1; }; }`
	for f, text := range map[string]string{
		"flake.nix": `{
  inputs.api.url = "path:./services/api";
  outputs = i: mkFlake { } { imports = [ ./backend/nix/outputs.nix ./frontend/nix/outputs.nix ]; };
}`,
		"backend/nix/outputs.nix":             module,
		"frontend/nix/outputs.nix":            module,
		"services/api/flake.nix":              subFlake,
		"templates/basic/flake.nix":           subFlake,
		"docs/readme.md":                      "",
		".git/sub/flake.nix":                  "",
		"frontend/node_modules/pkg/flake.nix": "",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte(text), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "frontend/.envrc"), []byte("use flake\n"), 0o644))
	skip := "skip $ROOT/templates/basic: a sub-flake that no input of the root flake reaches (a template or a test fixture?); --all includes it\n"

	tests := []struct {
		name   string
		args   []string
		stdout string // $ROOT for the repository
		stderr string
		exist  []string // .envrc files that exist afterwards
	}{
		{"dry run", []string{"init", "--dry-run", root},
			"would write $ROOT/backend/.envrc: use monoflake\nwould write $ROOT/services/api/.envrc: use monoflake\n" +
				"keep $ROOT/frontend/.envrc: it exists\n" + skip,
			"", []string{"frontend"}},
		{"writes", []string{"init", root},
			"write $ROOT/backend/.envrc: use monoflake\nwrite $ROOT/services/api/.envrc: use monoflake\n" +
				"keep $ROOT/frontend/.envrc: it exists\n" + skip,
			"monoflake: review each new .envrc and run `direnv allow` in its directory to use it\n",
			[]string{"backend", "frontend", "services/api"}},
		{"again", []string{"init", root},
			"keep $ROOT/backend/.envrc: it exists\nkeep $ROOT/frontend/.envrc: it exists\nkeep $ROOT/services/api/.envrc: it exists\n" + skip,
			"", []string{"backend", "frontend", "services/api"}},
		{"--all", []string{"init", "--all", root},
			"write $ROOT/templates/basic/.envrc: use monoflake\n" +
				"keep $ROOT/backend/.envrc: it exists\nkeep $ROOT/frontend/.envrc: it exists\nkeep $ROOT/services/api/.envrc: it exists\n",
			"monoflake: review each new .envrc and run `direnv allow` in its directory to use it\n",
			[]string{"backend", "frontend", "services/api", "templates/basic"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
		require.Equal(t, exitOK, run(context.Background(), c, tt.args), "%s: %s", tt.name, stderr.String())
		require.Equal(t, tt.stdout, strings.ReplaceAll(stdout.String(), root, "$ROOT"), tt.name)
		require.Equal(t, tt.stderr, stderr.String(), tt.name)
		var exist []string
		for _, d := range []string{"backend", "frontend", "services/api", "templates/basic"} {
			if _, err := os.Lstat(filepath.Join(root, d, ".envrc")); err == nil {
				exist = append(exist, d)
			}
		}
		require.Equal(t, tt.exist, exist, tt.name)
	}

	kept, err := os.ReadFile(filepath.Join(root, "frontend/.envrc"))
	require.NoError(t, err)
	require.Equal(t, "use flake\n", string(kept))
	_, err = os.Stat(filepath.Join(root, ".envrc"))
	require.ErrorIs(t, err, os.ErrNotExist, "the repository root is not a component")
}

func TestInitWithoutComponents(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	dir := t.TempDir()
	require.Equal(t, exitUsage, run(context.Background(), c, []string{"init", dir}), "a folder in no repository is refused")
	require.Contains(t, stderr.String(), "is not in a repository")
	stderr.Reset()
	require.NoError(t, exec.Command("git", "init", "-q", dir).Run())
	require.Equal(t, exitFindings, run(context.Background(), c, []string{"init", dir}))
	require.Contains(t, stderr.String(), "no components found")
}

func TestDirenvrcCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	require.Equal(t, exitOK, run(context.Background(), c, []string{"direnvrc"}))
	exe, err := os.Executable()
	require.NoError(t, err)
	require.Contains(t, stdout.String(), "use_monoflake() {")
	require.Contains(t, stdout.String(), exe)
	require.Equal(t, exitUsage, run(context.Background(), c, []string{"direnvrc", "extra"}))
}

func TestEvalErrorLine(t *testing.T) {
	tests := []struct {
		err  *evalcache.EvalError
		want string
	}{
		{nil, "unknown error"},
		{&evalcache.EvalError{File: "/r/backend/nix/outputs.nix", Line: 36, Column: 22, Message: "undefined variable 'x'"},
			"backend/nix/outputs.nix:36:22: undefined variable 'x'"},
		{&evalcache.EvalError{File: "/elsewhere/lib.nix", Line: 1, Column: 2, Message: "boom"}, "/elsewhere/lib.nix:1:2: boom"},
		{&evalcache.EvalError{Message: "while evaluating\n   the attribute\n\nfailed"}, "while evaluating the attribute failed"},
		{&evalcache.EvalError{Message: strings.Repeat("x", 500)}, strings.Repeat("x", 400) + "…"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, evalErrorLine("/r", tt.err))
	}
}

func TestDirenvWatchesFallsBackToWatchFile(t *testing.T) {
	env := map[string]string{}
	c := &cli{getenv: func(k string) string { return env[k] }}
	require.Empty(t, direnvWatches(c, []string{"/r/flake.nix"}), "outside direnv")
	env["DIRENV_WATCHES"] = "not what direnv writes"
	require.Empty(t, direnvWatches(c, []string{"/r/flake.nix"}), "an unknown format")
	empty, err := direnv.AddWatches("", nil)
	require.NoError(t, err)
	env["DIRENV_WATCHES"] = empty
	require.NotEmpty(t, direnvWatches(c, []string{"/r/flake.nix"}))
}
