package evalcache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
// evaluates with the real nix, offline, as `nix print-dev-env` does once
// the store holds the relative path inputs of the committed flake.lock
// (which an old nix needs; runFlake adds them when nix asks).
func TestFixturesEvaluate(t *testing.T) {
	nix := requireTool(t, "nix")
	c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir(), Nix: nix})
	require.NoError(t, err)
	copies := map[string]string{
		"monorepo":  copyFixture(t, "monorepo"),
		"subflakes": copyFixture(t, "subflakes"),
	}
	for _, tc := range fixtureShells {
		t.Run(tc.fixture+"/"+tc.dir+"/"+tc.shell, func(t *testing.T) {
			root := copies[tc.fixture]
			out, err := c.runFlake(context.Background(), filepath.Join(root, tc.dir),
				"print-dev-env", "--json", "--no-write-lock-file", ".#devShells.x86_64-linux."+tc.shell)
			require.NoError(t, err, "%s", out.Stderr)
			env, err := ParseEnvironment(out.Stdout)
			require.NoError(t, err)
			require.Equal(t, tc.value, env.Variables[tc.varName].Value)
			require.Contains(t, env.Variables["shellHook"].Value, "_HOOK=ran")
		})
	}
}

// A committed flake.lock whose relative input no longer matches the working
// tree cannot be repaired by adding the input to the store: the user gets
// one sentence naming the input and what to do.
func TestStaleRelativeInputIsOneSentence(t *testing.T) {
	nix := requireTool(t, "nix")
	root := copyFixture(t, "subflakes")
	// A lock recording content that no store holds and the work tree does
	// not have: what an edit committed without re-locking looks like.
	lockPath := filepath.Join(root, "flake.lock")
	lock, err := os.ReadFile(lockPath)
	require.NoError(t, err)
	stale := strings.Replace(string(lock), "sha256-5iRrTeR4TCqxQyvgvJmM3I1ve4yNBiiyyFbBcBsNfL0=", "sha256-"+strings.Repeat("A", 43)+"=", 1)
	require.NotEqual(t, string(lock), stale, "the fixture's lock names backend's narHash")
	require.NoError(t, os.WriteFile(lockPath, []byte(stale), 0o644))
	evaltest.Git(t, root, "commit", "-qam", "stale lock")
	c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir(), Nix: nix})
	require.NoError(t, err)
	out, err := c.runFlake(context.Background(), root, "eval", "--raw", "--no-write-lock-file", ".#devShells.x86_64-linux.default.drvPath")
	require.Error(t, err)
	msg := parseNixError(out.Stderr, func(string) (string, bool) { return "", false }).Message
	require.Contains(t, msg, "path:./backend")
	require.Contains(t, msg, "nix flake lock")
}
