package evalcache

import (
	"context"
	"path/filepath"
	"testing"

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
	require.Equal(t, want, again)

	// Give backend a devShell named like a new component's: the plan changes.
	outputs := filepath.Join(root, "backend", "nix", "outputs.nix")
	editFile(t, outputs, "devShells.backend", "devShells.server")
	changed, err := c.plan(ctx, backend, "", Scoped)
	require.NoError(t, err)
	require.Equal(t, "server", changed.Shell)
}
