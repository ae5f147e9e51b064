// Package evaltest helps tests that run the real nix on the bundled fixture
// monorepos: offline nix settings, fixture copies nix can evaluate as flakes,
// and a clear failure in CI when a tool is missing.
package evaltest

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/monoflake/monoflake/analysis/gitsafe"
	"github.com/monoflake/monoflake/tools/genrepo"
)

// NixConfig keeps nix offline in tests: flakes enabled, no binary cache
// (otherwise every build first retries the unreachable cache).
const NixConfig = "experimental-features = nix-command flakes\nsubstituters =\n"

// SetNixConfig makes every nix the test starts use NixConfig. Like
// t.Setenv, it cannot be used in parallel tests.
func SetNixConfig(t testing.TB) {
	t.Helper()
	t.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+NixConfig)
}

// RequireTool returns the path of a tool the test needs. A missing tool
// fails the test in CI (CI=true) and skips it elsewhere.
func RequireTool(t testing.TB, name string) string {
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

// FixtureDir is the absolute path of testdata/NAME in the repository.
func FixtureDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", name)
}

// CopyFixture copies testdata/NAME into a fresh git repository with one
// commit holding every file, so nix evaluates it as a flake without copying
// the whole monoflake repository into the store.
func CopyFixture(t testing.TB, name string) string {
	t.Helper()
	RequireTool(t, "git")
	dst := filepath.Join(t.TempDir(), name)
	src := FixtureDir(name)
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
	if err != nil {
		t.Fatalf("copy fixture %s: %v", name, err)
	}
	Git(t, dst, "init", "-q")
	Git(t, dst, "add", "-A")
	Git(t, dst, "commit", "-q", "-m", "fixture")
	// An evaluation cannot tell a file written a few milliseconds before it
	// started from one written while it ran, and evaluates once more; tests
	// that count evaluations start after that window.
	time.Sleep(50 * time.Millisecond)
	return dst
}

// HangingFlake writes a committed flake whose devShell "default" reads a
// named pipe while it is evaluated, so the real nix blocks there until the
// test writes to the pipe (or kills nix). It returns the flake's folder.
func HangingFlake(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "hanging")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("make a named pipe: %v", err)
	}
	flake := `{
  outputs = { self }: {
    devShells.x86_64-linux.default = derivation {
      name = "hanging-shell"; system = "x86_64-linux"; builder = "/bin/bash";
      args = [ "-c" "echo > $out" ]; outputs = [ "out" ]; PATH = "/bin:/usr/bin";
      BLOCKED = builtins.readFile ` + fifo + `;
    };
  };
}
`
	if err := os.WriteFile(filepath.Join(root, "flake.nix"), []byte(flake), 0o644); err != nil {
		t.Fatal(err)
	}
	Git(t, root, "init", "-q")
	Git(t, root, "add", "-A")
	Git(t, root, "commit", "-q", "-m", "hanging")
	return root
}

// Git runs git in dir, through gitsafe as every git call of the project
// does, and fails the test when it fails. Commits carry an identity of
// their own: a new machine's HOME has no git configuration.
func Git(t testing.TB, dir string, args ...string) {
	t.Helper()
	git := gitsafe.Command{Dir: dir, Env: []string{
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com"}}
	if err := git.Run(context.Background(), args...); err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
}

// PrunedFlake rewrites root's flake.nix the way the analysis model does for
// a pruned evaluation: absolute paths, and a module list holding only the
// given modules (paths relative to root, or inline Nix starting with "{").
// It returns the new flake.nix and the absolute paths of the modules kept.
func PrunedFlake(t testing.TB, root string, modules ...string) ([]byte, []string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "flake.nix"))
	if err != nil {
		t.Fatalf("read flake.nix: %v", err)
	}
	var list, kept []string
	for _, m := range modules {
		if strings.HasPrefix(m, "{") {
			list = append(list, "("+m+")")
			continue
		}
		abs := filepath.Join(root, m)
		list, kept = append(list, abs), append(kept, abs)
	}
	out := regexp.MustCompile(`(?s)imports = \[.*?\];`).ReplaceAllLiteralString(string(src), "imports = [ "+strings.Join(list, " ")+" ];")
	return []byte(strings.ReplaceAll(out, "import ./", "import "+root+"/")), kept
}

