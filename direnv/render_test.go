package direnv

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache"
)

func exported(v string) evalcache.Variable {
	return evalcache.Variable{Type: evalcache.Exported, Value: v}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"plain", "plain"},
		{"/nix/store/abc-cargo/bin:/usr/bin", "/nix/store/abc-cargo/bin:/usr/bin"},
		{"two words", "'two words'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{`back\slash`, `'back\slash'`},
		{"new\nline", "'new\nline'"},
		{"~user", "'~user'"},
		{"a=b", "'a=b'"},
		{"*", "'*'"},
		{"{a,b}", "'{a,b}'"},
		{"\xff\xfe", "'\xff\xfe'"},
		{"''", `''\'''\'''`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Quote(tt.in), "Quote(%q)", tt.in)
	}
}

func TestSkipped(t *testing.T) {
	tests := []struct {
		name, value string
		skip        bool
	}{
		{"BASH", "/bin/bash", true},
		{"BASH_VERSINFO", "5", true},
		{"HOME", "/homeless-shelter", true},
		{"PWD", "/build", true},
		{"OLDPWD", "", true},
		{"SHLVL", "1", true},
		{"TERM", "xterm", true},
		{"USER", "nixbld", true},
		{"LOGNAME", "nixbld", true},
		{"DISPLAY", ":0", true},
		{"WAYLAND_DISPLAY", "wayland-0", true},
		{"TMPDIR", "/tmp/nix-build", true},
		{"NIX_BUILD_TOP", "/tmp/nix-build", true},
		{"IFS", " \t\n", true},
		{"_", "x", true},
		{"DIRENV_DIFF", "x", true},
		{"MONOFLAKE_STALE", "1", true},
		{"SSL_CERT_FILE", "/no-cert-file.crt", true},
		{"SSL_CERT_FILE", "/etc/ssl/certs/ca.pem", false},
		{"NIX_BUILD_CORES", "4", false},
		{"IN_NIX_SHELL", "impure", false},
		{"PATH", "/bin", false},
		{"RUST_LOG", "debug", false},
		{"shellHook", "echo", false},
	}
	for _, tt := range tests {
		skip, reason := Skipped(tt.name, tt.value)
		require.Equal(t, tt.skip, skip, "Skipped(%s=%q)", tt.name, tt.value)
		require.Equal(t, tt.skip, reason != "", "reason of %s", tt.name)
	}
}

func TestApplied(t *testing.T) {
	env := &evalcache.Environment{Variables: map[string]evalcache.Variable{
		"PATH":          exported("/nix/store/a-cargo/bin"),
		"RUST_LOG":      exported("debug"),
		"HOME":          exported("/homeless-shelter"),
		"TMPDIR":        exported("/build"),
		"NIX_BUILD_TOP": exported("/build"),
		"SSL_CERT_FILE": exported("/no-cert-file.crt"),
		"USER":          exported("nixbld"),
		"shellHook":     {Type: evalcache.Var, Value: "echo hi"},
		"buildInputs":   {Type: evalcache.Array, Array: []string{"a"}},
		"not-a-name":    exported("x"),
	}}
	require.Equal(t, map[string]string{"PATH": "/nix/store/a-cargo/bin", "RUST_LOG": "debug"}, Applied(env))
	require.Nil(t, Applied(nil))
}

