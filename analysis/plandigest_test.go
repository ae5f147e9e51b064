package analysis

import (
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
