package analysis

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// TestBadInput builds a repository holding every kind of hostile file next
// to one healthy component, and checks that indexing reports each clearly,
// never panics, and still indexes the component.
func TestBadInput(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	write("flake.nix", []byte(`{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./ok/nix/outputs.nix ]; }; }`))
	write("ok/nix/outputs.nix", []byte(`{ perSystem = { pkgs, ... }: { packages.ok = pkgs.hello; }; }`))
	write("bad/binary.nix", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2, 0xff})
	write("bad/utf8.nix", []byte("{ a = \"\xff\xfe\xfd\"; # \xc3\x28 }"))
	write("bad/deep.nix", []byte(strings.Repeat("[", 10000)+strings.Repeat("]", 10000)))
	// 6 MB of data-like Nix (a generated list), as in lock-like files.
	write("bad/big.nix", append([]byte("[ "), append(bytes.Repeat([]byte("\"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" "), 6<<20/62), ']')...))
	write("bad/huge.nix", make([]byte, MaxFileSize+1))
	require.NoError(t, os.Symlink("loop-b.nix", filepath.Join(root, "bad", "loop-a.nix")))
	require.NoError(t, os.Symlink("loop-a.nix", filepath.Join(root, "bad", "loop-b.nix")))
	require.NoError(t, os.Symlink("/etc/hostname", filepath.Join(root, "bad", "outside.nix")))
	require.NoError(t, os.Symlink(root, filepath.Join(root, "bad", "dirloop")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "bad", "fifo.nix"), 0o644))

	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	require.NotNil(t, s.Component("ok"), "the healthy component is indexed")
	require.Nil(t, s.File(filepath.Join(root, "bad", "outside.nix")), "a symlink out of the repository is not followed")
	require.Nil(t, s.File(filepath.Join(root, "bad", "loop-a.nix")), "a symlink loop is skipped")
	require.Nil(t, s.File(filepath.Join(root, "bad", "dirloop", "flake.nix")), "a directory symlink is not followed")

	unreadable := map[string]string{}
	for _, d := range s.AllDiagnostics() {
		if d.Code == CodeUnreadable {
			unreadable[filepath.Base(d.Loc.File)] = d.Message
		}
	}
	require.Contains(t, unreadable["binary.nix"], "binary file")
	require.Contains(t, unreadable["huge.nix"], "larger than")
	require.Contains(t, unreadable["fifo.nix"], "not a regular file")
	require.NotContains(t, unreadable, "utf8.nix", "invalid UTF-8 is parsed, not refused")
	require.NotContains(t, unreadable, "big.nix", "a 6 MB file is parsed")
	require.NotContains(t, unreadable, "deep.nix")
	require.NotNil(t, s.File(filepath.Join(root, "bad", "deep.nix")).Tree())
}

func TestNoFlake(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "x.nix"), []byte(`{ a = import ./nope.nix; }`), 0o644))
	_, err := Load(context.Background(), root)
	require.ErrorIs(t, err, ErrNoRepository, "without a flake or a git work tree nothing bounds the index")
	require.ErrorContains(t, err, "no flake.nix in it or above it")
	_, err = Load(context.Background(), "/")
	require.ErrorIs(t, err, ErrNoRepository, "never the whole file system")

	require.NoError(t, exec.Command("git", "init", "-q", root).Run())
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	require.False(t, s.HasFlake)
	require.Empty(t, s.Components())
	require.Len(t, s.AllDiagnostics(), 1, "static checks still run on plain Nix files")

	_, err = Load(context.Background(), filepath.Join(root, "does-not-exist"))
	require.Error(t, err)
}

