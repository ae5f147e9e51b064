package main

import (
	"bytes"
	"context"
	"os"
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
	for f, text := range map[string]string{
		"flake.nix":                           `{ outputs = i: mkFlake { } { imports = [ ./backend/nix/outputs.nix ./frontend/nix/outputs.nix ]; }; }`,
		"backend/nix/outputs.nix":             module,
		"frontend/nix/outputs.nix":            module,
		"services/api/flake.nix":              `{ outputs = { self }: { devShells.x86_64-linux.default = 1; }; }`,
		"docs/readme.md":                      "",
		".git/sub/flake.nix":                  "",
		"frontend/node_modules/pkg/flake.nix": "",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte(text), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "frontend/.envrc"), []byte("use flake\n"), 0o644))

	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	require.Equal(t, exitOK, run(context.Background(), c, []string{"init", root}))
	require.Equal(t, filepath.Join(root, "backend/.envrc")+"\n"+filepath.Join(root, "services/api/.envrc")+"\n", stdout.String())
	require.Contains(t, stderr.String(), "kept "+filepath.Join(root, "frontend/.envrc"))

	kept, err := os.ReadFile(filepath.Join(root, "frontend/.envrc"))
	require.NoError(t, err)
	require.Equal(t, "use flake\n", string(kept))
	_, err = os.Stat(filepath.Join(root, ".envrc"))
	require.ErrorIs(t, err, os.ErrNotExist, "the repository root is not a component")

	stdout.Reset()
	require.Equal(t, exitOK, run(context.Background(), c, []string{"init", root}))
	require.Empty(t, stdout.String(), "a second run writes nothing")
}

func TestInitWithoutComponents(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	require.Equal(t, exitFindings, run(context.Background(), c, []string{"init", t.TempDir()}))
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
