package analysis

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// loadFixture indexes testdata/monorepo, the repository every surface of
// monoflake is tested on.
func loadFixture(t *testing.T) *Snapshot {
	t.Helper()
	s, err := Load(context.Background(), "../testdata/monorepo")
	require.NoError(t, err)
	return s
}

// offsetOf returns the offset of the n-th (0-based) occurrence of needle
// in file, plus shift.
func offsetOf(t *testing.T, s *Snapshot, file, needle string, n, shift int) int {
	t.Helper()
	src := string(s.File(file).Tree().Src)
	at := -1
	for i := 0; i <= n; i++ {
		next := strings.Index(src[at+1:], needle)
		require.GreaterOrEqual(t, next, 0, "%q occurs fewer than %d times in %s", needle, n+1, file)
		at += 1 + next
	}
	return at + shift
}

func TestFixtureModel(t *testing.T) {
	s := loadFixture(t)
	require.Equal(t, []string{"analytics", "backend", "frontend", "infra"}, SortedComponentNames(s.Components()))
	require.Empty(t, s.AllDiagnostics(), "the bundled monorepo is clean")
	tests := []struct {
		component string
		deps      []string
		shell     string
		outputs   []string
	}{
		{"analytics", nil, "python", []string{"packages.analytics", "devShells.python"}},
		{"backend", nil, "backend", []string{"packages.backend", "apps.backend", "checks.backend-test", "devShells.backend"}},
		{"frontend", []string{"backend"}, "frontend", []string{"packages.frontend", "devShells.frontend"}},
		{"infra", []string{"backend", "frontend"}, "infra", []string{"packages.docker-images", "devShells.infra", "nixosModules.infra"}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			c := s.Component(tt.component)
			require.NotNil(t, c)
			require.Equal(t, tt.deps, c.Deps)
			shell, ok := s.ShellFor(c)
			require.True(t, ok)
			require.Equal(t, tt.shell, shell)
			var keys []string
			for _, o := range c.Outputs {
				keys = append(keys, o.Key())
			}
			require.ElementsMatch(t, tt.outputs, keys)
			require.Equal(t, c, s.ComponentOf(filepath.Join(c.Dir, "src", "anything")))
		})
	}
}

func TestHoverAndSymbols(t *testing.T) {
	s := loadFixture(t)
	frontend := s.Component("frontend").Modules[0]
	at := offsetOf(t, s, frontend, "self'.packages.backend", 0, len("self'.packages."))
	h, ok := Hover(s, frontend, at)
	require.True(t, ok)
	require.Contains(t, h.Markdown, "**packages.backend**")
	require.Contains(t, h.Markdown, "component `backend`")
	require.Contains(t, h.Markdown, "backend/nix/outputs.nix:")

	syms := DocumentSymbols(s, s.Component("backend").Modules[0])
	var cats []string
	for _, g := range syms {
		cats = append(cats, g.Name)
		require.NotEmpty(t, g.Children)
	}
	require.ElementsMatch(t, []string{"packages", "apps", "checks", "devShells"}, cats)

	ranked := WorkspaceSymbols(s, "bknd", 0)
	require.NotEmpty(t, ranked)
	require.Equal(t, "backend", ranked[0].Name, "a fuzzy query ranks the closest name first")
	require.Empty(t, WorkspaceSymbols(s, "zzzz", 0))
	require.Len(t, WorkspaceSymbols(s, "", 3), 3, "the limit applies")
}

func TestCompletion(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) string {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	write("flake.nix", `{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./a/nix/outputs.nix ./b/nix/outputs.nix ]; }; }`)
	write("a/nix/outputs.nix", `{ perSystem = { pkgs, ... }: { packages.alpha = 1; packages.alphabet = 2; devShells.a = 3; }; }`)
	write("a/nix/helper.nix", `{ }`)
	b := write("b/nix/outputs.nix", "{ perSystem = { self', config, ... }: { packages.b = 1; }; }\n")
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	parser := syntax.NewParser()
	defer parser.Close()

	tests := []struct {
		name   string
		typed  string
		labels []string
	}{
		{"self' packages", "x = self'.packages.al", []string{"alpha", "alphabet"}},
		{"config devShells", "x = config.devShells.", []string{"a"}},
		{"self with system", "x = self.packages.${system}.alphab", []string{"alphabet"}},
		{"inherit", "inherit (self'.packages) b alp", []string{"alpha", "alphabet"}},
		{"path", "x = ../../a/nix/h", []string{"helper.nix"}},
		{"nothing", "x = foo.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte("{\n  " + tt.typed)
			snap := s.WithFile(context.Background(), parser, b, src)
			items := Complete(snap, b, len(src))
			var labels []string
			for _, it := range items {
				labels = append(labels, it.Label)
				require.Equal(t, len(src), it.Replace.End)
				require.True(t, strings.HasSuffix(tt.typed, string(src[it.Replace.Start:it.Replace.End])))
			}
			require.Equal(t, tt.labels, labels)
		})
	}
}

