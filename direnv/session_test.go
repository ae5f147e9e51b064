package direnv

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sessionStep is one command line of a scripted interactive shell and what
// must hold once direnv's prompt hook has run after it.
type sessionStep struct {
	name    string
	command string
	// component is the MONOFLAKE_COMPONENT expected afterwards; "" means
	// nothing is loaded.
	component string
	vars      map[string]string // further variables and their values; "" means unset
	reload    bool              // direnv loads (or unloads) an .envrc after the command
	nixRuns   *int              // when set, how often nix must run
	warning   string            // a line on stderr that must appear, once
}

func ptr(n int) *int { return &n }

// TestInteractiveSession drives `bash -i` with direnv's hook through a
// scripted session: changing between components, leaving the repository,
// coming back (a cache hit: nix does not run), editing files the backend
// shell does and does not read, breaking the backend and fixing it. The
// prompt hook runs after every line, exactly as at a terminal.
func TestInteractiveSession(t *testing.T) {
	m := newMonorepo(t)
	backendFile := filepath.Join(m.repo, "backend/nix/outputs.nix")
	good, err := os.ReadFile(backendFile)
	require.NoError(t, err)
	broken := strings.Replace(string(good), `BACKEND_PORT = "8080";`, `BACKEND_PORT = missingVariable;`, 1)
	require.NotEqual(t, string(good), broken)
	require.NoError(t, os.WriteFile(filepath.Join(m.root, "broken.nix"), []byte(broken), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(m.root, "good.nix"), good, 0o644))

	// direnv compares modification times in whole seconds, and an edit may
	// land in the second of the last load: every edit sets its own time.
	edit := func(n int, cmd, file string) string {
		return fmt.Sprintf("%s; touch -d @%d %s", cmd, 1700000000+n, Quote(file))
	}
	backendVars := map[string]string{"BACKEND_PORT": "8080", "BACKEND_HOOK": "ran", "FRONTEND_PORT": "", "MONOFLAKE_STALE": ""}
	steps := []sessionStep{
		{name: "enter backend", command: "cd backend", component: "backend", vars: backendVars, reload: true},
		{name: "switch to frontend", command: "cd ../frontend", component: "frontend",
			vars: map[string]string{"FRONTEND_PORT": "3000", "FRONTEND_HOOK": "ran", "RUST_LOG": ""}, reload: true},
		{name: "leave the components", command: "cd ..", vars: map[string]string{"FRONTEND_PORT": "", "BACKEND_PORT": "", "MONOFLAKE_SHELL": ""}, reload: true},
		{name: "backend again is a cache hit", command: "cd backend", component: "backend", vars: backendVars, reload: true, nixRuns: ptr(0)},
		{name: "a command without a change", command: "true", component: "backend", vars: backendVars, nixRuns: ptr(0)},
		{name: "editing the frontend does not reload the backend",
			command:   edit(1, "echo '# unrelated edit' >> ../frontend/nix/outputs.nix", filepath.Join(m.repo, "frontend/nix/outputs.nix")),
			component: "backend", vars: backendVars, nixRuns: ptr(0)},
		{name: "editing a file the backend shell reads reloads it",
			command:   edit(2, "echo '# edit' >> nix/outputs.nix", backendFile),
			component: "backend", vars: backendVars, reload: true},
		{name: "a broken backend keeps the last good environment",
			command:   edit(3, "cp "+Quote(filepath.Join(m.root, "broken.nix"))+" nix/outputs.nix", backendFile),
			component: "backend", vars: map[string]string{"BACKEND_PORT": "8080", "RUST_LOG": "backend=debug", "MONOFLAKE_STALE": "1"},
			reload: true, warning: `monoflake: .*backend/nix/outputs.nix:\d+:\d+: .*missingVariable`},
		{name: "fixing it recovers",
			command:   edit(4, "cp "+Quote(filepath.Join(m.root, "good.nix"))+" nix/outputs.nix", backendFile),
			component: "backend", vars: backendVars, reload: true},
	}

	stepsDir := filepath.Join(m.root, "steps")
	require.NoError(t, os.Mkdir(stepsDir, 0o755))
	var script strings.Builder
	script.WriteString(`eval "$(direnv hook bash)"` + "\nPS1=\n")
	// snap records the environment and the count of nix runs after a step.
	script.WriteString(`snap() { env -0 > ` + Quote(stepsDir) + `/"$1"; wc -l < ` + Quote(m.nixCalls) + ` > ` + Quote(stepsDir) + `/"$1.nix"; echo "@@step $1" >&2; }` + "\n")
	script.WriteString("snap start\n")
	for i, step := range steps {
		fmt.Fprintf(&script, "%s\nsnap %d\n", step.command, i)
	}
	cmd := m.command(m.repo, "bash", "--norc", "--noprofile", "-i")
	cmd.Stdin = strings.NewReader(script.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "bash: %s\n%s", out, stderr.String())
	log := splitSteps(t, stderr.String(), len(steps))

	nixBefore := readCount(t, filepath.Join(stepsDir, "start.nix"))
	for i, step := range steps {
		data, err := os.ReadFile(filepath.Join(stepsDir, fmt.Sprint(i)))
		require.NoError(t, err, "step %q did not run; stderr:\n%s", step.name, stderr.String())
		env := parseEnv0(data)
		msg := fmt.Sprintf("step %d (%s); its stderr:\n%s", i, step.name, log[i])

		require.Equal(t, step.component, env["MONOFLAKE_COMPONENT"], msg)
		for name, want := range step.vars {
			require.Equal(t, want, env[name], "variable %s after %s", name, msg)
		}
		reloaded := strings.Contains(log[i], "direnv: loading") || strings.Contains(log[i], "direnv: unloading")
		require.Equal(t, step.reload, reloaded, "reload after %s", msg)
		nixAfter := readCount(t, filepath.Join(stepsDir, fmt.Sprint(i)+".nix"))
		if step.nixRuns != nil {
			require.Equal(t, *step.nixRuns, nixAfter-nixBefore, "nix runs in %s", msg)
		}
		nixBefore = nixAfter
		var warnings []string
		for _, line := range strings.Split(log[i], "\n") {
			if strings.HasPrefix(line, "monoflake:") {
				warnings = append(warnings, line)
			}
		}
		if step.warning == "" {
			require.Empty(t, warnings, msg)
		} else {
			require.Len(t, warnings, 1, msg)
			require.Regexp(t, regexp.MustCompile(step.warning), warnings[0], msg)
		}
	}
}

// splitSteps cuts the session's stderr at the "@@step N" markers: part i
// holds what happened between step i's command and its snapshot.
func splitSteps(t *testing.T, stderr string, n int) []string {
	t.Helper()
	parts := make([]string, n)
	rest := stderr
	if _, after, ok := strings.Cut(rest, "@@step start\n"); ok {
		rest = after
	}
	for i := 0; i < n; i++ {
		before, after, ok := strings.Cut(rest, fmt.Sprintf("@@step %d\n", i))
		if !ok {
			break
		}
		parts[i], rest = before, after
	}
	return parts
}

func readCount(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var n int
	_, err = fmt.Sscan(strings.TrimSpace(string(data)), &n)
	require.NoError(t, err)
	return n
}
