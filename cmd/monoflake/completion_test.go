package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The test binary is monoflake itself when this is set: the completion
// scripts run `monoflake __complete` from PATH, and a wrapper named
// monoflake starts this binary with it (see monoflakeOnPath).
const asMonoflake = "MONOFLAKE_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMonoflake) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// monoflakeOnPath returns a PATH whose monoflake is this test binary.
func monoflakeOnPath(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	script := "#!/bin/sh\n" + asMonoflake + "=1 exec '" + exe + "' \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "monoflake"), []byte(script), 0o755))
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// completionDir is a directory to complete in: a copy of the bundled
// fixture (for component and devShell names) with one more directory and
// file, and PATH as monoflakeOnPath gives it.
func completionDir(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "testdata", "monorepo"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644))
	return dir, monoflakeOnPath(t)
}

func TestComplete(t *testing.T) {
	dir, _ := completionDir(t)
	t.Chdir(dir)
	words := func(cands []string) []string {
		var out []string
		for _, c := range cands {
			w, _, _ := strings.Cut(c, "\t")
			out = append(out, w)
		}
		return out
	}
	tests := []struct {
		words []string
		add   string
		want  []string
	}{
		{[]string{""}, addNothing, []string{"components", "check", "fix", "definition", "references", "symbols", "graph", "affected", "env", "shell", "trust", "publish", "init", "direnvrc", "direnv-export", "serve", "completion", "help", "version"}},
		{[]string{"en"}, addNothing, []string{"env"}},
		{[]string{"--"}, addNothing, []string{"--help", "--version"}},
		{[]string{"nosuch", ""}, addNothing, nil},
		{[]string{"env", "--f"}, addNothing, []string{"--format"}},
		{[]string{"env", "--"}, addNothing, []string{"--component", "--format", "--mode", "--refresh", "--shell", "--help"}},
		{[]string{"env", "--format", ""}, addNothing, []string{"bash", "json"}},
		{[]string{"env", "--format=j"}, addNothing, []string{"--format=json"}},
		{[]string{"env", "--mode", "f"}, addNothing, []string{"flake"}},
		{[]string{"env", "--component", ""}, addNothing, []string{"analytics", "backend", "frontend", "infra"}},
		{[]string{"shell", "--shell", "p"}, addNothing, []string{"python"}},
		{[]string{"env", "--format", "json", ""}, addFiles, nil},
		{[]string{"shell", "--", "--"}, addFiles, nil},
		{[]string{"check", ""}, addDirs, nil},
		{[]string{"components", "f"}, addDirs, []string{"frontend"}},
		{[]string{"direnv-export", "b"}, addNothing, []string{"backend"}},
		{[]string{"direnv-export", "--mode", ""}, addNothing, []string{"scoped", "flake"}},
		{[]string{"help", "di"}, addNothing, []string{"direnvrc", "direnv-export"}},
		{[]string{"completion", ""}, addNothing, []string{"bash", "fish", "zsh"}},
		{[]string{"serve", "--log", ""}, addFiles, nil},
		{[]string{"graph", "--json=", ""}, addDirs, nil},
	}
	for _, tt := range tests {
		add, got := complete(context.Background(), tt.words)
		require.Equal(t, tt.add, add, "%q", tt.words)
		require.Equal(t, tt.want, words(got), "%q", tt.words)
	}
}

func TestCompleteCommandPrintsWhatToAdd(t *testing.T) {
	c, stdout, _ := envCLI(t)
	require.Equal(t, exitOK, run(context.Background(), c, []string{"__complete", "graph", "--format", ""}))
	require.Equal(t, ":none\ndot\njson\n", stdout.String())
	c, stdout, _ = envCLI(t)
	require.Equal(t, exitOK, run(context.Background(), c, []string{"__complete", "ver"}))
	require.Equal(t, ":none\nversion\tprint the version\n", stdout.String())
}

