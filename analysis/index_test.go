package analysis

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/analysistest"
	"github.com/monoflake/monoflake/analysis/indexcache"
)

func indexFixture(t *testing.T) (root string, store *indexcache.Store) {
	t.Helper()
	root = t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	write("flake.nix", `{ outputs = i: i.flake-parts.lib.mkFlake { } { imports = [ ./a/nix/outputs.nix ./b/nix/outputs.nix ]; }; }`)
	write("a/nix/outputs.nix", `{ perSystem = { pkgs, ... }: { packages.a = pkgs.hello; }; }`)
	write("b/nix/outputs.nix", `{ perSystem = { self', ... }: { packages.b = self'.packages.ab; }; }`)
	analysistest.Age(t, root)
	store, err := indexcache.Open(t.TempDir())
	require.NoError(t, err)
	return root, store
}

func diagnosticsOf(s *Snapshot) []string {
	var out []string
	for _, d := range s.AllDiagnostics() {
		out = append(out, d.String())
	}
	return out
}

// A second load answers unchanged files from the index, unparsed, with
// the same model; an edited file is read again.
func TestIndexAnswersUnchangedFiles(t *testing.T) {
	root, store := indexFixture(t)
	ctx := context.Background()
	first, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.Len(t, first.AllDiagnostics(), 1, "the fixture has one unknown output")
	plain, err := Load(ctx, root)
	require.NoError(t, err)

	second, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	for _, p := range second.Files() {
		require.Nil(t, second.files[p].tree, "%s was parsed again", p)
	}
	require.Equal(t, diagnosticsOf(plain), diagnosticsOf(second))
	require.Equal(t, SortedComponentNames(plain.Components()), SortedComponentNames(second.Components()))
	b := filepath.Join(root, "b/nix/outputs.nix")
	require.NotNil(t, second.File(b).Tree(), "a tree is parsed when asked for")
	require.Equal(t, first.ResultKey(), second.ResultKey())
	key, ok := Unchanged(ctx, root, store)
	require.True(t, ok)
	require.Equal(t, second.ResultKey(), key)

	require.NoError(t, os.WriteFile(b, []byte(`{ perSystem = { self', ... }: { packages.b = self'.packages.a; }; }`), 0o644))
	_, ok = Unchanged(ctx, root, store)
	require.False(t, ok, "an edited file is a change")
	third, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.Empty(t, third.AllDiagnostics(), "the edit is read")
	require.NotNil(t, third.files[b].tree, "the edited file was parsed")
	require.NotEqual(t, second.ResultKey(), third.ResultKey())

	require.NoError(t, os.WriteFile(filepath.Join(root, "c.txt"), []byte("x"), 0o644))
	_, ok = Unchanged(ctx, root, store)
	require.False(t, ok, "a new file changes the listing")
	_, err = LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, ConfigFile), []byte(`{"disable": ["orphan-module"]}`), 0o644))
	_, ok = Unchanged(ctx, root, store)
	require.False(t, ok, "the configuration is part of the key")
}

// indexedFixture is indexFixture once indexed through its store, with the
// snapshot a load without the index gives.
func indexedFixture(t *testing.T) (string, *indexcache.Store, *Snapshot) {
	root, store := indexFixture(t)
	ctx := context.Background()
	want, err := Load(ctx, root)
	require.NoError(t, err)
	_, err = LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	return root, store, want
}

// A corrupt, cut-short or foreign pack is ignored and rewritten, never
// trusted.
func TestIndexIgnoresDamagedPacks(t *testing.T) {
	root, store, want := indexedFixture(t)
	ctx := context.Background()
	entry := store.PathOf(packKey(root))
	good, err := os.ReadFile(entry)
	require.NoError(t, err)
	for name, damaged := range map[string][]byte{
		"empty":        nil,
		"cut short":    good[:len(good)/2],
		"a bit flips":  flip(good, len(good)-3),
		"not an entry": []byte("hello"),
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(entry, damaged, 0o644))
			_, ok := Unchanged(ctx, root, store)
			require.False(t, ok)
			got, err := LoadWith(ctx, root, LoadOptions{Index: store})
			require.NoError(t, err)
			require.Equal(t, diagnosticsOf(want), diagnosticsOf(got))
			for _, p := range got.Files() {
				require.NotNil(t, got.files[p].tree, "%s came from a damaged pack", p)
			}
			_, ok = Unchanged(ctx, root, store)
			require.True(t, ok, "the pack was rewritten")
		})
	}
}

