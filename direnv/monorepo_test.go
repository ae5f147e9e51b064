package direnv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// monorepo is a sandbox holding a built monoflake, use_monoflake installed as
// the user's direnvrc, a git copy of testdata/monorepo with an allowed
// `use monoflake` .envrc in every component, and a nix on PATH that logs
// every invocation before running the real one.
type monorepo struct {
	*sandbox
	bin      string // the monoflake binary
	repo     string // the copy of testdata/monorepo
	nixCalls string // the log of nix invocations, one line each
}

// trickyNix is a devShell variable added to the backend of the copy, written
// as a Nix string, and the bytes it must arrive as.
const (
	trickyNix  = `"it's \"quoted\" $HOME \${PATH} \\ back\\slash\nnew line\ttab ` + "`x`" + `"`
	trickyWant = "it's \"quoted\" $HOME ${PATH} \\ back\\slash\nnew line\ttab `x`"
)

func newMonorepo(t testing.TB) *monorepo {
	t.Helper()
	realNix := requireTool(t, "nix")
	requireTool(t, "git")
	s := newSandbox(t)
	m := &monorepo{sandbox: s, repo: filepath.Join(s.root, "repo"), nixCalls: filepath.Join(s.root, "nix-calls")}

	m.bin = filepath.Join(s.root, "bin", "monoflake")
	build := exec.Command("go", "build", "-o", m.bin, "../cmd/monoflake")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	require.NoError(t, os.WriteFile(m.nixCalls, nil, 0o644))
	fakebin := filepath.Join(s.root, "fakebin")
	require.NoError(t, os.MkdirAll(fakebin, 0o755))
	wrapper := "#!/bin/bash\nprintf '%s\\n' \"$*\" >> " + Quote(m.nixCalls) + "\nexec " + Quote(realNix) + " \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(fakebin, "nix"), []byte(wrapper), 0o755))
	s.setenv("PATH", fakebin+":"+s.getenv("PATH"))

	require.NoError(t, os.CopyFS(m.repo, os.DirFS("../testdata/monorepo")))
	backend := filepath.Join(m.repo, "backend/nix/outputs.nix")
	src, err := os.ReadFile(backend)
	require.NoError(t, err)
	patched := strings.Replace(string(src), `RUST_LOG = "backend=debug";`, `RUST_LOG = "backend=debug";
      TRICKY = `+trickyNix+`;`, 1)
	require.NotEqual(t, string(src), patched, "the backend devShell of testdata/monorepo changed; update this test")
	require.NoError(t, os.WriteFile(backend, []byte(patched), 0o644))
	// Flakes see git-tracked files only.
	s.run(m.repo, "git", "init", "-q")
	s.run(m.repo, "git", "add", "-A")

	// The faster of the two documented installs; TestAllowedEnvrcIsTrust
	// uses the other.
	s.installDirenvLib("monoflake.sh", string(s.run(m.repo, m.bin, "direnvrc")))
	var written []string
	for _, line := range strings.Split(strings.TrimSpace(string(s.run(m.repo, m.bin, "init", m.repo))), "\n") {
		envrc, ok := strings.CutPrefix(strings.TrimSuffix(line, ": use monoflake"), "write ")
		require.True(t, ok, "monoflake init printed %q", line)
		// Paths are shown relative to the working directory, the repository.
		written = append(written, filepath.Join(m.repo, envrc))
	}
	require.Len(t, written, 4, "monoflake init should write one .envrc per component")
	for _, envrc := range written {
		s.run(filepath.Dir(envrc), "direnv", "allow", filepath.Dir(envrc))
	}
	return m
}

// nixRuns returns how many times nix ran so far.
func (m *monorepo) nixRuns(t testing.TB) int {
	data, err := os.ReadFile(m.nixCalls)
	require.NoError(t, err)
	return strings.Count(string(data), "\n")
}

