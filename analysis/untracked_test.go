package analysis

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A flake's evaluation sees git's tracked files only: a path it reads
// that exists but is untracked gets a warning, an ignored one a hint, and
// outside a git work tree neither.
func TestUntrackedAndIgnoredPaths(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	write("flake.nix", `{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./a.nix ./new.nix ./secret.nix ]; }; }`)
	write("a.nix", `{ perSystem = { pkgs, ... }: { packages.a = pkgs.hello; }; }`)
	write(".gitignore", "secret.nix\n")
	diagnostics := func() map[string]Severity {
		s, err := Load(context.Background(), root)
		require.NoError(t, err)
		out := map[string]Severity{}
		for _, d := range s.AllDiagnostics() {
			out[d.Code] = d.Severity
		}
		return out
	}
	write("new.nix", `{ }`)
	write("secret.nix", `{ }`)
	require.Empty(t, diagnostics(), "outside a git work tree nothing is said")

	for _, args := range [][]string{{"init", "-q"}, {"add", "flake.nix", "a.nix", ".gitignore"}} {
		cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	require.Equal(t, map[string]Severity{CodeUntrackedPath: SeverityWarning, CodeIgnoredPath: SeverityInfo}, diagnostics())
}
