package analysis

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/analysistest"
)

// PlanDigest keeps what a plan may depend on and forgets where: comments,
// layout, the bodies of derivations and paths used without importing them
// leave it; anything else the model reads changes it.
func TestPlanDigest(t *testing.T) {
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
		{"a path used without importing it", `{ self', pkgs, ... }: {
  packages.api = pkgs.callPackage ./package.nix { src = ./src; patches = [ ./fix.patch ]; };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db ]; motd = builtins.readFile ./motd; };
}
`, true},
		{"an imported path", `{ self', pkgs, ... }: {
  packages.api = pkgs.callPackage ./package.nix { };
  devShells.api = pkgs.mkShell { packages = [ self'.packages.db ]; extra = import ./extra.nix; };
}
`, false},
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
			before, err := PlanDigest(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, []byte(tc.src), 0o644))
			after, err := PlanDigest(path)
			require.NoError(t, err)
			if tc.same {
				require.Equal(t, before, after)
			} else {
				require.NotEqual(t, before, after)
			}
		})
	}
	_, err := PlanDigest(filepath.Join(t.TempDir(), "missing.nix"))
	require.ErrorContains(t, err, "missing.nix")
}

// A snapshot's digests equal those of parsing the file, whether its facts
// were parsed or read back from the persistent index.
func TestSnapshotPlanDigest(t *testing.T) {
	root, store, parsed := indexedFixture(t)
	packed, err := LoadWith(context.Background(), root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.NotEmpty(t, packed.Files())
	for _, p := range packed.Files() {
		require.Nil(t, packed.files[p].tree, "%s comes from the index", p)
		want, err := PlanDigest(p)
		require.NoError(t, err)
		for name, s := range map[string]*Snapshot{"parsed": parsed, "from the index": packed} {
			got, ok := s.PlanDigest(p)
			require.True(t, ok)
			require.Equal(t, want, got, "%s, %s", p, name)
		}
	}
	_, ok := packed.PlanDigest(filepath.Join(root, "missing.nix"))
	require.False(t, ok)
}

// A plan follows imported paths only: with every path a file uses without
// importing it taken out of every file's facts, each component of every
// fixture keeps its dependencies, closure, pruned module list and shell.
// PlanDigest leaves such paths out on the strength of this.
func TestPlansIgnoreUnimportedPaths(t *testing.T) {
	archives, err := filepath.Glob("testdata/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, archives)
	for _, archive := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(archive), ".txtar"), func(t *testing.T) {
			root, _ := analysistest.WriteArchive(t, archive)
			s, err := Load(context.Background(), root)
			require.NoError(t, err)
			stripped := s.clone()
			removed := 0
			for p, f := range s.files {
				if f.facts == nil {
					continue
				}
				facts := *f.facts
				facts.Paths = importedPaths(f.facts.Paths)
				removed += len(f.facts.Paths) - len(facts.Paths)
				file := *f
				file.facts = &facts
				stripped.files[p] = &file
			}
			stripped.model = resolve(stripped)
			require.Equal(t, planView(s), planView(stripped), "%d paths taken out", removed)
		})
	}
}

// planView is what a plan of each component is made of.
func planView(s *Snapshot) map[string][]string {
	view := map[string][]string{}
	for _, c := range s.Components() {
		var deps []string
		for _, d := range s.DependencyClosure(c) {
			deps = append(deps, d.Name)
		}
		shell, _ := s.ShellFor(c)
		src, modules, err := PrunedFlake(s, c)
		pruned := string(src)
		if err != nil {
			pruned = "error: " + err.Error()
		}
		view[c.Name] = append(append(append([]string{"dir " + c.Dir, "shell " + shell, "pruned " + pruned}, deps...), s.Closure(c)...), modules...)
	}
	return view
}
