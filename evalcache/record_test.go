package evalcache

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRecordRoundTrip(t *testing.T) {
	r := &record{Root: "/r", Component: "b", ComponentDir: "/r/b", Shell: "b", System: "x86_64-linux", Mode: Scoped,
		NixVersion: "2.8.0", Evaluated: 42, DrvPath: "/nix/store/x.drv", Err: &EvalError{File: "/r/f.nix", Line: 1, Column: 2, Message: "m"},
		Deps: []dep{
			{Path: "/r/a.nix", Size: 10, MTime: 123456789, Inode: 42, Hash: "abc"},
			{Path: "/r/dir", Size: 4096, MTime: 1, Inode: 2, Hash: "def", Dir: true},
			{Path: "/r/odd\tname\n\"x\"", Size: 1, MTime: 2, Inode: 3, Hash: "ghi"},
			{Path: "/r/missing"},
			{Path: "/usr/bin/nix", Size: 5, MTime: 6, Inode: 7, Hash: "stat:5:6:7", Tool: true},
		}}
	data, err := encodeRecord(r)
	require.NoError(t, err)
	got, err := decodeRecord("entry", data)
	require.NoError(t, err)
	require.Equal(t, r, got)

	_, err = decodeRecord("entry", []byte(`{"version":"monoflake-evalcache-0"}`+"\n"))
	require.ErrorIs(t, err, os.ErrNotExist, "entries of another version are misses")
	_, err = decodeRecord("entry", append(data, "garbage\n"...))
	require.Error(t, err)

	// An entry cut short anywhere (a full disk, a power loss) is never
	// read, not even one cut between two dependency lines.
	for n := range len(data) {
		_, err := decodeRecord("entry", data[:n])
		require.Error(t, err, "cut after %d of %d bytes", n, len(data))
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.nix")
	missing := filepath.Join(dir, "later.nix")
	require.NoError(t, os.WriteFile(file, []byte("one"), 0o644))
	deps, err := snapshotDeps([]string{file, missing}, nil, time.Time{})
	require.NoError(t, err)

	steps := []struct {
		name          string
		change        func()
		ok, rewritten bool
	}{
		{"unchanged", func() {}, true, false},
		{"touched", func() {
			later := time.Now().Add(time.Minute)
			require.NoError(t, os.Chtimes(file, later, later))
		}, true, true},
		{"same size, new content", func() { require.NoError(t, os.WriteFile(file, []byte("two"), 0o644)) }, false, false},
		{"created", func() {
			require.NoError(t, os.WriteFile(file, []byte("one"), 0o644))
			require.NoError(t, os.WriteFile(missing, nil, 0o644))
		}, false, false},
	}
	for _, s := range steps {
		s.change()
		fresh, ok, changed := validate(deps)
		require.Equal(t, s.ok, ok, s.name)
		require.Equal(t, s.rewritten, changed, s.name)
		if ok {
			deps = fresh
		}
	}
}

func TestLookupByPath(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "flake.nix"), []byte("{ }"), 0o644))
	for _, d := range []string{"backend/src", "docs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	c, err := Open(Options{Dir: filepath.Join(t.TempDir(), "cache"), DataDir: filepath.Join(t.TempDir(), "data"), Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	require.NoError(t, c.Trust(root))
	// Entries as evaluations leave them: the root's default shell and the
	// backend's shell, each with its environment.
	for _, e := range []struct{ dir, shell string }{{root, "default"}, {filepath.Join(root, "backend"), "backend"}} {
		drv := "/nix/store/00000000000000000000000000000000-" + e.shell + ".drv"
		require.NoError(t, writeAtomic(c.envPath(drv), []byte(`{"bashFunctions":{},"variables":{"SHELL_NAME":{"type":"exported","value":"`+e.shell+`"}}}`)))
		rec := &record{Root: root, Component: filepath.Base(e.dir), ComponentDir: e.dir, Shell: e.shell, System: CurrentSystem(), Mode: Scoped, DrvPath: drv}
		require.NoError(t, writeRecord(c.entryPath(e.dir, Scoped, CurrentSystem()), rec))
	}
	tests := []struct {
		path  string
		shell string // "" for a miss
	}{
		{filepath.Join(root, "backend/src"), "backend"},
		{filepath.Join(root, "backend"), "backend"},
		{root, "default"},
		{filepath.Join(root, "docs"), ""}, // may be a component not evaluated yet
		{t.TempDir(), ""},
	}
	for _, tt := range tests {
		res, req, ok := lookupPath(c, tt.path)
		require.Equal(t, tt.shell != "", ok, tt.path)
		if ok {
			require.Equal(t, tt.shell, req.Shell, tt.path)
			require.Equal(t, tt.shell, res.Env.Variables["SHELL_NAME"].Value, tt.path)
		}
	}
}

// Files written without a sync may be found empty, cut short or filled
// with zeros after a power loss; each reader takes such a file for none
// (or writes it again), never for content.
func TestUnsyncedFilesAfterAPowerLoss(t *testing.T) {
	rec := &record{Root: "/r", Component: "b", ComponentDir: "/r/b", Shell: "b", System: "x86_64-linux", Mode: Scoped,
		NixVersion: "2.8.0", DrvPath: "/nix/store/x.drv", DepCount: 1, Deps: []dep{{Path: "/r/a.nix", Size: 10, MTime: 1, Inode: 2, Hash: "abc"}}}
	entry, err := encodeRecord(rec)
	require.NoError(t, err)
	env := []byte(`{"bashFunctions": {}, "variables": {"A": {"type": "exported", "value": "1"}}}`)
	_, err = ParseEnvironment(env)
	require.NoError(t, err)
	pruned := &Pruned{FlakeSource: []byte("{ outputs = _: { }; }\n")}

	damage := map[string]func([]byte) []byte{
		"empty":       func([]byte) []byte { return nil },
		"cut short":   func(d []byte) []byte { return d[:len(d)/2] },
		"zero-filled": func(d []byte) []byte { return make([]byte, len(d)) },
	}
	for name, damaged := range damage {
		t.Run(name, func(t *testing.T) {
			_, err := decodeRecord("entry", damaged(entry))
			require.Error(t, err, "an entry")
			_, err = ParseEnvironment(damaged(env))
			require.Error(t, err, "an environment")

			l := layout{dir: t.TempDir()}
			path, err := l.writePruned(pruned)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, damaged(pruned.FlakeSource), 0o600))
			again, err := l.writePruned(pruned)
			require.NoError(t, err)
			require.Equal(t, path, again)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(pruned.FlakeSource), string(got), "a damaged pruned flake is written again")

			job := l.checkJobPath("k")
			data, err := json.Marshal(checkJob{Dir: l.dir, Key: "k"})
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(filepath.Dir(job), 0o755))
			require.NoError(t, os.WriteFile(job, damaged(data), 0o600))
			require.Error(t, RunCheck(context.Background(), job))
			require.NoFileExists(t, job, "a damaged job is removed, so nothing waits for it")
		})
	}
}
