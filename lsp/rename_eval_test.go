package lsp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/evalcache/evaltest"
)

// opsModule is a component added to a copy of testdata/monorepo for the
// rename test: it takes other components' outputs through each form of
// inherit a rename must keep working.
const opsModule = `{ self, ... }:
{
  perSystem = { pkgs, self', config, system, ... }:
    let
      # a let whose uses are all known: renamed with the output
      inherit (self'.packages) backend;
      # used by "inherit frontend;" below: rewritten to keep the name
      inherit (self.packages.${system}) frontend;
    in
    {
      packages.ops = pkgs.mkDerivation {
        name = "ops";
        inherit frontend;
        deps = [ backend ];
        buildScript = ''
          echo ${backend} ${frontend} > "$out"
        '';
      };
      devShells.ops = pkgs.mkShell {
        name = "ops-shell";
        # an attribute of the shell, so a variable of its environment
        inherit (config.packages) backend;
        inputsFrom = [ self'.devShells.backend ];
      };
      checks = { inherit (pkgs) cargo; };
    };
}
`

// Renaming an output through the server yields code that real nix
// evaluates to the same derivations: the renamed output's drvPath, and
// those of every package, shell and check that uses it, equal the
// originals under the new name.
func TestRenameKeepsDerivations(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	base, err := filepath.EvalSymlinks(evaltest.CopyFixture(t, "monorepo"))
	require.NoError(t, err)
	addOps(t, base)
	before := drvPaths(t, base)
	require.Contains(t, before["packages"], "ops", "the ops module evaluates")

	cases := []struct {
		name, file, needle, category, old, new string
		// edited are files the rename must change besides the definition.
		edited []string
	}{
		{"a let inherit, an inherit in a shell, selections", "backend/nix/outputs.nix", "packages.backend =", "packages", "backend", "backend-svc",
			[]string{"frontend/nix/outputs.nix", "infra/nix/outputs.nix", "ops/nix/outputs.nix"}},
		{"inherit from self.packages of a system, used by inherit", "frontend/nix/outputs.nix", "packages.frontend =", "packages", "frontend", "web",
			[]string{"infra/nix/outputs.nix", "ops/nix/outputs.nix"}},
		{"a devShell in inputsFrom", "backend/nix/outputs.nix", "devShells.backend =", "devShells", "backend", "backend-dev",
			[]string{"frontend/nix/outputs.nix", "ops/nix/outputs.nix"}},
		{"an output defined by inherit", "ops/nix/outputs.nix", "inherit (pkgs) cargo", "checks", "cargo", "cargo-check", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t, base)
			file := filepath.Join(dir, tc.file)
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			at := strings.Index(string(data), tc.needle)
			require.GreaterOrEqual(t, at, 0)
			at += strings.LastIndex(tc.needle, tc.old)

			c := newTestClient(t, Options{})
			c.initialize(nil, dir)
			var edit protocol.WorkspaceEdit
			c.mustCall("textDocument/rename", protocol.RenameParams{
				TextDocumentPositionParams: protocol.TextDocumentPositionParams{
					TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(file)},
					Position:     lspPosition(string(data), at),
				},
				NewName: tc.new,
			}, &edit)
			require.NoError(t, c.shutdown())
			changed := applyWorkspaceEdit(t, edit)
			for _, f := range append([]string{tc.file}, tc.edited...) {
				require.Contains(t, changed, filepath.Join(dir, f))
			}

			want := map[string]map[string]string{}
			for cat, outs := range before {
				want[cat] = map[string]string{}
				for name, drv := range outs {
					if cat == tc.category && name == tc.old {
						name = tc.new
					}
					want[cat][name] = drv
				}
			}
			require.Equal(t, want, drvPaths(t, dir))
		})
	}
}

// addOps adds the ops component to a fixture copy and commits it, since
// nix evaluates only what git tracks.
func addOps(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "ops", "nix"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "ops", "nix", "outputs.nix"), []byte(opsModule), 0o644))
	flake := filepath.Join(root, "flake.nix")
	data, err := os.ReadFile(flake)
	require.NoError(t, err)
	edited := strings.Replace(string(data), "./infra/nix/outputs.nix", "./infra/nix/outputs.nix\n        ./ops/nix/outputs.nix", 1)
	require.NotEqual(t, string(data), edited)
	require.NoError(t, os.WriteFile(flake, []byte(edited), 0o644))
	evaltest.Git(t, root, "add", "-A")
	evaltest.Git(t, root, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "ops")
}

// drvPaths evaluates the flake at root with real nix: the derivation of
// every package, devShell and check, and the program of every app, by
// category and name.
func drvPaths(t *testing.T, root string) map[string]map[string]string {
	t.Helper()
	expr := `let
	  f = builtins.getFlake ` + nixString("git+file://"+root) + `;
	  drvs = builtins.mapAttrs (_: v: v.drvPath);
	in {
	  packages = drvs f.packages.x86_64-linux;
	  devShells = drvs f.devShells.x86_64-linux;
	  checks = drvs f.checks.x86_64-linux;
	  apps = builtins.mapAttrs (_: a: a.program) f.apps.x86_64-linux;
	}`
	cmd := exec.Command("nix", "eval", "--json", "--impure", "--expr", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "nix eval: %s", stderr.String())
	var got map[string]map[string]string
	require.NoError(t, json.Unmarshal(out, &got))
	return got
}

// nixString quotes s as a Nix string literal.
func nixString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`)
	return `"` + r.Replace(s) + `"`
}

// applyWorkspaceEdit writes a rename's edits to disk and returns the files
// it changed, sorted.
func applyWorkspaceEdit(t *testing.T, we protocol.WorkspaceEdit) []string {
	t.Helper()
	var files []string
	for uri, edits := range we.Changes {
		path, err := uriToPath(uri)
		require.NoError(t, err)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		src := string(data)
		sort.Slice(edits, func(i, j int) bool {
			return byteOffset(src, edits[i].Range.Start) > byteOffset(src, edits[j].Range.Start)
		})
		for _, e := range edits {
			start, end := byteOffset(src, e.Range.Start), byteOffset(src, e.Range.End)
			src = src[:start] + e.NewText + src[end:]
		}
		require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
		files = append(files, path)
	}
	sort.Strings(files)
	return files
}
