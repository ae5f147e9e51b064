package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache"
	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/monoflake/monoflake/tools/genrepo"
)

// Benchmarks of whole processes, as users run them: the direnv hook's
// `monoflake env`, `monoflake check` in CI, an editor starting `monoflake
// serve`. Each execs the built binary (or nix), takes the wall time (best of
// processRuns) and the peak RSS from the child's rusage (the largest of the
// process and of the children it waited for, nix included), on repositories
// generated on the real flake-parts and nixpkgs lib (../shared/nixlibs, or
// $MONOFLAKE_NIXLIBS). Every goal is a ratio against a baseline measured in
// the same run; sizes are measured round-robin so that load from elsewhere
// hits them alike.
//
//	go test -run '^$' -bench Process -benchtime 1x -timeout 60m ./cmd/monoflake
//
// nix's store holds the built derivations and the inputs' sources before
// anything is timed, for monoflake and for nix alike: the figures are about
// evaluating, not building.

// processRuns is how many times each process is timed; the fastest counts.
const processRuns = 3

// processSizes are the repository sizes, in components; the first is the
// baseline of the others.
var processSizes = []int{10, 1000, 5000}

// usage is what one process cost.
type usage struct {
	wall time.Duration
	rss  int64 // bytes
}

// fastest keeps the fastest wall time of several runs, and the highest
// peak RSS among them.
type fastest struct{ usage }

func (f *fastest) add(u usage) {
	if f.wall == 0 || u.wall < f.wall {
		f.wall = u.wall
	}
	f.rss = max(f.rss, u.rss)
}