// fuzzRepository is the small flake both fuzz targets edit: flake.nix and
// one module, loaded, with a parser for the edits.
func fuzzRepository(f *testing.F, flakeSrc, moduleSrc string) (base *Snapshot, parser *syntax.Parser, flake, module string) {
	root := f.TempDir()
	flake = filepath.Join(root, "flake.nix")
	module = filepath.Join(root, "m", "nix", "outputs.nix")
	require.NoError(f, os.MkdirAll(filepath.Dir(module), 0o755))
	require.NoError(f, os.WriteFile(flake, []byte(flakeSrc), 0o644))
	require.NoError(f, os.WriteFile(module, []byte(moduleSrc), 0o644))
	base, err := Load(context.Background(), root)
	require.NoError(f, err)
	parser = syntax.NewParser()
	f.Cleanup(parser.Close)
	return base, parser, flake, module
}

// FuzzIndex feeds arbitrary bytes through parsing, fact extraction and
// resolution, as a module of a small flake.
func FuzzIndex(f *testing.F) {
	for _, seed := range []string{
		`{ perSystem = { self', ... }: { packages.a = self'.packages.b; }; }`,
		`{ inherit (self'.packages) a b; imports = [ ./x ]; flake.nixosModules.y = 1; }`,
		"{ a = x |> f; b = ''${y}''; c = ./${z}.nix; }",
		`{ a.b = 1; a = { c = 2; }; a.b = 3; }`,
		"[[[[[[",
		"\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	base, parser, _, module := fuzzRepository(f, `{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./m/nix/outputs.nix ]; }; }`, `{ }`)
	f.Fuzz(func(t *testing.T, src []byte) {
		s := base.WithFile(context.Background(), parser, module, src)
		for off := 0; off <= len(src); off += 1 + len(src)/8 {
			Definition(s, module, off)
			References(s, module, off, true)
			Hover(s, module, off)
			Complete(s, module, off)
			PrepareRename(s, module, off)
		}
		DocumentSymbols(s, module)
		Links(s, module)
		s.AllDiagnostics()
	})
}

// FuzzFlakeFile feeds arbitrary bytes through the same pipeline as the
// repository's flake.nix, where the model finds the flake, its inputs, its
// module tree and the flakes built inside it.
func FuzzFlakeFile(f *testing.F) {
	for _, seed := range []string{
		`{ outputs = i: i.flake-parts.lib.mkFlake { inherit i; } { imports = [ ./m/nix/outputs.nix ]; }; }`,
		`{ inputs.sub.url = "path:./m"; outputs = { self, ... }@inputs: { packages.x86_64-linux.a = self.packages.x86_64-linux.a; }; }`,
		`{ outputs = _: { lib.mkFlake = { inputs }: inputs.flake-parts.lib.mkFlake { inherit inputs; } { imports = [ ./m ]; }; }; }`,
		`{ outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } [ ./a.nix ./b.nix ]; }`,
		`{ outputs = inputs: (inputs.import-tree.filter (p: p != "/flake.nix") ./.); }`,
		`{ outputs = inputs: inputs.adios-flake.lib.mkFlake { inherit inputs; modules = [ ./m ]; }; }`,
		"{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [",
	} {
		f.Add([]byte(seed))
	}
	base, parser, flake, module := fuzzRepository(f, `{ }`, `{ perSystem = { self', ... }: { packages.m = self'.packages.m; }; }`)
	f.Fuzz(func(t *testing.T, src []byte) {
		s := base.WithFile(context.Background(), parser, flake, src)
		for off := 0; off <= len(src); off += 1 + len(src)/8 {
			Definition(s, flake, off)
			References(s, flake, off, true)
		}
		Definition(s, module, 60)
		s.Components()
		s.AllDiagnostics()
	})
}

// Nested sets cost linear work: checking each set once, a 30,000-deep
// nesting (250 s when every set re-walked its descendants) takes well
// under a second here.
func TestDeepNestingIsLinear(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, exec.Command("git", "init", "-q", root).Run())
	deep := strings.Repeat("{a=", 30000) + "1" + strings.Repeat(";}", 30000)
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte(deep), 0o644))
	start := time.Now()
	s, err := Load(context.Background(), root)
	require.NoError(t, err)
	require.Empty(t, s.AllDiagnostics())
	require.Less(t, time.Since(start), 15*time.Second)
}
