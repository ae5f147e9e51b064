package evalcache

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/monoflake/monoflake/tools/genrepo"
	"github.com/stretchr/testify/require"
)

// BenchmarkRemoteHit: a developer with a clean cache and an empty store
// (a chroot store of its own each run) asks for a component CI published,
// against evaluating it locally under the same conditions, which builds
// what the shell needs too; at 10 and 1,000 components, measured
// round-robin. For scale it also times the local cold evaluation with
// every derivation already built (BenchmarkScaling's case).
func BenchmarkRemoteHit(b *testing.B) {
	b.Setenv("NIX_CONFIG", evaltest.NixConfig)
	ctx := context.Background()
	dir := b.TempDir()
	secret, public := filepath.Join(dir, "key.sec"), filepath.Join(dir, "key.pub")
	out, err := exec.Command("nix-store", "--generate-binary-cache-key", "monoflake-bench-1", secret, public).CombinedOutput()
	require.NoError(b, err, "%s", out)
	pub := strings.TrimSpace(string(must(exec.Command("cat", public).Output())))

	type subject struct {
		req                 Request
		remote, local, warm []time.Duration
		env                 *Environment
	}
	sizes := []int{10, 1000}
	subjects := map[int]*subject{}
	for _, n := range sizes {
		repo := benchRepo(b, genrepo.Options{Components: n})
		comp := oneDependency(b, repo)
		cacheDir := filepath.Join(b.TempDir(), "cache")
		req := Request{Root: repo.Root, Component: comp.Name, ComponentDir: filepath.Join(repo.Root, comp.Name), Shell: comp.Name,
			System: "x86_64-linux", TeamCache: "file://" + cacheDir}
		req.Pruned = prunedFor(b, repo.Root, evaltest.ClosureModules(repo, comp.Name)...)
		ci := benchCache(b, repo.Root)
		pubn, err := ci.Publish(ctx, []Request{req}, PublishOptions{To: req.TeamCache, SecretKeyFile: secret})
		require.NoError(b, err)
		require.Empty(b, pubn.Shells[0].Skipped)
		require.NotEmpty(b, pubn.Index)
		want, err := ci.Get(ctx, req)
		require.NoError(b, err)
		require.NoError(b, ci.Close())
		subjects[n] = &subject{req: req, env: want.Env}
	}
	developerGet := func(s *subject, teamCache string) (time.Duration, *Result) {
		nix := evaltest.NewCountingNix(b, pub, "")
		c, err := Open(Options{Dir: filepath.Join(b.TempDir(), "cache"), DataDir: filepath.Join(b.TempDir(), "data"), Nix: nix.Nix})
		require.NoError(b, err)
		defer c.Close()
		require.NoError(b, c.Trust(s.req.Root))
		req := s.req
		req.TeamCache = teamCache
		start := time.Now()
		res, err := c.Get(ctx, req)
		d := time.Since(start)
		require.NoError(b, err)
		require.Equal(b, Fresh, res.State, "%v", res.Err)
		if teamCache != "" {
			require.Equal(b, teamCache, res.Remote, res.RemoteMiss)
			require.Empty(b, nix.Evaluations(b))
		}
		return d, res
	}
	for range benchRuns {
		for _, n := range sizes {
			s := subjects[n]
			d, res := developerGet(s, s.req.TeamCache)
			require.Equal(b, s.env, res.Env)
			s.remote = append(s.remote, d)
			d, _ = developerGet(s, "")
			s.local = append(s.local, d)
		}
	}
	for _, n := range sizes {
		s := subjects[n]
		ci := benchCache(b, s.req.Root)
		req := s.req
		req.TeamCache = ""
		_, err := ci.Get(ctx, req)
		require.NoError(b, err)
		for range benchRuns {
			d, _ := coldGet(b, ci, req)
			s.warm = append(s.warm, d)
		}
		require.NoError(b, ci.Close())
		remote, local, warm := median(s.remote), median(s.local), median(s.warm)
		b.ReportMetric(ms(remote), fmt.Sprintf("ms-remote/%d", n))
		b.ReportMetric(float64(local)/float64(remote), fmt.Sprintf("x-faster/%d", n))
		fmt.Printf("remote hit at %d components: %.1f ms against a local cold evaluation in an empty store %.1f ms (%.2fx); local cold evaluation with everything built %.1f ms\n",
			n, ms(remote), ms(local), float64(local)/float64(remote), ms(warm))
	}
}

func must(data []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return data
}