func (f fastest) String() string {
	return fmt.Sprintf("%.1f ms (%.0f MB)", ms(f.wall), float64(f.rss)/(1<<20))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ratio is a over b, for the figures.
func ratio(a, b fastest) float64 { return float64(a.wall) / float64(b.wall) }

// timeProcess runs a command to its end and returns what it cost and
// printed; a failure fails the benchmark with its stderr.
func timeProcess(b *testing.B, dir string, env []string, name string, args ...string) (usage, []byte) {
	b.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	require.NoError(b, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return usage{wall: wall, rss: maxRSS(cmd.ProcessState)}, stdout.Bytes()
}

// maxRSS is the peak resident set of an ended process and of the children
// it waited for, in bytes (Linux counts ru_maxrss in KiB).
func maxRSS(st *os.ProcessState) int64 {
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}

// processBench is what every process benchmark shares: the binary, the
// real libraries, and a data folder whose trust outlives emptied caches.
type processBench struct {
	b    *testing.B
	bin  string
	libs string
	data string
}

func newProcessBench(b *testing.B) *processBench {
	evaltest.RequireTool(b, "nix")
	evaltest.RequireTool(b, "git")
	libs, err := genrepo.FindNixLibs()
	if err != nil {
		b.Skipf("skipping the process benchmarks, which need the real flake-parts: %v", err)
	}
	// genrepo's nix locks the libraries offline too.
	b.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "monoflake")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(b, err, "%s", out)
	return &processBench{b: b, bin: bin, libs: libs, data: filepath.Join(tmp, "data")}
}

// processRepo is a generated repository with a cache folder of its own, and
// the component the benchmarks ask for: one with exactly one dependency,
// which has none, so its closure is the same at every size.
type processRepo struct {
	p    *processBench
	size int // components
	repo *genrepo.Repo
	comp genrepo.Component
	dir  string // the component's folder
	// warned is a file with a diagnostic, which a server may publish
	// before it has loaded the repository.
	warned string
	cache  string // MONOFLAKE_CACHE_DIR
	env    []string
	// originals are files as they were before replaceIn first changed them.
	originals map[string][]byte
}

// repository generates a committed repository of n components on the real
// libraries, trusts it, and evaluates the component once, so that nix's
// store holds what it builds and its pruning check is recorded.
func (p *processBench) repository(n int, opt genrepo.Options) *processRepo {
	b := p.b
	tmp := b.TempDir()
	opt.Components, opt.Git = n, true
	opt.NixLibs, opt.InputsDir = p.libs, filepath.Join(tmp, "inputs")
	repo, err := genrepo.Generate(filepath.Join(tmp, "repo"), opt)
	require.NoError(b, err)
	notes := filepath.Join(repo.Root, "NOTES.md")
	require.NoError(b, os.WriteFile(notes, []byte("# Notes\n"), 0o644))
	warned := withWarning(b, repo)
	evaltest.Git(b, repo.Root, "add", "-A")
	evaltest.Git(b, repo.Root, "commit", "-q", "-m", "notes")

	r := &processRepo{p: p, size: n, repo: repo, warned: warned, cache: filepath.Join(tmp, "cache")}
	// Detached checks write into the cache folder until they end; the
	// folder is removed after this (cleanups run last-registered first).
	b.Cleanup(r.waitChecks)
	r.comp = oneDependency(b, repo)
	r.dir = filepath.Join(repo.Root, r.comp.Name)
	r.env = append(os.Environ(), "MONOFLAKE_CACHE_DIR="+r.cache, "XDG_DATA_HOME="+p.data, "NIX_CONFIG="+os.Getenv("NIX_CONFIG"))
	r.monoflake("trust", repo.Root)
	// A builder killed by load elsewhere fails a build now and then; such a
	// failure is never cached, so the next run builds again.
	for attempt := 1; ; attempt++ {
		cmd := exec.Command(p.bin, "env", r.dir)
		cmd.Dir, cmd.Env = repo.Root, r.env
		out, err := cmd.CombinedOutput()
		if err == nil {
			break
		}
		require.Less(b, attempt, 3, "monoflake env %s: %s", r.dir, out)
	}
	r.waitChecks()
	verified, _ := os.ReadDir(filepath.Join(r.cache, "verified"))
	require.NotEmpty(b, verified, "the pruning check of %s agrees with the whole flake", r.comp.Name)
	return r
}

// withWarning gives the last component's package a path that does not
// exist (a warning, since nothing may ever read it; no shell evaluated
// here does) and returns the file.
func withWarning(b *testing.B, repo *genrepo.Repo) string {
	last := repo.Components[len(repo.Components)-1]
	file := filepath.Join(repo.Root, last.Name, "nix", "package.nix")
	data, err := os.ReadFile(file)
	require.NoError(b, err)
	const at = "pkgs.mkDerivation {\n"
	require.Contains(b, string(data), at)
	data = []byte(strings.Replace(string(data), at, at+"  src = ../missing-src;\n", 1))
	require.NoError(b, os.WriteFile(file, data, 0o644))
	return file
}

// oneDependency picks a component that references exactly one component,
// which references none.
func oneDependency(b *testing.B, repo *genrepo.Repo) genrepo.Component {
	for _, c := range repo.WithDependencies(1) {
		if dep, ok := repo.Component(c.Dependencies[0]); ok && len(dep.Dependencies) == 0 {
			return c
		}
	}
	b.Fatal("no component with exactly one dependency")
	return genrepo.Component{}
}

// monoflake runs the binary in the repository and returns what it cost and
// printed.
func (r *processRepo) monoflake(args ...string) (usage, []byte) {
	r.p.b.Helper()
	return timeProcess(r.p.b, r.repo.Root, r.env, r.p.bin, args...)
}

// waitChecks waits for the pruning checks that the last evaluations left
// running in processes of their own: they compete for the cores, and their
// cache folder must not be emptied under them. A check removes its job
// file when it ends.
func (r *processRepo) waitChecks() {
	b := r.p.b
	deadline := time.Now().Add(10 * time.Minute)
	for {
		jobs, _ := filepath.Glob(filepath.Join(r.cache, "checks", "*.json"))
		if len(jobs) == 0 {
			return
		}
		require.True(b, time.Now().Before(deadline), "pruning checks still running: %v", jobs)
		time.Sleep(20 * time.Millisecond)
	}
}

// keptWhenCold is what a cold environment cache still holds: the model's
// index and the nix/ folder (the evaluation helper and what the nix binary's
// --version said), which are the same for every environment.
func keptWhenCold() []string { return []string{"index", "nix"} }

// emptyCache removes what the cache folder holds except the named
// entries, once no check uses it.
func (r *processRepo) emptyCache(keep ...string) {
	r.waitChecks()
	entries, err := os.ReadDir(r.cache)
	require.NoError(r.p.b, err)
	for _, e := range entries {
		if !contains(keep, e.Name()) {
			require.NoError(r.p.b, os.RemoveAll(filepath.Join(r.cache, e.Name())))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// appendTo adds a line to a file of the repository, a new content each time.
func (r *processRepo) appendTo(rel, line string) {
	f, err := os.OpenFile(filepath.Join(r.repo.Root, rel), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(r.p.b, err)
	fmt.Fprintf(f, "%s %d\n", line, time.Now().UnixNano())
	require.NoError(r.p.b, f.Close())
}

// replaceIn rewrites a file of the repository from the content it had
// when first replaced in, with old replaced by new.
func (r *processRepo) replaceIn(rel, old, new string) {
	path := filepath.Join(r.repo.Root, rel)
	if r.originals == nil {
		r.originals = map[string][]byte{}
	}
	orig, ok := r.originals[path]
	if !ok {
		data, err := os.ReadFile(path)
		require.NoError(r.p.b, err)
		orig, r.originals[path] = data, data
	}
	require.Contains(r.p.b, string(orig), old)
	require.NoError(r.p.b, os.WriteFile(path, []byte(strings.Replace(string(orig), old, new, 1)), 0o644))
}

// nixPrintDevEnv times `nix print-dev-env` of the component's shell after an
// unrelated edit, a tracked file no shell reads: nix copies the tree into
// the store again and its evaluation cache does not answer.
func (r *processRepo) nixPrintDevEnv() (usage, []byte) {
	r.appendTo("NOTES.md", "edit")
	return timeProcess(r.p.b, r.repo.Root, r.env, "nix", "print-dev-env", "--json", ".#devShells.x86_64-linux."+r.comp.Name)
}

// requireSameEnvironment checks that monoflake env --format json printed
// the variables nix printed.
func requireSameEnvironment(b *testing.B, monoflakeJSON, nixJSON []byte) {
	var out struct {
		Environment json.RawMessage `json:"environment"`
	}
	require.NoError(b, json.Unmarshal(monoflakeJSON, &out))
	got, err := evalcache.ParseEnvironment(out.Environment)
	require.NoError(b, err)
	want, err := evalcache.ParseEnvironment(nixJSON)
	require.NoError(b, err)
	require.Equal(b, want.Variables, got.Variables, "monoflake env prints what nix print-dev-env prints")
}

// eachSize runs f on every repository in turn, processRuns times, and
// returns the fastest run of each.
func eachSize(repos []*processRepo, f func(*processRepo) usage) []fastest {
	best := make([]fastest, len(repos))
	for range processRuns {
		for i, r := range repos {
			// Every repository's detached work, not only this one's: the
			// pruning check at 5,000 takes both cores for seconds, and
			// would slow the next size's run, the smallest's first.
			for _, o := range repos {
				o.waitChecks()
			}
			best[i].add(f(r))
		}
	}
	return best
}

// BenchmarkProcess: `monoflake env`, `check` and `serve` at 10, 1,000 and
// 5,000 components.
func BenchmarkProcess(b *testing.B) {
	p := newProcessBench(b)
	var repos []*processRepo
	for _, n := range processSizes {
		repos = append(repos, p.repository(n, genrepo.Options{}))
	}
	small, big := repos[0], repos[len(repos)-1]
	// bySize reports each size against the smallest.
	bySize := func(b *testing.B, what string, rs []*processRepo, f []fastest) {
		line := what + ":"
		for i, r := range rs {
			line += fmt.Sprintf(" %d: %s", r.size, f[i])
			if i > 0 {
				b.ReportMetric(ratio(f[i], f[0]), fmt.Sprintf("x%d/%d", r.size, rs[0].size))
				line += fmt.Sprintf(" = %.2fx", ratio(f[i], f[0]))
			}
			line += ";"
		}
		b.ReportMetric(ms(f[len(f)-1].wall), fmt.Sprintf("ms/%d", rs[len(rs)-1].size))
		fmt.Println(strings.TrimSuffix(line, ";"))
	}

	// The answer from the cache: the direnv hook on every prompt.
	b.Run("EnvHit", func(b *testing.B) {
		rs := []*processRepo{small, big}
		hits := eachSize(rs, func(r *processRepo) usage {
			u, _ := r.monoflake("env", r.dir)
			return u
		})
		bySize(b, "env cache hit", rs, hits)
	})

	// An empty environment cache with the index current: what a miss
	// costs once the repository was indexed by any process.
	b.Run("EnvCold", func(b *testing.B) {
		cold := eachSize(repos, func(r *processRepo) usage {
			r.emptyCache(keptWhenCold()...)
			u, _ := r.monoflake("env", r.dir)
			return u
		})
		bySize(b, "cold env, index current", repos, cold)
		var nix fastest
		var nixOut []byte
		for range processRuns {
			u, out := big.nixPrintDevEnv()
			nix.add(u)
			nixOut = out
		}
		big.emptyCache(keptWhenCold()...)
		_, mine := big.monoflake("env", "--format", "json", big.dir)
		requireSameEnvironment(b, mine, nixOut)
		speedup := ratio(nix, cold[len(cold)-1])
		b.ReportMetric(speedup, "x-faster-than-nix")
		fmt.Printf("cold env at %d vs nix print-dev-env after an unrelated edit %s: %.1fx faster\n", big.size, nix, speedup)
	})

	// The component's own package.nix edited: the entry is stale and the
	// plan is made again from the index, which reads that one file.
	b.Run("EnvAfterEdit", func(b *testing.B) {
		edited := eachSize(repos, func(r *processRepo) usage {
			// The last run's work after its answer (planning the whole
			// repository again) would slow this one.
			r.waitChecks()
			r.appendTo(filepath.Join(r.comp.Name, "nix", "package.nix"), "# edit")
			u, _ := r.monoflake("env", r.dir)
			return u
		})
		bySize(b, "env after editing the component's package.nix", repos, edited)
	})

	// The same file's attribute that holds a path it uses without
	// importing it pointed at another file each time, which no plan looks
	// at: the record's plan stands, for a parse of the file. (The attribute
	// is added first, unmeasured: a new attribute name is a name of the
	// scope callPackage'd files may take, which a plan does depend on.)
	b.Run("EnvAfterPathEdit", func(b *testing.B) {
		pathTo := func(r *processRepo, target string) {
			r.replaceIn(filepath.Join(r.comp.Name, "nix", "package.nix"), "owner = meta.owner;", "owner = meta.owner; extraSource = "+target+";")
		}
		for _, r := range repos {
			r.waitChecks()
			pathTo(r, "./package.nix")
			r.monoflake("env", r.dir)
		}
		turn := map[*processRepo]int{}
		edited := eachSize(repos, func(r *processRepo) usage {
			r.waitChecks()
			turn[r]++ // each repository's first turn changes the path the warm-up set
			pathTo(r, []string{"./package.nix", "./shell.nix"}[turn[r]%2])
			u, _ := r.monoflake("env", r.dir)
			return u
		})
		bySize(b, "env after a path package.nix does not import is changed", repos, edited)
	})

	// The same file edited where a plan may look (an import of another
	// file each time): the plan is made from the whole repository, through
	// the index.
	b.Run("EnvAfterFactsEdit", func(b *testing.B) {
		round := 0
		edited := eachSize(repos, func(r *processRepo) usage {
			r.waitChecks()
			round++
			target := []string{"./package.nix", "./shell.nix"}[round%2]
			r.replaceIn(filepath.Join(r.comp.Name, "nix", "package.nix"), "owner = meta.owner;", "owner = meta.owner; extraSource = builtins.typeOf (import "+target+");")
			u, _ := r.monoflake("env", r.dir)
			return u
		})
		bySize(b, "env after an edit of package.nix a plan may depend on", repos, edited)
	})

	// Nothing cached at all: a repository's first run.
	b.Run("EnvFirstRun", func(b *testing.B) {
		first := eachSize(repos, func(r *processRepo) usage {
			r.emptyCache()
			u, _ := r.monoflake("env", r.dir)
			return u
		})
		bySize(b, "first env, nothing cached", repos, first)
	})

	// check in CI on an unchanged repository, against a cold one.
	b.Run("Check", func(b *testing.B) {
		big.waitChecks()
		var cold, warm fastest
		for range processRuns {
			require.NoError(b, os.RemoveAll(filepath.Join(big.cache, "index")))
			u, _ := big.monoflake("check", big.repo.Root)
			cold.add(u)
			u, _ = big.monoflake("check", big.repo.Root)
			warm.add(u)
		}
		b.ReportMetric(ms(warm.wall), "ms-unchanged")
		b.ReportMetric(ratio(warm, cold), "unchanged/cold")
		fmt.Printf("check at %d: unchanged %s, cold %s: %.0f%% of cold\n", big.size, warm, cold, 100*ratio(warm, cold))
	})

	// An editor starting the server on the repository and opening a file
	// without problems, or one with a warning.
	b.Run("ServeFirstDiagnostics", func(b *testing.B) {
		big.waitChecks()
		clean := filepath.Join(big.dir, "nix", "outputs.nix")
		var cold, warm, warned fastest
		for range processRuns {
			require.NoError(b, os.RemoveAll(filepath.Join(big.cache, "index")))
			cold.add(firstDiagnostics(b, p.bin, big.env, big.repo.Root, clean, 0))
			warm.add(firstDiagnostics(b, p.bin, big.env, big.repo.Root, clean, 0))
			warned.add(firstDiagnostics(b, p.bin, big.env, big.repo.Root, big.warned, 1))
		}
		b.ReportMetric(ms(warm.wall), "ms-first-diagnostics")
		b.ReportMetric(ms(warned.wall), "ms-first-diagnostics-warned")
		b.ReportMetric(ratio(warm, cold), "index/cold")
		fmt.Printf("serve at %d, initialize to first diagnostics: index current %s (a file with a warning: %s), cold %s: %.2fx\n",
			big.size, warm, warned, cold, ratio(warm, cold))
	})
}

// BenchmarkProcessLargeTree: cold `monoflake env` (index current) in a
// repository with 300 MB of tracked files that are not Nix, against `nix
// print-dev-env` after an unrelated edit.
func BenchmarkProcessLargeTree(b *testing.B) {
	p := newProcessBench(b)
	r := p.repository(10, genrepo.Options{BlobBytes: 300 << 20})
	var scoped, nix fastest
	var nixOut []byte
	for range processRuns {
		r.emptyCache(keptWhenCold()...)
		u, _ := r.monoflake("env", r.dir)
		scoped.add(u)
		u, nixOut = r.nixPrintDevEnv()
		nix.add(u)
	}
	r.emptyCache(keptWhenCold()...)
	_, mine := r.monoflake("env", "--format", "json", r.dir)
	requireSameEnvironment(b, mine, nixOut)
	speedup := ratio(nix, scoped)
	b.ReportMetric(ms(scoped.wall), "ms-scoped")
	b.ReportMetric(ms(nix.wall), "ms-nix")
	b.ReportMetric(speedup, "x-faster-than-nix")
	fmt.Printf("300 MB tree: cold env %s; nix print-dev-env after an unrelated edit %s: %.1fx faster\n", scoped, nix, speedup)
}
