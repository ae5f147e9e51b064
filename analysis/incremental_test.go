package analysis

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// TestIncrementalMatchesFull checks that the fast path after an edit that
// keeps a file's shape gives exactly what resolving from scratch gives.
func TestIncrementalMatchesFull(t *testing.T) {
	s := loadFixture(t)
	backend := s.Component("backend").Modules[0]
	frontend := s.Component("frontend").Modules[0]
	parser := syntax.NewParser()
	defer parser.Close()
	src := string(s.File(backend).Tree().Src)
	edits := []struct {
		name string
		text string
	}{
		{"comment and whitespace", "# a new comment\n\n" + src},
		{"a value", strings.Replace(src, `"8080"`, `"9090"`, 1)},
		{"a syntax error", strings.Replace(src, `"8080";`, `"8080"`, 1)},
		{"an unknown reference", strings.Replace(src, "{\n", "{\n  zz = self'.packages.nope;\n", 1)},
		{"a new dependency", strings.Replace(src, "{\n", "{\n  zz = self'.packages.frontend;\n", 1)},
		{"a new path", strings.Replace(src, "{\n", "{\n  zz = ./nope.nix;\n", 1)},
		{"duplicate attr", strings.Replace(src, "{\n", "{\n  zz = 1; zz = 2;\n", 1)},
		{"renamed output", strings.Replace(src, "packages.backend", "packages.api", 1)},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			next := s.WithFile(context.Background(), parser, backend, []byte(e.text))
			full := resolve(next)
			require.Equal(t, full.diags, next.model.diags)
			require.Equal(t, len(full.outputs), len(next.model.outputs))
			for i := range full.outputs {
				require.Equal(t, *full.outputs[i], *next.model.outputs[i])
			}
			for k, locs := range full.refsTo {
				require.ElementsMatch(t, locs, next.model.refsTo[k], "%v", k)
			}
			for _, c := range full.components {
				require.Equal(t, c.Deps, next.model.byName[c.Name].Deps)
			}
			at := strings.Index(string(next.File(frontend).Tree().Src), "self'.packages.backend") + len("self'.packages.")
			full2 := &Snapshot{Root: next.Root, HasFlake: true, files: next.files, fs: next.fs, model: full}
			require.Equal(t, Definition(full2, frontend, at), Definition(next, frontend, at))
			require.Equal(t, References(full2, frontend, at, true), References(next, frontend, at, true))
		})
	}
	require.Empty(t, s.AllDiagnostics(), "the original snapshot is untouched")
}