// TestBashCompletion runs the script in real bash, as readline would call
// it: COMP_LINE and COMP_POINT set, COMPREPLY read back.
func TestBashCompletion(t *testing.T) {
	dir, path := completionDir(t)
	tests := []struct {
		line string
		want []string
	}{
		{"monoflake en", []string{"env"}},
		{"monoflake env --fo", []string{"--format"}},
		{"monoflake env --format ", []string{"bash", "json"}},
		// Readline replaces what follows = and :, so that is what comes back.
		{"monoflake env --format=", []string{"bash", "json"}},
		{"monoflake env --format=j", []string{"json"}},
		{"monoflake env --component f", []string{"frontend"}},
		{"monoflake check fr", []string{"frontend"}},
		{"monoflake env not", []string{"notes.txt"}},
		{"monoflake definition backend/nix/outp", []string{"backend/nix/outputs.nix"}},
		{"monoflake completion ", []string{"bash", "fish", "zsh"}},
		{"monoflake frobnicate ", nil},
	}
	for _, tt := range tests {
		script := `source <(monoflake completion bash) || exit 1
complete -p monoflake
COMP_LINE=$1 COMP_POINT=${#1}
_monoflake
printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script, "bash", tt.line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+path)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", tt.line, out)
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		require.Equal(t, "complete -F _monoflake monoflake", lines[0], "the function is registered")
		got := lines[1:]
		if len(got) == 1 && got[0] == "" {
			got = nil
		}
		require.Equal(t, tt.want, got, tt.line)
	}
}

// TestFishCompletion asks real fish what it completes (complete -C), with
// the script loaded as the README says.
func TestFishCompletion(t *testing.T) {
	fish := requireShell(t, "fish")
	dir, path := completionDir(t)
	script := filepath.Join(t.TempDir(), "monoflake.fish")
	require.NoError(t, os.WriteFile(script, []byte(fishCompletion), 0o644))
	out, err := exec.Command(fish, "--no-execute", script).CombinedOutput()
	require.NoError(t, err, "fish reads the script: %s", out)

	tests := []struct {
		line     string
		contains []string
		absent   []string
	}{
		{"monoflake en", []string{"env\tprint the devShell environment of a component"}, []string{"shell"}},
		{"monoflake env --format ", []string{"bash", "json"}, []string{"dot"}},
		{"monoflake env --component b", []string{"backend"}, []string{"frontend"}},
		{"monoflake check fr", []string{"frontend/"}, []string{"notes.txt"}},
		{"monoflake env not", []string{"notes.txt"}, nil},
	}
	for _, tt := range tests {
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C"$argv[2]"`, script, tt.line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+path)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", tt.line, out)
		lines := strings.Split(string(out), "\n")
		for _, want := range tt.contains {
			require.Contains(t, lines, want, "%s:\n%s", tt.line, out)
		}
		for _, not := range tt.absent {
			require.NotContains(t, lines, not, "%s:\n%s", tt.line, out)
		}
	}
}

// TestZshCompletion checks the script in real zsh: it parses, compinit
// registers it, and run as a completion function with compadd and _files
// standing in for the completion system's own, it offers what monoflake
// says.
func TestZshCompletion(t *testing.T) {
	zsh := requireShell(t, "zsh")
	dir, path := completionDir(t)
	script := filepath.Join(t.TempDir(), "_monoflake")
	require.NoError(t, os.WriteFile(script, []byte(zshCompletion), 0o644))
	out, err := exec.Command(zsh, "-n", script).CombinedOutput()
	require.NoError(t, err, "zsh reads the script: %s", out)

	run := func(body string, args ...string) string {
		t.Helper()
		cmd := exec.Command(zsh, append([]string{"-f", "-c", body, "zsh"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+path, "ZDOTDIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	registered := run(`autoload -U compinit && compinit -u -d "$ZDOTDIR/.zcompdump" && source "$1" && print -r -- "$_comps[monoflake]"`, script)
	require.Equal(t, "_monoflake\n", registered)

	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"monoflake", "en"}, "env\n"},
		{[]string{"monoflake", "env", "--format", ""}, "bash\njson\n"},
		{[]string{"monoflake", "env", "--component", "in"}, "infra\n"},
		{[]string{"monoflake", "check", ""}, "<_files -/>\n"},
		{[]string{"monoflake", "components", "a"}, "analytics\n<_files -/>\n"},
	}
	for _, tt := range tests {
		body := `compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }
_files() { print -r -- "<_files${*:+ $*}>"; }
source "$1"
shift
words=("$@")
CURRENT=$#
_monoflake`
		require.Equal(t, tt.want, run(body, append([]string{script}, tt.words...)...), "%q", tt.words)
	}
}

// requireShell is the path of a shell the completion tests need: they are
// skipped without it, except in CI.
func requireShell(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed by this test (Debian: apt-get install %s)", name, name)
		}
		t.Skipf("%s is not installed (Debian: apt-get install %s)", name, name)
	}
	return path
}