// A damaged shard of a pack costs only its files: they are parsed again,
// the others come from the pack, and the shard is written again.
func TestIndexIgnoresDamagedShards(t *testing.T) {
	root, store, want := indexedFixture(t)
	ctx := context.Background()
	h, ok := readPackHeader(store, root)
	require.True(t, ok)
	require.Len(t, h.Shards, packShards)
	victim := shardOf(h.Files[0].Path)
	entry := store.PathOf(h.Shards[victim])
	good, err := os.ReadFile(entry)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(entry, flip(good, len(good)-3), 0o644))

	_, ok = Unchanged(ctx, root, store)
	require.True(t, ok, "the header and the stats are whole: the repository is unchanged")
	got, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.Equal(t, diagnosticsOf(want), diagnosticsOf(got))
	parsed := 0
	for _, p := range got.Files() {
		if shardOf(p) == victim {
			require.NotNil(t, got.files[p].tree, "%s came from the damaged shard", p)
			parsed++
		} else {
			require.Nil(t, got.files[p].tree, "%s was parsed although its shard is whole", p)
		}
	}
	require.Positive(t, parsed)
	_, ok = store.Get(h.Shards[victim])
	require.True(t, ok, "the shard was written again")
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x40
	return out
}

// Processes killed while writing the index never leave an entry that reads
// back wrong: each read is a whole entry of some writer, or a miss.
func TestIndexSurvivesKilledWriters(t *testing.T) {
	if os.Getenv("MONOFLAKE_INDEX_WRITER") != "" {
		store, err := indexcache.Open(os.Getenv("MONOFLAKE_INDEX_WRITER"))
		require.NoError(t, err)
		for i := 0; ; i++ {
			payload := strings.Repeat(string(rune('a'+i%26)), 1<<16+i%4096)
			_ = store.Put(indexcache.Key("shared"), []byte(payload))
		}
	}
	if testing.Short() {
		t.Skip("starts 100 writers")
	}
	dir := t.TempDir()
	store, err := indexcache.Open(dir)
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIndexSurvivesKilledWriters$")
		cmd.Env = append(os.Environ(), "MONOFLAKE_INDEX_WRITER="+dir)
		require.NoError(t, cmd.Start())
		// Kill it mid-write, at a different moment each time.
		waitWrites(t, store, i%5+1)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		if data, ok := store.Get(indexcache.Key("shared")); ok {
			require.GreaterOrEqual(t, len(data), 1<<16)
			require.Equal(t, strings.Repeat(string(data[0]), len(data)), string(data), "a read is one writer's whole entry")
		}
	}
}

// waitWrites waits until the entry was replaced n times.
func waitWrites(t *testing.T, store *indexcache.Store, n int) {
	var last string
	for seen := 0; seen < n; {
		if data, ok := store.Get(indexcache.Key("shared")); ok && string(data[:8]) != last {
			last = string(data[:8])
			seen++
		}
	}
}

// A file rewritten within a clock tick of being indexed can keep its size
// and time; the index then compares it by content, and reads the new
// content, where trusting the stats would answer with the old facts.
func TestIndexRacilyCleanFiles(t *testing.T) {
	root, store := indexFixture(t)
	ctx := context.Background()
	b := filepath.Join(root, "b/nix/outputs.nix")
	before := `{ perSystem = { self', ... }: { packages.b = self'.packages.ab; }; }`
	after := `{ perSystem = { self', ... }: { packages.b = self'.packages.a_; }; }`
	require.Len(t, after, len(before))
	require.NoError(t, os.WriteFile(b, []byte(before), 0o644))
	first, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.Len(t, first.AllDiagnostics(), 1)
	info, err := os.Stat(b)
	require.NoError(t, err)
	// The same size, the same inode, the time the index saw.
	require.NoError(t, os.WriteFile(b, []byte(after), 0o644))
	require.NoError(t, os.Chtimes(b, info.ModTime(), info.ModTime()))
	_, ok := Unchanged(ctx, root, store)
	require.False(t, ok, "a racily clean file proves nothing by its stats")
	second, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.Len(t, second.AllDiagnostics(), 1)
	require.Contains(t, second.AllDiagnostics()[0].Message, "a_", "the rewritten content is read")

	// Once the time lies well before the index read it, its stats prove it.
	analysistest.Age(t, root)
	_, err = LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	_, ok = Unchanged(ctx, root, store)
	require.True(t, ok)
}

