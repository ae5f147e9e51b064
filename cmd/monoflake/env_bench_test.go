package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/monoflake/monoflake/evalcache"
	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/monoflake/monoflake/tools/genrepo"
	"github.com/stretchr/testify/require"
)

// BenchmarkEnvHit times `monoflake env` on a cache hit in a 5,000-component
// repository, for the whole process, against the cheapest thing nix does
// for a devShell it has already built (`nix print-dev-env` of the
// derivation, no evaluation) and against starting a shell. Anchors from
// elsewhere: nix-direnv's cached load is reported at 260-450 ms, devenv's
// at 70 ms.
//
// The entry is created the way the server and the model will create it: a
// pruned evaluation, whose entry depends on the component's closure. An
// entry of an unpruned evaluation depends on every module of the
// repository; its hit is timed too.
func BenchmarkEnvHit(b *testing.B) {
	evaltest.RequireTool(b, "nix")
	b.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "monoflake")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(b, err, "%s", out)
	repo, err := genrepo.Generate(filepath.Join(tmp, "repo"), genrepo.Options{Components: 5000, Git: true})
	require.NoError(b, err)
	// Components from the middle of the repository whose shells build
	// little: the benchmark is about the hit, not the first build.
	var comps []genrepo.Component
	for _, c := range repo.WithDependencies(0)[len(repo.WithDependencies(0))/2:] {
		if slices.Contains(c.Outputs, "devShells") && len(comps) < 2 {
			comps = append(comps, c)
		}
	}
	require.Len(b, comps, 2)
	pruned, unpruned := filepath.Join(repo.Root, comps[0].Name), filepath.Join(repo.Root, comps[1].Name)

	vars := map[string]string{"XDG_CACHE_HOME": filepath.Join(tmp, "cache"), "XDG_DATA_HOME": filepath.Join(tmp, "data")}
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	cache, err := evalcache.Open(evalcache.Options{Getenv: func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return os.Getenv(k)
	}})
	require.NoError(b, err)
	require.NoError(b, cache.Trust(repo.Root))
	// Builders killed by load elsewhere fail a build now and then; a build
	// failure is retried on the next request, so try again.
	get := func(req evalcache.Request) *evalcache.Result {
		var res *evalcache.Result
		for range 3 {
			if res, err = cache.Get(context.Background(), req); err == nil && res.State == evalcache.Fresh {
				break
			}
		}
		require.NoError(b, err)
		require.Equal(b, evalcache.Fresh, res.State, "%v", res.Err)
		return res
	}
	req := evalcache.Request{Root: repo.Root, Component: comps[0].Name, ComponentDir: pruned, Shell: comps[0].Name}
	src, modules := evaltest.PrunedFlake(b, repo.Root, evaltest.ClosureModules(repo, comps[0].Name)...)
	req.Pruned = &evalcache.Pruned{FlakeSource: src, Modules: modules}
	res := get(req)
	require.True(b, res.Pruned)
	// Without pruning, the entry depends on every module of the repository.
	full := get(evalcache.Request{Root: repo.Root, Component: comps[1].Name, ComponentDir: unpruned, Shell: comps[1].Name})
	require.NoError(b, cache.Close())

	const runs = 21
	timeCmd := func(name string, args ...string) time.Duration {
		var ds []time.Duration
		for range runs {
			cmd := exec.Command(name, args...)
			cmd.Env = env
			start := time.Now()
			out, err := cmd.Output()
			ds = append(ds, time.Since(start))
			require.NoError(b, err, "%s %v", name, args)
			require.NotEmpty(b, out)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	hit := timeCmd(bin, "env", filepath.Join(pruned, "nix", "outputs.nix"))
	hitUnpruned := timeCmd(bin, "env", unpruned)
	nixCached := timeCmd("nix", "print-dev-env", "--json", res.DrvPath)
	floor := timeCmd("/bin/sh", "-c", "echo x")

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(hit), "ms-hit")
	b.ReportMetric(ms(hitUnpruned), "ms-hit-unpruned")
	b.ReportMetric(ms(nixCached), "ms-nix-cached")
	b.ReportMetric(float64(nixCached)/float64(hit), "x-faster-than-nix")
	fmt.Printf("cache hit, 5000 components: monoflake env %.1f ms median for the whole process (entry of %d files; an unpruned entry of %d files: %.1f ms); starting sh %.1f ms; nix print-dev-env of the built derivation %.1f ms: %.1fx faster\n",
		ms(hit), len(res.Files), len(full.Files), ms(hitUnpruned), ms(floor), ms(nixCached), float64(nixCached)/float64(hit))
}
