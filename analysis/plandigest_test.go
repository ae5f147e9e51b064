package analysis

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FactsDigest keeps what the model reads and forgets where: comments,
// layout and the bodies of derivations leave it, anything the model reads
// changes it.
func TestFactsDigest(t *testing.T) {
	const base = `{ self', pkgs, ... }: {
  packages.api = pkgs.callPackage ./package.nix { };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db ]; };
}
`
	for _, tc := range []struct {
		name, src string
		same      bool
	}{
		{"a comment", "# api\n" + base, true},
		{"layout", `{ self', pkgs, ... }: { packages.api = pkgs.callPackage ./package.nix { };
  devShells.api = pkgs.mkShell {
    packages = [ self'.packages.db ];
  };
}`, true},
		{"a derivation's body", `{ self', pkgs, ... }: {
  packages.api = pkgs.callPackage ./package.nix { version = "2"; };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db ]; shellHook = "echo hi"; };
}
`, true},
		{"another reference", `{ self', pkgs, ... }: {
  packages.api = pkgs.callPackage ./package.nix { };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db self'.packages.cache ]; };
}
`, false},
		{"another output", `{ self', pkgs, ... }: {
  packages.server = pkgs.callPackage ./package.nix { };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db ]; };
}
`, false},
		{"another path", `{ self', pkgs, ... }: {
  packages.api = pkgs.callPackage ./other.nix { };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db ]; };
}
`, false},
		{"a syntax error", base + "}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "outputs.nix")
			require.NoError(t, os.WriteFile(path, []byte(base), 0o644))
			before, err := FactsDigest(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, []byte(tc.src), 0o644))
			after, err := FactsDigest(path)
			require.NoError(t, err)
			if tc.same {
				require.Equal(t, before, after)
			} else {
				require.NotEqual(t, before, after)
			}
		})
	}
	_, err := FactsDigest(filepath.Join(t.TempDir(), "missing.nix"))
	require.ErrorContains(t, err, "missing.nix")
}

// A snapshot's digests equal those of parsing the file, whether its facts
// were parsed or read back from the persistent index.
func TestSnapshotFactsDigest(t *testing.T) {
	root, store, parsed := indexedFixture(t)
	packed, err := LoadWith(context.Background(), root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.NotEmpty(t, packed.Files())
	for _, p := range packed.Files() {
		require.Nil(t, packed.files[p].tree, "%s comes from the index", p)
		want, err := FactsDigest(p)
		require.NoError(t, err)
		for name, s := range map[string]*Snapshot{"parsed": parsed, "from the index": packed} {
			got, ok := s.FactsDigest(p)
			require.True(t, ok)
			require.Equal(t, want, got, "%s, %s", p, name)
		}
	}
	_, ok := packed.FactsDigest(filepath.Join(root, "missing.nix"))
	require.False(t, ok)
}