func TestMergeSearchPath(t *testing.T) {
	tests := []struct{ shell, outer, want string }{
		{"/nix/store/a/bin", "/usr/bin:/bin", "/nix/store/a/bin:/usr/bin:/bin"},
		{"/nix/store/a/bin:/usr/bin", "/usr/bin:/bin", "/nix/store/a/bin:/usr/bin:/bin"},
		{"/path-not-set", "/usr/bin", "/usr/bin"},
		{"/nix/store/a/share/", "", "/nix/store/a/share"},
		{"", "/usr/bin", "/usr/bin"},
		{"/a::/b", "/b/:/c", "/a:/b:/c"},
		{"/", "/", "/"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, mergeSearchPath(tt.shell, tt.outer), "merge(%q, %q)", tt.shell, tt.outer)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		in   Export
		want string
	}{
		{
			name: "nothing cached: watches and markers only",
			in:   Export{Component: "backend", Shell: "backend", Stale: true, Watch: []string{"/r/flake.nix", "/r/my dir/x.nix"}},
			want: "watch_file /r/flake.nix '/r/my dir/x.nix'\n" +
				"export MONOFLAKE_COMPONENT=backend\nexport MONOFLAKE_SHELL=backend\nexport MONOFLAKE_STALE=1\n",
		},
		{
			name: "precomputed DIRENV_WATCHES replace watch_file",
			in:   Export{Component: "backend", Shell: "backend", Watch: []string{"/r/flake.nix"}, DirenvWatches: "eJyKjgUEAAD__wEvAI0="},
			want: "export DIRENV_WATCHES='eJyKjgUEAAD__wEvAI0='\n" +
				"export MONOFLAKE_COMPONENT=backend\nexport MONOFLAKE_SHELL=backend\nunset MONOFLAKE_STALE\n",
		},
		{
			name: "variables of every kind, sorted, skipped ones left out",
			in: Export{
				Component: "backend", Shell: "default",
				Env: &evalcache.Environment{Variables: map[string]evalcache.Variable{
					"RUST_LOG":        exported("backend=debug"),
					"HOME":            exported("/homeless-shelter"),
					"notExported":     {Type: evalcache.Var, Value: "it's"},
					"arr":             {Type: evalcache.Array, Array: []string{"a", "two words", ""}},
					"map":             {Type: evalcache.Associative, Assoc: map[string]string{"k 2": "$v", "k1": "v1"}},
					"future":          {Type: "structured", Value: "{}"},
					"bad-name":        exported("x"),
					"MONOFLAKE_SHELL": exported("spoofed"),
				}},
			},
			want: "export RUST_LOG='backend=debug'\n" +
				"declare -ga arr=(a 'two words' '')\n" +
				"declare -gA map=(['k 2']='$v' [k1]=v1)\n" +
				"notExported='it'\\''s'\n" +
				"export MONOFLAKE_COMPONENT=backend\nexport MONOFLAKE_SHELL=default\nunset MONOFLAKE_STALE\n",
		},
		{
			name: "PATH and XDG_DATA_DIRS keep the user's entries after the devShell's",
			in: Export{
				Component: "frontend", Shell: "frontend",
				OuterPath: "/usr/local/bin:/usr/bin", OuterXDGDataDirs: "/usr/share",
				Env: &evalcache.Environment{Variables: map[string]evalcache.Variable{
					"PATH":          exported("/nix/store/n-node/bin:/usr/bin"),
					"XDG_DATA_DIRS": exported("/nix/store/n-node/share/"),
				}},
			},
			want: "export PATH=/nix/store/n-node/bin:/usr/bin:/usr/local/bin\n" +
				"export XDG_DATA_DIRS=/nix/store/n-node/share:/usr/share\n" +
				"export MONOFLAKE_COMPONENT=frontend\nexport MONOFLAKE_SHELL=frontend\nunset MONOFLAKE_STALE\n",
		},
		{
			name: "functions guarded, shellHook last, stale marker",
			in: Export{
				Component: "infra", Shell: "infra", Stale: true,
				Env: &evalcache.Environment{
					Variables: map[string]evalcache.Variable{"shellHook": exported("greet\n")},
					BashFunctions: map[string]string{
						"greet":     " \n    echo hi\n",
						"bad name":  "echo no\n",
						"no_ending": "    true",
					},
				},
			},
			want: "export shellHook='greet\n'\n" +
				"if ! declare -F greet >/dev/null; then\ngreet ()\n{\n \n    echo hi\n}\nfi\n" +
				"if ! declare -F no_ending >/dev/null; then\nno_ending ()\n{\n    true\n}\nfi\n" +
				"export MONOFLAKE_COMPONENT=infra\nexport MONOFLAKE_SHELL=infra\nexport MONOFLAKE_STALE=1\n" +
				"eval \"$shellHook\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, string(Render(tt.in)))
		})
	}
}

// TestRenderRecorded renders a recorded `nix print-dev-env --json` (a
// devShell with a function, arrays and a shellHook) and checks what survives
// and what is skipped.
func TestRenderRecorded(t *testing.T) {
	data, err := os.ReadFile("testdata/print-dev-env.json")
	require.NoError(t, err)
	env, err := evalcache.ParseEnvironment(data)
	require.NoError(t, err)
	out := string(Render(Export{Env: env, Component: "demo", Shell: "default", OuterPath: "/usr/local/bin"}))
	for _, want := range []string{
		"export GREETING='it'\\''s \"quoted\" $HOME \\back\nnew line'\n",
		"export PATH=/bin:/usr/bin:/usr/local/bin\n",
		"declare -ga myArr=(one 'two words' 'three\nlines')\n",
		"declare -gA myMap=([k1]=v1 ['key two']='v$2')\n",
		"export NIX_BUILD_CORES=2\n",
		"if ! declare -F myfn >/dev/null; then\nmyfn ()\n{\n",
	} {
		require.Contains(t, out, want)
	}
	for _, gone := range []string{"HOME=", "TMPDIR=", "NIX_BUILD_TOP=", "IFS=", "EPOCHREALTIME=", "SHELL=", "TERM=", "LINENO="} {
		require.NotContains(t, out, "\n"+gone)
	}
	require.Regexp(t, "eval \"\\$shellHook\"\n$", out)
}
