package analysis

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/analysistest"
)

func TestDiscovery(t *testing.T) {
	root, _ := analysistest.WriteArchive(t, "testdata/discovery.txtar")
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	got := map[string][]string{}
	for _, c := range s.Components() {
		for _, o := range c.Outputs {
			got[c.Name] = append(got[c.Name], o.Key())
		}
	}
	require.Equal(t, map[string][]string{
		"tools": {"packages.tool"},
		"a":     {"packages.svc-a"},
		"b":     {"devShells.svc-b"},
		"web":   {"packages.site"},
	}, got)
	require.True(t, s.Component("web").SubFlake)
	require.Equal(t, []string{"a"}, s.Component("tools").Deps)
	tools := s.Component("tools")
	require.Contains(t, s.Closure(tools), filepath.Join(root, "parts", "default.nix"), "the closure holds the modules importing it")
}

// A module named flake.nix is read as a module, not as a sub-flake.
func TestModuleNamedFlakeIsNoSubFlake(t *testing.T) {
	root, _ := analysistest.WriteArchive(t, "testdata/shape-module-named-flake.txtar")
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	for _, c := range s.Components() {
		require.False(t, c.SubFlake, "%s is no sub-flake", c.Name)
	}
	require.Empty(t, s.Unread(), "nothing is left unread")
}

// A directory called with callPackage gets the category of the output
// the call defines.
func TestCalledDirectoryKeepsItsCategory(t *testing.T) {
	root, _ := analysistest.WriteArchive(t, "testdata/shape-local-helpers.txtar")
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	keys := func(name string) []string {
		c := s.Component(name)
		require.NotNil(t, c, name)
		var out []string
		for _, o := range c.Outputs {
			out = append(out, o.Key())
		}
		return out
	}
	require.Equal(t, []string{"devShells.term"}, keys("term"))
	require.Equal(t, []string{"packages.tool"}, keys("src"))
}

func TestAffected(t *testing.T) {
	root := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	write("flake.nix", `{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./nix/shared.nix ./a/nix/outputs.nix ./b/nix/outputs.nix ./c/nix/outputs.nix ]; }; }`)
	write("nix/shared.nix", `{ perSystem = { ... }: { }; }`)
	write("nix/lib.nix", `{ }`)
	write("a/nix/outputs.nix", `{ perSystem = { pkgs, ... }: { packages.a = import ../../nix/lib.nix; }; }`)
	write("a/src/main.c", "int main;")
	write("b/nix/outputs.nix", `{ perSystem = { self', ... }: { packages.b = self'.packages.a; }; }`)
	write("c/nix/outputs.nix", `{ perSystem = { pkgs, ... }: { packages.c = 1; }; }`)
	write("README.md", "docs")
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "init")

	tests := []struct {
		name   string
		change func()
		want   []string
		reason string // a reason every affected component gives
	}{
		{"nothing", func() {}, nil, ""},
		{"a source file of a: a and its dependent b", func() { write("a/src/main.c", "int main(void);") }, []string{"a", "b"}, ""},
		{"a library only a imports", func() { write("nix/lib.nix", `{ x = 1; }`) }, []string{"a", "b"}, ""},
		{"a shared module: everything", func() { write("nix/shared.nix", `{ }`) }, []string{"a", "b", "c"}, ""},
		{"an untracked file in c", func() { write("c/new.txt", "x") }, []string{"c"}, ""},
		{"a file outside components", func() { write("README.md", "more docs") }, nil, ""},
		{"the lock file: everything", func() { write("flake.lock", "{}") }, []string{"a", "b", "c"}, ""},
		{"a Nix file no component reads, wiring read: nothing", func() { write("stray.nix", "{ }") }, nil, ""},
		{"a Nix file no component reads, wiring unread: everything", func() {
			write("stray.nix", "{ }")
			write("flake.nix", `{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ i.x.flakeModule ./nix/shared.nix ./a/nix/outputs.nix ./b/nix/outputs.nix ./c/nix/outputs.nix ]; }; }`)
		}, []string{"a", "b", "c"}, "stray.nix belongs to no component and may be read through what the model cannot follow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			git("checkout", "-q", "--", ".")
			git("clean", "-fdq")
			tt.change()
			s, err := Load(context.Background(), root)
			require.NoError(t, err)
			got, err := Affected(context.Background(), s, "HEAD")
			require.NoError(t, err)
			var names []string
			for _, c := range got {
				names = append(names, c.Name)
				require.NotEmpty(t, c.Reasons, "every affected component says why")
				if tt.reason != "" {
					require.Contains(t, strings.Join(c.Reasons, "\n"), tt.reason)
				}
			}
			require.Equal(t, tt.want, names)
		})
	}
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	_, err = Affected(context.Background(), s, "no-such-rev")
	require.ErrorContains(t, err, `unknown git revision "no-such-rev"`)
}
