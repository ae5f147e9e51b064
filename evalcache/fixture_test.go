package evalcache

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testNixConfig keeps tests offline: no binary cache, flakes enabled.
const testNixConfig = "experimental-features = nix-command flakes\nsubstituters =\n"

func TestMain(m *testing.M) {
	// Every nix started by these tests inherits this; a test never reaches
	// for the network.
	os.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+testNixConfig)
	os.Exit(m.Run())
}

// requireTool returns the path of a tool the test needs. Missing tools fail
// the test in CI and skip it elsewhere.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required for this test but is not on PATH (run tools/install-deps)", name)
		}
		t.Skipf("%s is not on PATH", name)
	}
	return path
}

// fixtureDir is the absolute path of testdata/NAME in the repository.
func fixtureDir(t testing.TB, name string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "testdata", name)
}

// copyFixture copies testdata/NAME into a fresh git repository with every
// file tracked, so nix evaluates it as a flake without copying the whole
// monoflake repository into the store.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	requireTool(t, "git")
	dst := filepath.Join(t.TempDir(), name)
	copyTree(t, fixtureDir(t, name), dst)
	gitInit(t, dst)
	return dst
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	require.NoError(t, err)
}

func gitInit(t testing.TB, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "fixture"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	}
}

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
