package analysistest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadArchive(t *testing.T) {
	files := ReadArchive([]byte("a comment\n-- a.nix --\n{ }\n-- dir/b.nix --\nx\ny\n"))
	require.Equal(t, map[string]string{"a.nix": "{ }\n", "dir/b.nix": "x\ny\n"}, files)
}

func TestDirectives(t *testing.T) {
	src := "{\n  x = self'.packages.api; # @mark(ref, \"api;\") @def(ref, def)\n  y = [ ./a.nix ]; # @mark(p, \"./a.nix\")\n}\n"
	ds := Directives(src)
	require.Len(t, ds, 3)
	require.Equal(t, "mark", ds[0].Name)
	require.Equal(t, []string{"ref", "api;"}, ds[0].Args)
	require.Equal(t, []string{"ref", "def"}, ds[1].Args)
	start, end, ok := ds[0].Find("api;")
	require.True(t, ok)
	require.Equal(t, "api", src[start:end], "a name-like needle marks the name")
	start, end, ok = ds[2].Find("./a.nix")
	require.True(t, ok)
	require.Equal(t, "./a.nix", src[start:end], "a path needle marks itself")
	_, _, ok = ds[2].Find("nope")
	require.False(t, ok)
}

func TestParseDirectivesQuotedArguments(t *testing.T) {
	src := `x = "a#b"; # @diag(unknown-output, "backedn;", error, "unknown output packages.backedn (did you mean backend?)") @complete(c)` + "\n"
	ds, err := ParseDirectives(src)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, []string{"unknown-output", "backedn;", "error", "unknown output packages.backedn (did you mean backend?)"}, ds[0].Args)
	require.Equal(t, `x = "a#b"; `, ds[0].Code, "a # inside a string does not start the comment")
	require.Equal(t, []string{"c"}, ds[1].Args)

	_, err = ParseDirectives(`# @mark(a, "unterminated)` + "\n")
	require.ErrorContains(t, err, "unterminated string")
}

func TestValidateRefusesUnknownAndMalformedDirectives(t *testing.T) {
	for _, tc := range []struct {
		src, err string
	}{
		{`# @ref(a, b)`, "unknown directive @ref"},
		{`# @def(a)`, "@def takes"},
		{`# @diag(syntax, "x", fatal, "m")`, "severity"},
		{`# @diag(syntax, "x", error, "")`, "needs the message"},
		{`# @mark(a, "x")`, ""},
	} {
		ds, err := ParseDirectives(tc.src + "\n")
		require.NoError(t, err)
		require.Len(t, ds, 1)
		if tc.err == "" {
			require.NoError(t, validate(ds[0]))
		} else {
			require.ErrorContains(t, validate(ds[0]), tc.err, tc.src)
		}
	}
}
