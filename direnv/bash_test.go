package direnv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache"
)

// trickyValues are values that break naive quoting. Every one must arrive in
// bash byte for byte.
func trickyValues() map[string]string {
	return map[string]string{
		"T_EMPTY":     "",
		"T_SPACES":    "  two  spaces  ",
		"T_SQUOTE":    "it's 'quoted'",
		"T_DQUOTE":    `say "hi"`,
		"T_DOLLAR":    "$HOME ${PATH} $(false) `false` $'x'",
		"T_BACKSLASH": `C:\new\path\\ \n \'`,
		"T_NEWLINES":  "line1\nline2\r\n\n",
		"T_TABS":      "\ta\tb\t",
		"T_GLOB":      "* ? [a] {a,b} ~ ~root",
		"T_BANG":      "!! !$ !x",
		"T_DASH":      "-n",
		"T_NONUTF8":   "a\xffb\xfe\xc3(\x80",
		"T_CONTROL":   "\x01\x1b[31mred\x1b[0m\x7f",
		"T_UNICODE":   "grüße, 世界 🚀",
		"T_EQUALS":    "a=b==c",
		"T_SEMICOLON": "a; false && b | c > d < e",
	}
}

func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI but is not on PATH: %v", name, err)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

// TestRenderThroughBash evaluates rendered output inside a function (as
// use_monoflake does) in a real bash, under both the C and a UTF-8 locale,
// and compares every variable, array element and watched file by bytes.
func TestRenderThroughBash(t *testing.T) {
	bash := requireTool(t, "bash")
	vars := map[string]evalcache.Variable{
		"shellHook": {Type: evalcache.Var, Value: "export HOOK_SAW=\"$T_SQUOTE|$(hookfn)\"\n"},
		"T_ARRAY":   {Type: evalcache.Array, Array: []string{"", "it's", "a\nb", "\xff", "$x"}},
		"T_ASSOC":   {Type: evalcache.Associative, Assoc: map[string]string{"k'1": "v\n1", "$k 2": `v\2`}},
		"T_PLAIN":   {Type: evalcache.Var, Value: "not 'exported'"},
	}
	for name, v := range trickyValues() {
		vars[name] = exported(v)
	}
	watch := []string{"/repo/flake.nix", "/repo/it's a dir/outputs.nix", "/repo/\xff.nix"}
	script := Render(Export{
		Component: "it's", Shell: "$shell",
		Watch: watch,
		Env: &evalcache.Environment{
			Variables:     vars,
			BashFunctions: map[string]string{"hookfn": "    printf '%s' \"fn:$T_DOLLAR\"\n"},
		},
	})

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rendered.sh"), script, 0o644))
	driver := `
set -u
watch_file() { printf '%s\0' "$@" > watches; }
apply() { local __monoflake_out; __monoflake_out=$(cat rendered.sh); eval "$__monoflake_out"; }
apply
env -0 > env
printf '%s\0' "${T_ARRAY[@]}" > array
for k in "${!T_ASSOC[@]}"; do printf '%s\0%s\0' "$k" "${T_ASSOC[$k]}"; done > assoc
printf '%s' "$T_PLAIN" > plain
`
	for _, locale := range []string{"C", "C.UTF-8"} {
		t.Run(locale, func(t *testing.T) {
			cmd := exec.Command(bash, "--norc", "--noprofile", "-c", driver)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=" + locale}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "bash: %s", out)
			require.Empty(t, string(out))

			data, err := os.ReadFile(filepath.Join(dir, "env"))
			require.NoError(t, err)
			env := parseEnv0(data)
			for name, want := range trickyValues() {
				require.Equal(t, []byte(want), []byte(env[name]), "variable %s", name)
			}
			require.Equal(t, "it's", env["MONOFLAKE_COMPONENT"])
			require.Equal(t, "$shell", env["MONOFLAKE_SHELL"])
			require.NotContains(t, env, "MONOFLAKE_STALE")
			require.NotContains(t, env, "T_PLAIN", "a plain variable must not be exported")
			require.Equal(t, trickyValues()["T_SQUOTE"]+"|fn:"+trickyValues()["T_DOLLAR"], env["HOOK_SAW"], "shellHook ran with the functions and variables defined")

			require.Equal(t, vars["T_ARRAY"].Array, readNul(t, filepath.Join(dir, "array")))
			assoc := readNul(t, filepath.Join(dir, "assoc"))
			got := map[string]string{}
			for i := 0; i+1 < len(assoc); i += 2 {
				got[assoc[i]] = assoc[i+1]
			}
			require.Equal(t, vars["T_ASSOC"].Assoc, got)
			require.Equal(t, watch, readNul(t, filepath.Join(dir, "watches")))
			plain, err := os.ReadFile(filepath.Join(dir, "plain"))
			require.NoError(t, err)
			require.Equal(t, "not 'exported'", string(plain))
		})
	}
}

func readNul(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

// TestRenderedFunctionDoesNotReplaceExisting checks that a devShell function
// named like an existing function (direnv's stdlib) leaves it alone.
func TestRenderedFunctionDoesNotReplaceExisting(t *testing.T) {
	bash := requireTool(t, "bash")
	script := Render(Export{Env: &evalcache.Environment{BashFunctions: map[string]string{
		"log_status": "    echo devshell\n",
		"fresh":      "    echo fresh\n",
	}}})
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `log_status() { echo stdlib; }; eval "$1"; log_status; fresh`, "bash", string(script))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "stdlib\nfresh\n", string(bytes.TrimLeft(out, "\n")))
}
