package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInit(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"flake.nix",
		"backend/nix/outputs.nix",
		"frontend/nix/outputs.nix",
		"services/api/flake.nix",
		"docs/readme.md",
		".git/sub/flake.nix",
		"frontend/node_modules/pkg/flake.nix",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, f), nil, 0o644))
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
