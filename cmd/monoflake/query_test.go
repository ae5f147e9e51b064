package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// monorepoFile returns a file of the bundled fixture and the 1-based line
// and byte column of the first occurrence of needle in it, plus shift.
func monorepoFile(t *testing.T, rel, needle string, shift int) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "monorepo", rel))
	require.NoError(t, err)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	i := strings.Index(string(data), needle)
	require.GreaterOrEqual(t, i, 0)
	i += shift
	line := strings.Count(string(data[:i]), "\n") + 1
	col := i - strings.LastIndex(string(data[:i]), "\n")
	return fmt.Sprintf("%s:%d:%d", p, line, col)
}

func TestQueryCommands(t *testing.T) {
	mono := filepath.Join("..", "..", "testdata", "monorepo")
	ref := monorepoFile(t, "frontend/nix/outputs.nix", "self'.packages.backend", len("self'.packages."))
	def := monorepoFile(t, "backend/nix/outputs.nix", "packages.backend", len("packages."))
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"components", []string{"components", mono}, exitOK, []string{"backend", "depends on: backend, frontend", "devShells.python", "nixosModules.infra"}},
		{"check clean", []string{"check", mono}, exitOK, nil},
		{"graph", []string{"graph", mono}, exitOK, []string{`"infra" -> "frontend";`}},
		{"graph json", []string{"graph", "--format", "json", mono}, exitOK, []string{`"dependsOn": [`}},
		{"definition across components", []string{"definition", ref}, exitOK, []string{"backend/nix/outputs.nix:5:14"}},
		{"references", []string{"references", "--declaration", def}, exitOK, []string{"frontend/nix/outputs.nix:", "infra/nix/outputs.nix:", "backend/nix/outputs.nix:5:14"}},
		{"symbols", []string{"symbols", mono, "dockr"}, exitOK, []string{"packages.docker-images"}},
		{"bad position", []string{"definition", "nowhere.nix:x:1"}, exitUsage, nil},
		{"unknown command", []string{"frobnicate"}, exitUsage, nil},
		{"graph bad format", []string{"graph", "--format", "svg", mono}, exitUsage, nil},
		{"affected needs --since", []string{"affected", mono}, exitUsage, nil},
		{"missing directory", []string{"check", filepath.Join(mono, "nope")}, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, stdout, stderr := envCLI(t)
			code := run(context.Background(), c, tt.args)
			require.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			for _, want := range tt.contains {
				require.Contains(t, stdout.String(), want)
			}
			if tt.code == exitUsage {
				require.NotEmpty(t, stderr.String(), "a failure says why")
			}
		})
	}
}

func TestCheckReportsErrors(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte("{\n  outputs = i: { };\n  x = import ./missing.nix;\n}\n"), 0o644))
	c, stdout, _ := envCLI(t)
	require.Equal(t, exitFindings, run(context.Background(), c, []string{"check", root}))
	require.Contains(t, stdout.String(), "flake.nix:3:14: error: missing.nix does not exist [missing-path]")

	// The second run in the same cache folder is answered from the
	// persistent index, with the same output.
	c, stdout, _ = envCLI(t)
	var runs []string
	for range 2 {
		stdout.Reset()
		require.Equal(t, exitFindings, run(context.Background(), c, []string{"check", "--json", root}))
		runs = append(runs, stdout.String())
		var diags []map[string]any
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &diags))
		require.Len(t, diags, 1)
		require.Equal(t, "missing-path", diags[0]["code"])
		require.EqualValues(t, 3, diags[0]["line"])
		require.EqualValues(t, 14, diags[0]["column"])
		require.EqualValues(t, 27, diags[0]["endColumn"])
	}
	require.Equal(t, runs[0], runs[1])
}

