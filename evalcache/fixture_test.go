package evalcache

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// Every nix started by these tests inherits this; a test never reaches
	// for the network.
	os.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	os.Exit(m.Run())
}

var (
	requireTool = evaltest.RequireTool
	copyFixture = evaltest.CopyFixture
)

// fixtureShell is one devShell of a bundled fixture, with a variable only
// that shell sets.
type fixtureShell struct {
	fixture string
	dir     string // flake directory inside the fixture
	shell   string
	varName string
	value   string
}

var fixtureShells = []fixtureShell{
	{"monorepo", ".", "python", "MONOREPO_COMPONENT", "analytics"},
	{"monorepo", ".", "backend", "BACKEND_PORT", "8080"},
	{"monorepo", ".", "frontend", "FRONTEND_PORT", "3000"},
	{"monorepo", ".", "infra", "TF_IN_AUTOMATION", "1"},
	{"subflakes", ".", "default", "MONOREPO_COMPONENT", "root"},
	{"subflakes", "backend", "default", "MONOREPO_COMPONENT", "backend"},
	{"subflakes", "frontend", "default", "MONOREPO_COMPONENT", "frontend"},
}

// TestFixturesEvaluate checks that every devShell of the bundled fixtures
// evaluates with the real nix, offline, exactly as `nix print-dev-env` does.
func TestFixturesEvaluate(t *testing.T) {
	nix := requireTool(t, "nix")
	copies := map[string]string{
		"monorepo":  copyFixture(t, "monorepo"),
		"subflakes": copyFixture(t, "subflakes"),
	}
	for _, tc := range fixtureShells {
		t.Run(tc.fixture+"/"+tc.dir+"/"+tc.shell, func(t *testing.T) {
			root := copies[tc.fixture]
			r := runner{nix: nix}
			out, err := r.run(context.Background(), filepath.Join(root, tc.dir),
				"print-dev-env", "--json", "--no-write-lock-file", ".#devShells.x86_64-linux."+tc.shell)
			require.NoError(t, err, "%s", out.Stderr)
			env, err := ParseEnvironment(out.Stdout)
			require.NoError(t, err)
			require.Equal(t, tc.value, env.Variables[tc.varName].Value)
			require.Contains(t, env.Variables["shellHook"].Value, "_HOOK=ran")
		})
	}
}