// ClosureModules lists the modules a pruned evaluation of a generated
// repository's component needs: the shared set-up module and the modules of
// the component and of its dependencies, transitively.
func ClosureModules(repo *genrepo.Repo, component string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		c, _ := repo.Component(n)
		for _, d := range c.Dependencies {
			visit(d)
		}
	}
	visit(component)
	modules := []string{"nix/pkgs.nix"}
	for n := range seen {
		modules = append(modules, n+"/nix/outputs.nix")
	}
	sort.Strings(modules[1:])
	return modules
}

// CountingNix is a nix for "another machine": wrappers of nix and
// nix-store in a folder of their own that log every call to a file, run
// on a store of their own in a temporary folder (a chroot store, whose
// builds run in nix's sandbox with the host's bash and libraries) and
// trust only the keys given, as a developer's nix.conf would. version,
// when not "", is what it answers to --version.
type CountingNix struct {
	Nix   string // the nix wrapper; nix-store is next to it
	Store string
	Log   string
}

// NewCountingNix writes the wrappers.
func NewCountingNix(t testing.TB, trustedKeys, version string) CountingNix {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	n := CountingNix{Nix: filepath.Join(bin, "nix"), Store: filepath.Join(dir, "store"), Log: filepath.Join(dir, "calls.log")}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	var sandbox []string
	for _, p := range []string{"/bin", "/usr", "/lib", "/lib64"} {
		if _, err := os.Stat(p); err == nil {
			sandbox = append(sandbox, p)
		}
	}
	config := "store = " + n.Store + "\ntrusted-public-keys = " + trustedKeys + "\nextra-sandbox-paths = " + strings.Join(sandbox, " ") + "\n"
	versionCase := ""
	if version != "" {
		versionCase = `case "$*" in *--version*) echo "nix (Nix) ` + version + `"; exit 0;; esac` + "\n"
	}
	for _, name := range []string{"nix", "nix-store"} {
		real := RequireTool(t, name)
		script := "#!/bin/bash\nprintf '%s %s\\n' " + name + " \"$*\" >> " + n.Log + "\n" + versionCase +
			// nix's narinfo cache of HTTP caches stays in the test's folder.
			"export XDG_CACHE_HOME=" + filepath.Join(dir, "xdg") + "\n" +
			"export NIX_CONFIG=\"$NIX_CONFIG\n" + config + "\"\nexec " + real + " \"$@\"\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// Calls are the nix and nix-store commands run so far.
func (n CountingNix) Calls(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(n.Log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// Evaluations are the calls that evaluated Nix code: any eval, any
// --expr, a print-dev-env of anything but a store path.
func (n CountingNix) Evaluations(t testing.TB) []string {
	t.Helper()
	var evals []string
	for _, call := range n.Calls(t) {
		args := strings.Fields(call)
		if len(args) == 0 || args[0] != "nix" {
			continue
		}
		var sub []string
		for i := 1; i < len(args); i++ {
			if args[i] == "--extra-experimental-features" {
				i += 2 // its value, "nix-command flakes", is two words
				continue
			}
			sub = args[i:]
			break
		}
		if len(sub) == 0 {
			continue
		}
		last := sub[len(sub)-1]
		if sub[0] == "eval" || strings.Contains(call, "--expr") || (sub[0] == "print-dev-env" && !strings.HasPrefix(last, "/nix/store/")) {
			evals = append(evals, call)
		}
	}
	return evals
}

// EditFile replaces the first old in the file with new, failing the test
// when the file does not hold old.
func EditFile(t testing.TB, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not hold %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