// TestDirenvExecComponents loads every component of testdata/monorepo with
// `direnv exec` and checks its variables, its tools on PATH and its shellHook.
func TestDirenvExecComponents(t *testing.T) {
	m := newMonorepo(t)
	tests := []struct {
		dir, shell string
		envrc      string // written and allowed first; "" keeps the one monoflake init wrote
		nixArg     string // when set, an argument nix must have been run with
		vars       map[string]string
		tools      map[string]string // command -> what its output starts with
	}{
		{"backend", "backend", "", "",
			map[string]string{"MONOREPO_COMPONENT": "backend", "BACKEND_PORT": "8080", "RUST_LOG": "backend=debug", "BACKEND_HOOK": "ran", "TRICKY": trickyWant},
			map[string]string{"cargo": "cargo 1.72.0 (fake)", "rustc": "rustc 1.72.0 (fake)"}},
		{"frontend", "frontend", "", "",
			map[string]string{"MONOREPO_COMPONENT": "frontend", "FRONTEND_PORT": "3000", "FRONTEND_HOOK": "ran", "BACKEND_HOOK": "ran"},
			map[string]string{"node": "v20.5.0 (fake)", "cargo": "cargo 1.72.0 (fake)"}},
		{"analytics", "python", "", "",
			map[string]string{"MONOREPO_COMPONENT": "analytics", "PYTHONDONTWRITEBYTECODE": "1", "ANALYTICS_HOOK": "ran"},
			map[string]string{"python3": "Python 3.11.4 (fake)"}},
		{"infra", "infra", "", "",
			map[string]string{"MONOREPO_COMPONENT": "infra", "TF_IN_AUTOMATION": "1", "INFRA_HOOK": "ran"},
			map[string]string{"terraform": "Terraform v1.5.7 (fake)"}},
		// A component named at the repository root.
		{".", "backend", "use monoflake backend\n", "",
			map[string]string{"MONOREPO_COMPONENT": "backend", "BACKEND_HOOK": "ran"},
			map[string]string{"cargo": "cargo 1.72.0 (fake)"}},
		// A component named explicitly from a directory below it, through
		// the plain flake: nix evaluates the flake reference itself.
		{"infra/terraform", "infra", "use monoflake --mode flake infra\n", m.repo + "#devShells.",
			map[string]string{"MONOREPO_COMPONENT": "infra", "TF_IN_AUTOMATION": "1", "INFRA_HOOK": "ran"},
			map[string]string{"terraform": "Terraform v1.5.7 (fake)"}},
		// A devShell named directly, in a directory of no component: the
		// way out when the model maps a directory to none.
		{"docs", "python", "use monoflake --shell python\n", "",
			map[string]string{"MONOREPO_COMPONENT": "analytics", "ANALYTICS_HOOK": "ran", "MONOFLAKE_COMPONENT": "python"},
			map[string]string{"python3": "Python 3.11.4 (fake)"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join(m.repo, tt.dir)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			if tt.envrc != "" {
				m.writeEnvrc(dir, tt.envrc)
			}
			env := m.execEnv(dir)
			if tt.nixArg != "" {
				calls, err := os.ReadFile(m.nixCalls)
				require.NoError(t, err)
				require.Contains(t, string(calls), tt.nixArg)
			}
			for name, want := range tt.vars {
				require.Equal(t, want, env[name], "variable %s", name)
			}
			component := strings.Split(tt.dir, "/")[0]
			if _, named := tt.vars["MONOFLAKE_COMPONENT"]; component == "." || named {
				component = tt.shell
			}
			require.Equal(t, component, env["MONOFLAKE_COMPONENT"])
			require.Equal(t, tt.shell, env["MONOFLAKE_SHELL"])
			require.NotContains(t, env, "MONOFLAKE_STALE")
			require.Equal(t, m.getenv("HOME"), env["HOME"], "HOME is the user's, not the builder's")
			require.NotContains(t, env["PATH"], "/path-not-set")
			requireKeepsUserPath(t, m.getenv("PATH"), env["PATH"])
			nixRuns := m.nixRuns(t)
			for tool, want := range tt.tools {
				out := m.run(dir, "direnv", "exec", dir, tool, "--version")
				require.True(t, strings.HasPrefix(string(out), want), "%s printed %q", tool, out)
			}
			require.Equal(t, nixRuns, m.nixRuns(t), "loading again is a cache hit")
		})
	}
}