func TestRename(t *testing.T) {
	s := loadFixture(t)
	backend := s.Component("backend").Modules[0]
	at := offsetOf(t, s, backend, "packages.backend", 0, len("packages."))

	span, name, err := PrepareRename(s, backend, at)
	require.NoError(t, err)
	require.Equal(t, "backend", name)
	require.Equal(t, "backend", string(s.File(backend).Tree().Src[span.Start:span.End]))

	edits, err := Rename(s, backend, at, "api")
	require.NoError(t, err)
	files := map[string]int{}
	for f, es := range edits {
		files[filepath.Base(filepath.Dir(filepath.Dir(f)))] = len(es)
		for _, e := range es {
			require.Equal(t, "api", e.NewText)
		}
	}
	require.Equal(t, map[string]int{"backend": 3, "frontend": 1, "infra": 1}, files)

	// Applying the edits leaves no unknown output anywhere.
	parser := syntax.NewParser()
	defer parser.Close()
	next := s
	for f, es := range edits {
		next = next.WithFile(context.Background(), parser, f, applyEdits(s.File(f).Tree().Src, es))
	}
	require.Empty(t, next.AllDiagnostics())

	_, err = Rename(s, backend, at, "frontend")
	require.ErrorIs(t, err, ErrCannotRename, "a name that exists is refused")
	require.Contains(t, err.Error(), "already exists")
	_, err = Rename(s, backend, at, "not valid")
	require.ErrorIs(t, err, ErrCannotRename)
	_, _, err = PrepareRename(s, backend, 0)
	require.ErrorIs(t, err, ErrCannotRename)
}

func TestRenameRefusesComputedNames(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte(`{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./m.nix ]; }; }`), 0o644))
	m := filepath.Join(root, "m.nix")
	require.NoError(t, os.WriteFile(m, []byte(`{ perSystem = { self', lib, ... }: { packages = lib.genAttrs [ "a" ] (n: 1); apps.x = self'.packages.a; }; }`), 0o644))
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	require.Empty(t, s.AllDiagnostics(), "a reference into a computed category is not unknown")
	_, _, err = PrepareRename(s, m, strings.Index(string(s.File(m).Tree().Src), "packages.a;")+len("packages."))
	require.ErrorIs(t, err, ErrCannotRename)
	require.Contains(t, err.Error(), "produced dynamically")
}

func TestEditUpdatesOtherFiles(t *testing.T) {
	s := loadFixture(t)
	backend := s.Component("backend").Modules[0]
	frontend := s.Component("frontend").Modules[0]
	parser := syntax.NewParser()
	defer parser.Close()
	src := strings.Replace(string(s.File(backend).Tree().Src), "packages.backend", "packages.server", 1)
	next := s.WithFile(context.Background(), parser, backend, []byte(src))
	var codes []string
	for _, d := range next.Diagnostics(frontend) {
		codes = append(codes, d.Code)
	}
	require.Contains(t, codes, CodeUnknownOutput, "renaming an output in backend breaks the reference in frontend")
	require.Empty(t, s.Diagnostics(frontend), "the old snapshot is unchanged")
}

func TestConfigSilencesCodes(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte(`{ outputs = i: { }; a = 1; a = 2; x = import ./missing.nix; }`), 0o644))
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	require.Len(t, s.AllDiagnostics(), 2)
	require.NoError(t, os.WriteFile(filepath.Join(root, ConfigFile), []byte(`{"disable": ["duplicate-attr"], "shells": {"x": "y"}}`), 0o644))
	s, err = Load(context.Background(), root)
	require.NoError(t, err)
	require.Len(t, s.AllDiagnostics(), 1)
	require.Equal(t, CodeMissingPath, s.AllDiagnostics()[0].Code)

	require.NoError(t, os.WriteFile(filepath.Join(root, ConfigFile), []byte(`{"disable": [`), 0o644))
	s, err = Load(context.Background(), root)
	require.NoError(t, err, "a broken configuration is reported, not fatal")
	require.Error(t, s.ConfigErr)
}