// TestSingleWordIsAFilter checks that one argument that is not a directory
// filters, as the user meant, instead of failing as a missing directory.
func TestSingleWordIsAFilter(t *testing.T) {
	mono, err := filepath.Abs(filepath.Join("..", "..", "testdata", "monorepo"))
	require.NoError(t, err)
	t.Chdir(filepath.Join(mono, "nix"))
	tests := []struct {
		args []string
		code int
		want []string // lines of stdout that start a component or a symbol
	}{
		{[]string{"components", "end"}, exitOK, []string{"backend  ", "frontend  "}},
		{[]string{"components", "--json", "infra"}, exitOK, []string{`    "name": "infra",`}},
		{[]string{"components", "nosuch"}, exitFindings, nil},
		{[]string{"symbols", "dockr"}, exitOK, []string{"packages.docker-images"}},
		// A directory is still a directory.
		{[]string{"components", "lib"}, exitOK, []string{"analytics  "}},
	}
	for _, tt := range tests {
		c, stdout, stderr := envCLI(t)
		require.Equal(t, tt.code, run(context.Background(), c, tt.args), "%q: %s", tt.args, stderr)
		for _, want := range tt.want {
			found := false
			for _, line := range strings.Split(stdout.String(), "\n") {
				found = found || strings.HasPrefix(line, want)
			}
			require.True(t, found, "%q: no line starting %q in\n%s", tt.args, want, stdout)
		}
	}
}

// A repository in which the model finds nothing must not look like one in
// which nothing changed: graph, components and affected refuse, saying
// what the model could not read.
func TestNoComponentsIsNoAnswer(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte(`{ outputs = inputs: inputs.x.lib.mkFlake { inherit inputs; } { imports = [ inputs.x.flakeModule ]; }; }`), 0o644))
	for _, args := range [][]string{{"graph", root}, {"components", root}, {"affected", "--since", "HEAD", root}} {
		c, stdout, stderr := envCLI(t)
		require.Equal(t, exitFindings, run(context.Background(), c, args), "%v", args)
		require.Empty(t, stdout.String(), "%v", args)
		require.Contains(t, stderr.String(), "monoflake: no components found in ", "%v", args)
		require.Contains(t, strings.ReplaceAll(stderr.String(), root+"/", ""), "could not read flake.nix:1: x.flakeModule comes from the flake input x\n", "%v", args)
	}
}

// fix applies the obvious fixes, --all the others too, and --dry-run
// nothing.
func TestFix(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	read := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		return string(data)
	}
	require.NoError(t, exec.Command("git", "init", "-q", root).Run())
	write("flake.nix", "{ outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } { imports = [ ./a/nix/outputs.nix ]; }; }\n")
	write("a/nix/outputs.nix", "{ perSystem = { pkgs, self', ... }: { packages.tool = pkgs.hello; packages.x = self'.packages.tol; }; }\n")
	write("b/nix/outputs.nix", "{ perSystem = { pkgs, ... }: { packages.b = pkgs.hello; }; }\n")
	ctx := context.Background()

	c, stdout, _ := envCLI(t)
	require.Equal(t, exitOK, run(ctx, c, []string{"fix", "--dry-run", root}))
	require.Contains(t, stdout.String(), "would fix ")
	require.Contains(t, read("a/nix/outputs.nix"), "self'.packages.tol;", "a dry run changes nothing")

	c, stdout, _ = envCLI(t)
	require.Equal(t, exitOK, run(ctx, c, []string{"fix", root}))
	require.Contains(t, read("a/nix/outputs.nix"), "self'.packages.tool;", "the close match replaces the typo")
	require.NotContains(t, read("flake.nix"), "./b/nix/outputs.nix", "only obvious fixes without --all")

	c, _, _ = envCLI(t)
	require.Equal(t, exitOK, run(ctx, c, []string{"fix", "--all", root}))
	require.Contains(t, read("flake.nix"), "./b/nix/outputs.nix", "--all imports the orphan module")
	c, stdout, _ = envCLI(t)
	require.Equal(t, exitOK, run(ctx, c, []string{"check", root}), "no error is left")
	require.NotContains(t, stdout.String(), "unknown-output")
	require.NotContains(t, stdout.String(), "orphan-module")
}