// In a git work tree, Unchanged lists from git's index alone while no
// directory and no ignore file changed, and still sees every change that
// matters: a new untracked file, a removed one, an ignore rule.
func TestUnchangedInAGitWorkTree(t *testing.T) {
	root, store := indexFixture(t)
	ctx := context.Background()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "x")
	require.NoError(t, os.WriteFile(filepath.Join(root, "a", "untracked.nix"), []byte("{ }"), 0o644))
	analysistest.Age(t, root)
	s, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	h, ok := readPackHeader(store, s.Root)
	require.True(t, ok)
	require.True(t, h.Git)
	require.Equal(t, []string{filepath.Join(root, "a", "untracked.nix")}, h.Untracked)
	_, _, _, quick := quickListing(ctx, s.Root, h)
	require.True(t, quick, "nothing changed: git's index is enough")
	key, ok := Unchanged(ctx, root, store)
	require.True(t, ok)
	require.Equal(t, s.ResultKey(), key)

	for _, tc := range []struct {
		name   string
		change func()
	}{
		{"a new untracked file", func() { require.NoError(t, os.WriteFile(filepath.Join(root, "b", "new.nix"), []byte("{ }"), 0o644)) }},
		{"an untracked file removed", func() { require.NoError(t, os.Remove(filepath.Join(root, "a", "untracked.nix"))) }},
		{"an ignore rule", func() { require.NoError(t, os.WriteFile(filepath.Join(root, ".gitignore"), []byte("*.txt\n"), 0o644)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			analysistest.Age(t, root)
			_, ok := Unchanged(ctx, root, store)
			require.False(t, ok)
			_, err := LoadWith(ctx, root, LoadOptions{Index: store})
			require.NoError(t, err)
			_, ok = Unchanged(ctx, root, store)
			require.True(t, ok, "after loading again the index is current")
		})
	}
}

// The diagnostics a snapshot stores come back, positions included, while
// the repository is unchanged, and not after an edit.
func TestStoredDiagnostics(t *testing.T) {
	root, store := indexFixture(t)
	ctx := context.Background()
	b := filepath.Join(root, "b/nix/outputs.nix")
	// A non-ASCII comment before the reference: byte and UTF-16 columns differ.
	require.NoError(t, os.WriteFile(b, []byte(`{ perSystem = { self', ... }: { packages.b = /* é */ self'.packages.ab; }; }`), 0o644))
	analysistest.Age(t, root)
	_, ok := StoredDiagnostics(store, Prove(ctx, root, store))
	require.False(t, ok, "nothing stored yet")
	s, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	want := s.StoreDiagnostics(store)
	require.Len(t, want, 1)
	require.Equal(t, CodeUnknownOutput, want[0].Code)
	require.Equal(t, 0, want[0].Start.Line)
	require.Equal(t, want[0].Start.Column-1, want[0].Start.UTF16Column, "é is two bytes, one UTF-16 unit")

	got, ok := StoredDiagnostics(store, Prove(ctx, root, store))
	require.True(t, ok)
	require.Equal(t, want, got)

	require.NoError(t, os.WriteFile(b, []byte(`{ perSystem = { self', ... }: { packages.b = self'.packages.a; }; }`), 0o644))
	analysistest.Age(t, root)
	proof := Prove(ctx, root, store)
	_, ok = StoredDiagnostics(store, proof)
	require.False(t, ok, "an edit makes them stale")

	// The load after a failed proof reuses its listing and reads the edit.
	after, err := LoadWith(ctx, root, LoadOptions{Index: store, Proof: &proof})
	require.NoError(t, err)
	require.Empty(t, after.AllDiagnostics(), "the edited reference resolves")
	fresh, err := LoadWith(ctx, root, LoadOptions{Index: store})
	require.NoError(t, err)
	require.Equal(t, fresh.ResultKey(), after.ResultKey())
	require.Equal(t, fresh.Files(), after.Files())
	require.True(t, Prove(ctx, root, store).Key != "", "the load brought the index up to date")
}
