package evalcache

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/indexcache"
)

// TestPlanPrunesWithTheModel evaluates every component of the fixture
// through the flake the model prunes, with real nix, and checks that each
// gives the derivation the whole flake gives.
func TestPlanPrunesWithTheModel(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	ctx := context.Background()
	snap, err := analysis.Load(ctx, root)
	require.NoError(t, err)
	for _, comp := range snap.Components() {
		t.Run(comp.Name, func(t *testing.T) {
			req, err := Plan(snap, filepath.Join(comp.Dir, "src"), "", Scoped)
			require.NoError(t, err)
			require.Equal(t, comp.Name, req.Component)
			require.NotNil(t, req.Pruned, "the fixture's flake can be pruned")
			require.Contains(t, req.Files, filepath.Join(root, "flake.nix"))

			whole := req
			whole.Mode, whole.Pruned = Flake, nil
			c, log := testCache(t, root, Options{})
			want, err := c.Get(ctx, whole)
			require.NoError(t, err)
			got, err := c.Get(ctx, req)
			require.NoError(t, err)
			require.True(t, got.Pruned)
			require.Equal(t, want.DrvPath, got.DrvPath)
			require.NoError(t, c.Close())
			require.NotContains(t, log.String(), "level=WARN", "pruning verified without falling back")
		})
	}
	_, err = Plan(snap, root, "nosuch", Scoped)
	require.ErrorContains(t, err, "there is no component nosuch")
	require.ErrorContains(t, err, "analytics, backend, frontend, infra")
}

// EnvironmentFor evaluates on a miss and answers later visits from the
// cache by directory, also for a component named from elsewhere.
func TestEnvironmentFor(t *testing.T) {
	requireTool(t, "nix")
	root := copyFixture(t, "monorepo")
	ctx := context.Background()
	c, _ := testCache(t, root, Options{})
	res, req, err := c.EnvironmentFor(ctx, Query{Path: filepath.Join(root, "backend", "src")})
	require.NoError(t, err)
	require.Equal(t, "backend", req.Component)
	require.Equal(t, Fresh, res.State)
	require.False(t, res.Hit)
	for _, q := range []struct{ path, component string }{
		{filepath.Join(root, "backend"), ""},
		{root, "backend"},
		{filepath.Join(root, "frontend"), "backend"},
	} {
		res, req, err := c.EnvironmentFor(ctx, Query{Path: q.path, Component: q.component})
		require.NoError(t, err)
		require.True(t, res.Hit, "%+v", q)
		require.Equal(t, "backend", req.Component)
	}

	// An untrusted repository is evaluated only when the caller vouches.
	c2, _ := testCache(t, "", Options{})
	res, _, err = c2.EnvironmentFor(ctx, Query{Path: filepath.Join(root, "infra")})
	require.NoError(t, err)
	require.Equal(t, Untrusted, res.State)
	res, _, err = c2.EnvironmentFor(ctx, Query{Path: filepath.Join(root, "infra"), Vouched: true})
	require.NoError(t, err)
	require.Equal(t, Fresh, res.State)
}

// A miss plans through the model's index: the plan of an unchanged
// repository is the stored one, and any change is planned afresh.
func TestPlanThroughTheIndex(t *testing.T) {
	root := copyFixture(t, "monorepo")
	c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir()})
	require.NoError(t, err)
	ctx := context.Background()
	backend := filepath.Join(root, "backend")
	want, err := PlanPath(ctx, backend, "", Scoped)
	require.NoError(t, err)
	first, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.Equal(t, want, first)
	key, ok := analysis.Unchanged(ctx, backend, c.index)
	require.True(t, ok, "planning brought the index up to date")
	_, stored := c.index.Get(indexcache.Key("plan", cacheVersion, key, backend, "", string(Scoped)))
	require.True(t, stored, "the plan is stored under the repository's result key")
	again, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.NotNil(t, again.replan, "the second plan comes from the plan record")
	require.True(t, samePlan(want, again))

	// Give backend a devShell named like a new component's: the plan changes.
	outputs := filepath.Join(root, "backend", "nix", "outputs.nix")
	editFile(t, outputs, "devShells.backend", "devShells.server")
	changed, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.Equal(t, "server", changed.Shell)
}

