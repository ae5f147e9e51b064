package analysis

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fix of untracked-path is keyed on the diagnostic's code: it adds
// the path the reference names to git's index, and nothing else.
func TestTrackPathAction(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte("{ outputs = _: { src = ./src/main.rs; }; }\n"), 0o644))
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	flake := filepath.Join(root, "flake.nix")
	paths := s.File(flake).facts.Paths
	require.Len(t, paths, 1)
	d := Diagnostic{Loc: Location{File: flake, Span: paths[0].Span}, Severity: SeverityWarning, Code: CodeUntrackedPath, Message: "src/main.rs is not tracked by git"}

	got := ActionsFor(s, d)
	require.Len(t, got, 1)
	require.Equal(t, "Track src/main.rs in git (git add)", got[0].Title)
	require.Equal(t, filepath.Join(root, "src", "main.rs"), got[0].GitAdd)
	require.Equal(t, []Diagnostic{d}, got[0].Fixes)
	require.Empty(t, got[0].Edits)
	require.Nil(t, got[0].Create)

	d.Loc.Span.Start++
	require.Empty(t, ActionsFor(s, d), "no path at the diagnostic, no fix")
}
