package evalcache

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseNixError(t *testing.T) {
	identity := func(p string) (string, bool) { return p, true }
	tests := []struct {
		name   string
		stderr string
		want   *EvalError
	}{
		{"nix 2.8", `evaluating file '/r/flake.nix'
error: undefined variable 'foo'

       at /r/backend/nix/outputs.nix:12:5:

           11|
           12|     foo
             |     ^
(use '--show-trace' to show detailed location information)
`, &EvalError{File: "/r/backend/nix/outputs.nix", Line: 12, Column: 5, Message: "undefined variable 'foo'"}},
		{"newer nix prints the trace first", `error:
       … while evaluating the attribute 'devShells'

         at /r/flake.nix:3:5:

            2|
            3|     devShells = x;
             |     ^

       error: attribute 'backedn' missing

       at /r/frontend/nix/outputs.nix:7:20:
`, &EvalError{File: "/r/frontend/nix/outputs.nix", Line: 7, Column: 20, Message: "attribute 'backedn' missing"}},
		{"build failure", `building '/nix/store/aaa-x.drv'...
error: builder for '/nix/store/aaa-x.drv' failed with exit code 1;
       last 2 log lines:
       > compiling
       > boom
       For full logs, run 'nix log /nix/store/aaa-x.drv'.
error: 1 dependencies of derivation '/nix/store/bbb-shell-env.drv' failed to build
`, &EvalError{Message: "builder for '/nix/store/aaa-x.drv' failed with exit code 1;\nlast 2 log lines:\n> compiling\n> boom\nFor full logs, run 'nix log /nix/store/aaa-x.drv'."}},
		{"no error line", "warning: Git tree is dirty\nsomething odd\n", &EvalError{Message: "something odd"}},
		{"colors", "\x1b[31;1merror:\x1b[0m flake has no attribute \x1b[35;1mdevShells\x1b[0m\n", &EvalError{Message: "flake has no attribute devShells"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, parseNixError([]byte(tt.stderr), identity))
		})
	}
}

func TestStoreMapper(t *testing.T) {
	root := t.TempDir()
	m := storeMapper{root: root, rootStore: "/nix/store/00000000000000000000000000000000-source", bases: map[string]string{}}
	got, ok := m.toRepo("/nix/store/00000000000000000000000000000000-source/backend/nix/outputs.nix")
	require.True(t, ok)
	require.Equal(t, root+"/backend/nix/outputs.nix", got)
	_, ok = m.toRepo("/nix/store/11111111111111111111111111111111-source/lib/default.nix")
	require.False(t, ok, "a locked input is not in the repository")
	require.Contains(t, m.bases, "/nix/store/11111111111111111111111111111111-source", "remembered as unmapped")
	got, ok = m.toRepo(root + "/infra/nix/outputs.nix")
	require.True(t, ok)
	require.Equal(t, root+"/infra/nix/outputs.nix", got)
}