// A recorded plan stands while the files it was made from are unchanged,
// whatever happens elsewhere in the repository; a change to one of them
// plans the repository whole.
func TestPlanRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, root string)
		record bool // the plan still comes from the record
	}{
		{"nothing changed", func(*testing.T, string) {}, true},
		{"a file outside the closure edited", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "frontend", "nix", "outputs.nix"), "{", "{ ")
		}, true},
		{"a closure file touched, content the same", func(t *testing.T, root string) {
			touchLater(t, filepath.Join(root, "backend", "nix", "outputs.nix"))
		}, true},
		{"an editor's swap file beside a closure file", func(t *testing.T, root string) {
			createFile(t, filepath.Join(root, "backend", ".outputs.nix.swp"), "x")
		}, true},
		{"a closure file edited where the model reads nothing", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "backend", "nix", "outputs.nix"), `name = "backend-1.4.0"`, `name = "backend-1.5.0"`)
		}, true},
		{"a closure file given paths it uses without importing them", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "backend", "nix", "outputs.nix"), "cargoToml = ../Cargo.toml;",
				"cargoToml = ../Cargo.toml; patches = [ ../src ]; motd = builtins.readFile ../Cargo.toml;")
		}, true},
		{"a closure file given a path it imports", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "backend", "nix", "outputs.nix"), "cargoToml = ../Cargo.toml;",
				"cargoToml = ../Cargo.toml; extra = builtins.typeOf (import ../../nix/pkgs.nix);")
		}, false},
		{"a closure file edited where the model reads", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "backend", "nix", "outputs.nix"), "buildInputs = [ self'.packages.backend ]", "buildInputs = [ self'.packages.frontend ]")
		}, false},
		{"a closure file given a syntax error", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "backend", "nix", "outputs.nix"), "perSystem =", "perSystem = =")
		}, false},
		{"the root flake.nix reformatted", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "flake.nix"), "{", "{ ")
		}, false},
		{"flake.lock edited", func(t *testing.T, root string) {
			editFile(t, filepath.Join(root, "flake.lock"), "{", "{ ")
		}, false},
		{"the configuration created", func(t *testing.T, root string) {
			createFile(t, filepath.Join(root, analysis.ConfigFile), "{}")
		}, false},
		{"a flake.nix created in the component's folder", func(t *testing.T, root string) {
			createFile(t, filepath.Join(root, "backend", "flake.nix"), "{ outputs = _: { }; }")
		}, false},
		{"a Nix file created in the component's folder", func(t *testing.T, root string) {
			createFile(t, filepath.Join(root, "backend", "default.nix"), "{ }")
		}, false},
		{"a closure file removed", func(t *testing.T, root string) {
			require.NoError(t, os.Remove(filepath.Join(root, "backend", "nix", "outputs.nix")))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := copyFixture(t, "monorepo")
			c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir()})
			require.NoError(t, err)
			ctx := context.Background()
			backend := filepath.Join(root, "backend")
			first, err := c.plan(ctx, backend, "", Scoped)
			require.NoError(t, err)
			require.Nil(t, first.replan, "nothing was recorded yet")
			tc.change(t, root)
			req, err := c.plan(ctx, backend, "", Scoped)
			if !tc.record {
				// Planned whole: whatever the answer, it is not the record's.
				require.True(t, err != nil || req.replan == nil)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, req.replan, "answered from the record")
			require.Equal(t, backend, req.replan.Path)
			require.True(t, samePlan(first, req))
			whole, err := c.planWhole(ctx, backend, "", Scoped)
			require.NoError(t, err)
			require.True(t, samePlan(whole, req), "the record's plan is the one the whole repository gives")
			again, ok := c.recordedPlan(backend, "", Scoped)
			require.True(t, ok, "the record stands after the whole plan is recorded again")
			require.True(t, samePlan(whole, again))
		})
	}
}

