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
