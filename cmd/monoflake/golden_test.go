package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// goldenCase is one command line whose exit status, stdout and stderr are
// kept in testdata/golden/NAME.txt. $MONOREPO in args is the bundled
// fixture, and stands for it in the output.
type goldenCase struct {
	name string
	args []string
}

func goldenCases() []goldenCase {
	cases := []goldenCase{
		{"help", []string{"help"}},
		{"no-arguments", nil},
		{"version-flag", []string{"--version"}},
		{"unknown-command", []string{"frobnicate"}},
		{"unknown-top-flag", []string{"--verbose"}},
		{"help-unknown", []string{"help", "frobnicate"}},
		{"help-too-many", []string{"help", "env", "shell"}},
		{"env-format-yaml", []string{"env", "--format", "yaml"}},
		{"env-format-missing", []string{"env", "--format"}},
		{"env-mode-bad", []string{"env", "--mode=pure", "."}},
		{"env-component-and-shell", []string{"env", "--component", "backend", "--shell", "python", "$MONOREPO"}},
		{"env-two-paths", []string{"env", "a", "b"}},
		{"graph-format-svg", []string{"graph", "--format", "svg", "$MONOREPO"}},
		{"graph-unknown-flag", []string{"graph", "-x", "$MONOREPO"}},
		{"components-json-value", []string{"components", "--json=maybe"}},
		{"components-three", []string{"components", "a", "b", "c"}},
		{"components-no-match", []string{"components", "$MONOREPO", "nosuch"}},
		{"components-filter", []string{"components", "$MONOREPO", "end"}},
		{"definition-missing", []string{"definition"}},
		{"definition-bad-position", []string{"definition", "flake.nix:x:1"}},
		{"references-two", []string{"references", "a:1:1", "b:1:1"}},
		{"symbols-three", []string{"symbols", "a", "b", "c"}},
		{"affected-no-since", []string{"affected", "$MONOREPO"}},
		{"affected-since-empty", []string{"affected", "--since="}},
		{"shell-two-paths", []string{"shell", "a", "b", "--", "true"}},
		{"trust-two", []string{"trust", "a", "b"}},
		{"trust-not-dir", []string{"trust", "$MONOREPO/flake.nix"}},
		{"check-missing-dir", []string{"check", "$MONOREPO/nope"}},
		{"init-two", []string{"init", "a", "b"}},
		{"direnvrc-extra", []string{"direnvrc", "extra"}},
		{"direnv-export-two", []string{"direnv-export", "backend", "frontend"}},
		{"direnv-export-component-and-shell", []string{"direnv-export", "--shell", "python", "backend"}},
		{"direnv-export-unknown-flag", []string{"direnv-export", "--verbose"}},
		{"serve-extra", []string{"serve", "stdio"}},
		{"completion-missing", []string{"completion"}},
		{"completion-tcsh", []string{"completion", "tcsh"}},
		{"version-extra", []string{"version", "now"}},
	}
	for _, cmd := range commands() {
		if !cmd.hidden {
			cases = append(cases, goldenCase{"help-" + cmd.name, []string{"help", cmd.name}})
		}
	}
	return cases
}

// TestGolden pins what the command line prints for help and for usage
// errors, byte for byte; `go test -run TestGolden -update` rewrites the
// files after a deliberate change.
func TestGolden(t *testing.T) {
	mono, err := filepath.Abs(filepath.Join("..", "..", "testdata", "monorepo"))
	require.NoError(t, err)
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "$MONOREPO", mono)
			}
			c, stdout, stderr := envCLI(t)
			code := run(context.Background(), c, args)
			got := fmt.Sprintf("$ monoflake %s\nexit status %d\n--- stdout\n%s--- stderr\n%s",
				strings.Join(tt.args, " "), code, stdout, stderr)
			got = strings.ReplaceAll(got, mono, "$MONOREPO")

			if code == exitUsage {
				require.Equal(t, 1, strings.Count(stderr.String(), "\n"), "a usage error is one line on stderr: %q", stderr)
				require.Empty(t, stdout.String(), "a usage error prints nothing on stdout")
			}
			path := filepath.Join("testdata", "golden", tt.name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file; run go test -run TestGolden -update")
			require.Equal(t, string(want), got)
		})
	}
}

// TestHelpFlags checks that `help CMD`, `CMD --help` and `CMD -h` print the
// same usage on stdout and exit 0, for every command.
func TestHelpFlags(t *testing.T) {
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		c, stdout, stderr := envCLI(t)
		require.Equal(t, exitOK, run(context.Background(), c, []string{"help", cmd.name}), cmd.name)
		want := stdout.String()
		require.True(t, strings.HasPrefix(want, "Usage: "+cmd.synopsisLine()+"\n"), "%s: %q", cmd.name, want)
		require.NotContains(t, want, "\n  -json", "flags are shown as --flag")
		for _, help := range []string{"--help", "-h", "-help"} {
			c, stdout, stderr = envCLI(t)
			require.Equal(t, exitOK, run(context.Background(), c, []string{cmd.name, help}), "%s %s", cmd.name, help)
			require.Equal(t, want, stdout.String(), "%s %s", cmd.name, help)
			require.Empty(t, stderr.String())
		}
		// After arguments too, as GNU tools read flags.
		c, stdout, _ = envCLI(t)
		require.Equal(t, exitOK, run(context.Background(), c, []string{cmd.name, "x", "--help"}), cmd.name)
		require.Equal(t, want, stdout.String())
	}
}

// TestEveryCommandDescribes checks that every command parses its flags
// before doing anything, which help and completion rely on (cli.describe).
func TestEveryCommandDescribes(t *testing.T) {
	for _, cmd := range commands() {
		require.NotNil(t, describe(cmd), "%s does not parse its flags first", cmd.name)
	}
}

func TestFlagsAnywhere(t *testing.T) {
	mono := filepath.Join("..", "..", "testdata", "monorepo")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"graph", mono, "--format", "json"}, `"components": [`},
		{[]string{"graph", "--format=json", mono}, `"components": [`},
		{[]string{"components", mono, "backend", "--json"}, `"name": "backend"`},
		{[]string{"symbols", "--json", mono, "dockr"}, `"name": "docker-images"`},
		{[]string{"symbols", mono, "--", "dockr"}, "packages.docker-images"},
	}
	for _, tt := range tests {
		c, stdout, stderr := envCLI(t)
		require.Equal(t, exitOK, run(context.Background(), c, tt.args), "%q: %s", tt.args, stderr)
		require.Contains(t, stdout.String(), tt.want, "%q", tt.args)
	}
}