// A plan made right after a save (the file's time within a clock tick of
// the plan) is recorded all the same: the record pairs the file with the
// content the plan was made from, and compares it by content next time.
func TestPlanRecordAfterASave(t *testing.T) {
	root := copyFixture(t, "monorepo")
	c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir()})
	require.NoError(t, err)
	ctx := context.Background()
	backend := filepath.Join(root, "backend")
	_, err = c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	outputs := filepath.Join(root, "backend", "nix", "outputs.nix")
	editFile(t, outputs, "buildInputs = [ self'.packages.backend ]", "buildInputs = [ self'.packages.frontend ]")
	saved, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.Nil(t, saved.replan, "the edit changed what a plan depends on: planned whole")
	info, err := os.Stat(outputs)
	require.NoError(t, err)
	require.Less(t, time.Since(info.ModTime()), time.Second, "the save is recent")

	again, ok := c.recordedPlan(backend, "", Scoped)
	require.True(t, ok, "the whole plan was recorded")
	require.True(t, samePlan(saved, again))
	// Rewritten within the tick to other content the model reads: the
	// record compares by content and does not hold.
	editFile(t, outputs, "buildInputs = [ self'.packages.frontend ]", "buildInputs = [ self'.packages.backend ]")
	_, ok = c.recordedPlan(backend, "", Scoped)
	require.False(t, ok)
}

// A damaged or foreign plan record is a miss, never a plan.
func TestPlanRecordDamaged(t *testing.T) {
	root := copyFixture(t, "monorepo")
	c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir()})
	require.NoError(t, err)
	ctx := context.Background()
	backend, frontend := filepath.Join(root, "backend"), filepath.Join(root, "frontend")
	_, err = c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	_, err = c.plan(ctx, frontend, "", Scoped)
	require.NoError(t, err)
	path := c.index.PathOf(planRecordKey(backend, "", Scoped))
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(path, data[:len(data)/2], 0o644))
	_, ok := c.recordedPlan(backend, "", Scoped)
	require.False(t, ok, "a record cut short")
	// The frontend's record in the backend's place: its header names
	// another key.
	other, err := os.ReadFile(c.index.PathOf(planRecordKey(frontend, "", Scoped)))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, other, 0o644))
	_, ok = c.recordedPlan(backend, "", Scoped)
	require.False(t, ok, "a foreign record")
	req, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.Equal(t, "backend", req.Component, "planned whole again")
	require.Nil(t, req.replan)
}

// Planning again after the answer: a recorded plan that the whole
// repository no longer gives marks the entry for a new evaluation, and the
// next plan is the new one; one that still holds changes nothing.
func TestReplan(t *testing.T) {
	root := copyFixture(t, "monorepo")
	log := &syncBuffer{}
	c, err := Open(Options{Dir: t.TempDir(), DataDir: t.TempDir(), Log: log})
	require.NoError(t, err)
	ctx := context.Background()
	backend := filepath.Join(root, "backend")
	want, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	entry := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "entry")
		require.NoError(t, writeRecord(path, &record{Version: cacheVersion, Root: root, Evaluated: 7}))
		return path
	}
	retried := func(t *testing.T, path string) bool {
		rec, err := readRecord(path)
		require.NoError(t, err)
		return rec.Retry
	}

	current := entry(t)
	c.replan(ctx, checkJob{Entry: current, Evaluated: 7, Request: want, Replan: &planQuery{Path: backend}})
	require.False(t, retried(t, current), "the plan still holds")
	evaluated := entry(t)
	c.replan(ctx, checkJob{Entry: evaluated, Evaluated: 7, Request: normalized(t, want), Replan: &planQuery{Path: backend}})
	require.False(t, retried(t, evaluated), "the plan as evaluated, defaults filled in, still holds")

	stale := want
	stale.Files = stale.Files[:len(stale.Files)-1]
	stale.Shell = "old"
	outdated := entry(t)
	c.replan(ctx, checkJob{Entry: outdated, Evaluated: 7, Request: stale, Replan: &planQuery{Path: backend}})
	require.True(t, retried(t, outdated), "the entry of an outdated plan is evaluated again")
	require.Contains(t, log.String(), "the recorded plan was out of date")
	next, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.True(t, samePlan(want, next))

	// An entry evaluated again since the job was made is left alone.
	again := entry(t)
	c.replan(ctx, checkJob{Entry: again, Evaluated: 6, Request: stale, Replan: &planQuery{Path: backend}})
	require.False(t, retried(t, again))
}

// touchLater gives a file a new modification time, content unchanged.
func touchLater(t *testing.T, path string) {
	t.Helper()
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, later, later))
}

func createFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
