package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The grammar comes from the module cache (filled by `make grammar` or any
// earlier fetch), so these tests need the module proxy only on a cold cache.
func TestFetchCopiesTheGrammar(t *testing.T) {
	dest := t.TempDir()
	require.NoError(t, fetch(dest, grammarSum))
	for _, name := range append(grammarFiles, "tree_sitter/api.h") {
		info, err := os.Stat(filepath.Join(dest, name))
		require.NoError(t, err, name)
		require.NotZero(t, info.Size(), name)
		require.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "copies are writable so a later fetch can replace them")
	}
	require.NoError(t, fetch(dest, grammarSum), "fetching again replaces the files")
}

func TestFetchRefusesAnotherHash(t *testing.T) {
	dest := t.TempDir()
	err := fetch(dest, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	require.ErrorContains(t, err, "refusing to use it")
	entries, _ := os.ReadDir(dest)
	require.Empty(t, entries, "nothing is copied from a module with the wrong hash")
}

// A new machine starts with an empty module cache: the fetch must download
// both modules itself, not assume an earlier build put them there.
func TestFetchFromAnEmptyModuleCache(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads two modules through the module proxy")
	}
	t.Setenv("GOMODCACHE", t.TempDir())
	// Module cache files are read-only; let the test's cleanup remove them.
	t.Setenv("GOFLAGS", "-modcacherw")
	dest := t.TempDir()
	require.NoError(t, fetch(dest, grammarSum))
	info, err := os.Stat(filepath.Join(dest, "tree_sitter", "api.h"))
	require.NoError(t, err)
	require.NotZero(t, info.Size())
}