// requireKeepsUserPath checks that a devShell's PATH starts with its own
// store paths and holds every directory of the user's PATH, in order.
func requireKeepsUserPath(t *testing.T, user, got string) {
	t.Helper()
	require.True(t, strings.HasPrefix(got, "/nix/store/"), "the devShell's directories come first: %s", got)
	entries := strings.Split(got, ":")
	pos := -1
	for _, dir := range strings.Split(user, ":") {
		i := slices.Index(entries, dir)
		require.Greater(t, i, -1, "%s of the user's PATH is missing from %s", dir, got)
		if dir != "/bin" && dir != "/usr/bin" { // the fixture's shells list these themselves
			require.Greater(t, i, pos, "%s moved before an earlier entry of the user's PATH in %s", dir, got)
			pos = i
		}
	}
}

// TestAllowedEnvrcIsTrust checks that direnv's allow list is what lets
// use_monoflake evaluate: an allowed .envrc below a component loads it, and
// the same directory without an allowed .envrc is refused.
func TestAllowedEnvrcIsTrust(t *testing.T) {
	m := newMonorepo(t)
	// The other documented install: the direnvrc evaluates monoflake's output.
	require.NoError(t, os.Remove(filepath.Join(m.getenv("XDG_CONFIG_HOME"), "direnv", "lib", "monoflake.sh")))
	m.installDirenvrc(`eval "$(` + Quote(m.bin) + ` direnvrc)"` + "\n")
	backend := filepath.Join(m.repo, "backend")
	src := filepath.Join(backend, "src")
	m.run(backend, "direnv", "deny", backend)

	m.writeEnvrc(src, "use monoflake\n")
	env := m.execEnv(src)
	require.Equal(t, "backend", env["MONOFLAKE_COMPONENT"])
	require.Equal(t, "8080", env["BACKEND_PORT"])

	cmd := m.command(backend, m.bin, "direnv-export")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.Error(t, err, "a denied .envrc is no trust")
	require.Empty(t, out)
	require.Contains(t, stderr.String(), "is not trusted")
}

// TestNothingCachedYet breaks a component before it was ever loaded: no
// devShell is applied, the error is reported, and fixing the file loads it.
func TestNothingCachedYet(t *testing.T) {
	m := newMonorepo(t)
	infra := filepath.Join(m.repo, "infra")
	file := filepath.Join(infra, "nix/outputs.nix")
	good, err := os.ReadFile(file)
	require.NoError(t, err)
	broken := strings.Replace(string(good), `TF_IN_AUTOMATION = "1";`, `TF_IN_AUTOMATION = notDefinedAnywhere;`, 1)
	require.NotEqual(t, string(good), broken)
	require.NoError(t, os.WriteFile(file, []byte(broken), 0o644))

	cmd := m.command(infra, "direnv", "exec", infra, "env", "-0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	env := parseEnv0(out)
	require.Empty(t, env["TF_IN_AUTOMATION"], "no devShell without a cached environment")
	require.Equal(t, "1", env["MONOFLAKE_STALE"])
	require.Regexp(t, `monoflake: infra: evaluation failed and no earlier environment is cached: infra/nix/outputs.nix:\d+:\d+: .*notDefinedAnywhere`, stderr.String())

	require.NoError(t, os.WriteFile(file, good, 0o644))
	env = m.execEnv(infra)
	require.Equal(t, "1", env["TF_IN_AUTOMATION"])
	require.NotContains(t, env, "MONOFLAKE_STALE")
}
