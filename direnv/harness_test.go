package direnv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sandbox is a throw-away home for running the real direnv: its own HOME and
// XDG directories, so direnv's allow list, config and monoflake's cache never
// touch the user's.
type sandbox struct {
	t    testing.TB
	root string
	env  []string
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	requireTool(t, "direnv")
	root := t.TempDir()
	home := filepath.Join(root, "home")
	s := &sandbox{t: t, root: root}
	s.env = []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local/share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local/state"),
		// Without duplicates, so tests can spell out merged values.
		"PATH=" + mergeSearchPath("", os.Getenv("PATH")),
		"LC_ALL=C.UTF-8",
		"TERM=dumb",
		// Plain log lines, so tests can look for "direnv: loading".
		"DIRENV_LOG_FORMAT=direnv: %s",
		"NIX_CONFIG=experimental-features = nix-command flakes\nsubstituters =",
	}
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".config", "direnv"), 0o755))
	return s
}

// setenv replaces or adds one variable of the sandbox environment.
func (s *sandbox) setenv(name, value string) {
	for i, kv := range s.env {
		if strings.HasPrefix(kv, name+"=") {
			s.env[i] = name + "=" + value
			return
		}
	}
	s.env = append(s.env, name+"="+value)
}

func (s *sandbox) getenv(name string) string {
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// installDirenvrc writes text as the user's ~/.config/direnv/direnvrc.
func (s *sandbox) installDirenvrc(text string) {
	s.t.Helper()
	require.NoError(s.t, os.WriteFile(filepath.Join(s.getenv("XDG_CONFIG_HOME"), "direnv", "direnvrc"), []byte(text), 0o644))
}

// installDirenvLib writes text as ~/.config/direnv/lib/NAME, the other place
// direnv reads extensions from.
func (s *sandbox) installDirenvLib(name, text string) {
	s.t.Helper()
	lib := filepath.Join(s.getenv("XDG_CONFIG_HOME"), "direnv", "lib")
	require.NoError(s.t, os.MkdirAll(lib, 0o755))
	require.NoError(s.t, os.WriteFile(filepath.Join(lib, name), []byte(text), 0o644))
}

// command prepares a command in the sandbox environment.
func (s *sandbox) command(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{}, s.env...)
	return cmd
}

// run runs a command that must succeed and returns its stdout.
func (s *sandbox) run(dir, name string, args ...string) []byte {
	s.t.Helper()
	cmd := s.command(dir, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(s.t, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return out
}

// writeEnvrc writes an .envrc and allows it, as a user would.
func (s *sandbox) writeEnvrc(dir, content string) {
	s.t.Helper()
	require.NoError(s.t, os.WriteFile(filepath.Join(dir, ".envrc"), []byte(content), 0o644))
	s.run(dir, "direnv", "allow", dir)
}

// execEnv returns the environment `direnv exec DIR` gives a command.
func (s *sandbox) execEnv(dir string) map[string]string {
	s.t.Helper()
	return parseEnv0(s.run(dir, "direnv", "exec", dir, "env", "-0"))
}

func parseEnv0(data []byte) map[string]string {
	env := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00") {
		if name, value, ok := strings.Cut(kv, "="); ok {
			env[name] = value
		}
	}
	return env
}
