package direnv

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis"
)

func TestInitDirs(t *testing.T) {
	module := `{ perSystem = { pkgs, ... }: { devShells.x = pkgs.mkShell { }; }; }`
	subFlake := `{ outputs = { self }: { devShells.x86_64-linux.default = 1; }; }`
	tests := []struct {
		name    string
		files   map[string]string
		all     bool
		dirs    []string
		skipped []string
	}{
		{
			name: "modules of the flake",
			files: map[string]string{
				"flake.nix":                `{ outputs = i: mkFlake { } { imports = [ ./backend/nix/outputs.nix ./frontend/nix/outputs.nix ]; }; }`,
				"backend/nix/outputs.nix":  module,
				"frontend/nix/outputs.nix": module,
			},
			dirs: []string{"backend", "frontend"},
		},
		{
			name: "sub-flakes reached through inputs, directly or through another sub-flake",
			files: map[string]string{
				"flake.nix":                     `{ inputs.api.url = "path:./services/api?narHash=x"; outputs = { self, api }: { }; }`,
				"services/api/flake.nix":        `{ inputs = { core = { url = "path:../../libs/core"; }; }; outputs = { self, core }: { devShells.x86_64-linux.default = 1; }; }`,
				"libs/core/flake.nix":           subFlake,
				"templates/basic/flake.nix":     subFlake,
				"tests/fixtures/repo/flake.nix": subFlake,
			},
			dirs:    []string{"libs/core", "services/api"},
			skipped: []string{"templates/basic", "tests/fixtures/repo"},
		},
		{
			name: "--all",
			files: map[string]string{
				"flake.nix":                 `{ inputs.api.url = "path:./services/api"; outputs = { self, api }: { }; }`,
				"services/api/flake.nix":    subFlake,
				"templates/basic/flake.nix": subFlake,
			},
			all:  true,
			dirs: []string{"services/api", "templates/basic"},
		},
		{
			name: "an interpolated path reaches nothing it names",
			files: map[string]string{
				"flake.nix":              `{ inputs.api.url = "path:./services/${name}"; outputs = { self, api }: { }; }`,
				"services/api/flake.nix": subFlake,
			},
			skipped: []string{"services/api"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, text := range tt.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte(text), 0o644))
			}
			s, err := analysis.Load(context.Background(), root)
			require.NoError(t, err)
			dirs, skipped := InitDirs(s, tt.all)
			require.Equal(t, tt.dirs, relAll(t, root, dirs))
			var skippedDirs []string
			for _, sk := range skipped {
				require.Equal(t, ReasonUnreached, sk.Reason)
				skippedDirs = append(skippedDirs, sk.Dir)
			}
			require.Equal(t, tt.skipped, relAll(t, root, skippedDirs))
		})
	}
}

func TestPendingEnvrcs(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "a", ".envrc"), []byte("use flake\n"), 0o644))
	require.NoError(t, os.Symlink("../missing", filepath.Join(root, "c", ".envrc")))
	write, kept := PendingEnvrcs([]string{filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")})
	require.Equal(t, []string{"b/.envrc"}, relAll(t, root, write))
	require.Equal(t, []string{"a/.envrc", "c/.envrc"}, relAll(t, root, kept))
	_, err := os.Stat(filepath.Join(root, "b", ".envrc"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing is written")
}
