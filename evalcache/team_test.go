package evalcache

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/monoflake/monoflake/analysis/gitsafe"
	"github.com/monoflake/monoflake/evalcache/binarycache"
	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/stretchr/testify/require"
)

// The team cache, end to end on one machine: CI publishes from one
// checkout into a binary cache in a temporary folder, signed with a key
// made here; a developer's checkout elsewhere, with its own store (a
// chroot store in a temporary folder) and a nix that trusts only that
// key, asks for environments. Every nix the developer side runs goes
// through a wrapper that logs its arguments, which proves what ran.

// teamComponents are the monorepo's components and their shells.
var teamComponents = []string{"analytics", "backend", "frontend", "infra"}

// teamRepo is the monorepo naming cacheURL in .monoflake.json, committed,
// and a clone of it in another folder: a developer's checkout.
func teamRepo(t *testing.T, cacheURL string) (ci, dev string) {
	t.Helper()
	ci = copyFixture(t, "monorepo")
	cfg, err := json.Marshal(map[string]string{"cache": cacheURL})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(ci, ".monoflake.json"), cfg, 0o644))
	evaltest.Git(t, ci, "add", "-A")
	evaltest.Git(t, ci, "commit", "-q", "-m", "team cache")
	dev = filepath.Join(t.TempDir(), "checkout")
	copyTree(t, ci, dev)
	time.Sleep(50 * time.Millisecond) // see CopyFixture
	return ci, dev
}

// copyTree copies a checkout, its .git included, as a second machine's
// clone of the same commit would hold it.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	require.NoError(t, err)
}

// signingKey makes the team's key with nix; it returns the secret key's
// file and the public key as trusted-public-keys lists it.
func signingKey(t *testing.T, name string) (secretFile, public string) {
	t.Helper()
	dir := t.TempDir()
	secretFile, pubFile := filepath.Join(dir, "key.sec"), filepath.Join(dir, "key.pub")
	out, err := exec.Command("nix-store", "--generate-binary-cache-key", name, secretFile, pubFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	pub, err := os.ReadFile(pubFile)
	require.NoError(t, err)
	return secretFile, strings.TrimSpace(string(pub))
}

// developer is the developer's side: a counting nix on a store of its own
// that trusts one key.
type developer = evaltest.CountingNix

func newDeveloper(t *testing.T, trusted, version string) developer {
	return evaltest.NewCountingNix(t, trusted, version)
}

// planTeam plans a component of a checkout as the command line does.
func planTeam(t *testing.T, root, component string) Request {
	t.Helper()
	req, err := PlanPath(context.Background(), filepath.Join(root, component), "", Scoped)
	require.NoError(t, err)
	return req
}

// team is a cache in a temporary folder (url names it), the checkouts of
// CI and of a developer, and the team's key.
type team struct {
	cacheDir, url string
	ci, dev       string
	secretFile    string
	pub           string
}

// newTeam sets a team up.
func newTeam(t *testing.T) team {
	t.Helper()
	tm := team{cacheDir: filepath.Join(t.TempDir(), "cache")}
	tm.url = "file://" + tm.cacheDir
	tm.ci, tm.dev = teamRepo(t, tm.url)
	tm.secretFile, tm.pub = signingKey(t, "monoflake-team-1")
	return tm
}

// publish publishes every component of CI's checkout.
func (tm team) publish(t *testing.T) (*Publication, *Cache) {
	t.Helper()
	return publishTeam(t, tm.ci, tm.url, tm.secretFile)
}

// publishTeam publishes every component of the CI checkout to the cache;
// it returns CI's own cache too.
func publishTeam(t *testing.T, ci, to, secretFile string) (*Publication, *Cache) {
	t.Helper()
	c, _ := testCache(t, ci, Options{})
	var reqs []Request
	for _, comp := range teamComponents {
		reqs = append(reqs, planTeam(t, ci, comp))
	}
	pub, err := c.Publish(context.Background(), reqs, PublishOptions{To: to, SecretKeyFile: secretFile})
	require.NoError(t, err)
	for _, p := range pub.Shells {
		require.Empty(t, p.Skipped, p.Request.Component)
		require.NotEmpty(t, p.Record, p.Request.Component)
	}
	require.NotEmpty(t, pub.Index, pub.NoIndex)
	return pub, c
}

func TestRemoteHitEvaluatesNothing(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	url, ci, dev, pub := tm.url, tm.ci, tm.dev, tm.pub
	publication, ciCache := tm.publish(t)
	require.True(t, publication.Verified, "%+v", publication)

	d := newDeveloper(t, pub, "")
	c, log := testCache(t, dev, Options{Nix: d.Nix})
	ctx := context.Background()
	for _, comp := range teamComponents {
		req := planTeam(t, dev, comp)
		require.Equal(t, url, req.TeamCache)
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, Fresh, res.State, "%v", res.Err)
		require.Equal(t, url, res.Remote, "%s: %s\n%s", comp, res.RemoteMiss, log)
		require.Empty(t, d.Evaluations(t), comp)
		require.Zero(t, log.count("msg=evaluated"))

		// What CI evaluated, variable for variable.
		want, err := ciCache.Get(ctx, planTeam(t, ci, comp))
		require.NoError(t, err)
		require.True(t, want.Hit)
		require.Equal(t, want.DrvPath, res.DrvPath)
		require.Equal(t, want.Env, res.Env)
	}
	// A local evaluation on the developer's side, in a store of its own
	// that builds everything itself, gives the same derivation and the
	// same variables, but for those the builder sets for itself while it
	// builds the -env output (nix develop shows the same difference
	// between a substituted and a locally built environment).
	local := newDeveloper(t, pub, "")
	lc, _ := testCache(t, dev, Options{Nix: local.Nix})
	localReq := planTeam(t, dev, "backend")
	localReq.TeamCache = ""
	localRes, err := lc.Get(ctx, localReq)
	require.NoError(t, err)
	require.Empty(t, localRes.Remote)
	fetched, err := c.Get(ctx, planTeam(t, dev, "backend"))
	require.NoError(t, err)
	require.Equal(t, localRes.DrvPath, fetched.DrvPath)
	builderOwn := map[string]bool{"NIX_BUILD_TOP": true, "NIX_BUILD_CORES": true, "TMPDIR": true, "TMP": true, "TEMP": true, "TEMPDIR": true}
	exported := func(env *Environment) map[string]string {
		vars := map[string]string{}
		for name, v := range env.Variables {
			if v.Type == Exported && !builderOwn[name] {
				vars[name] = v.Value
			}
		}
		return vars
	}
	require.Equal(t, exported(localRes.Env), exported(fetched.Env))
	require.Contains(t, exported(fetched.Env), "PATH")

	// The next request is an ordinary local hit: nix does not run.
	before := len(d.Calls(t))
	res, err := c.Get(ctx, planTeam(t, dev, "backend"))
	require.NoError(t, err)
	require.True(t, res.Hit)
	require.Equal(t, url, res.Remote)
	require.Len(t, d.Calls(t), before)
}

// teamFetch asks the developer side for a component of dev from the cache
// at url, with a cache folder and store of its own.
func teamFetch(t *testing.T, d developer, dev, url, component string, edit func(*Request)) (*Result, *syncBuffer) {
	t.Helper()
	c, log := testCache(t, dev, Options{Nix: d.Nix})
	req := planTeam(t, dev, component)
	req.TeamCache = url
	if edit != nil {
		edit(&req)
	}
	res, err := c.Get(context.Background(), req)
	require.NoError(t, err)
	return res, log
}

// narinfoFile is the narinfo of a store path in a cache folder.
func narinfoFile(t *testing.T, cacheDir, storePath string) string {
	t.Helper()
	hashPart, _, err := binarycache.ParseStorePath(storePath)
	require.NoError(t, err)
	return filepath.Join(cacheDir, hashPart+".narinfo")
}

func readNarInfo(t *testing.T, cacheDir, storePath string) *binarycache.NarInfo {
	t.Helper()
	data, err := os.ReadFile(narinfoFile(t, cacheDir, storePath))
	require.NoError(t, err)
	n, err := binarycache.ParseNarInfo(data)
	require.NoError(t, err)
	return n
}

// rewriteNarInfo changes a narinfo in a cache folder.
func rewriteNarInfo(t *testing.T, cacheDir, storePath string, edit func(*binarycache.NarInfo)) {
	t.Helper()
	n := readNarInfo(t, cacheDir, storePath)
	edit(n)
	require.NoError(t, os.WriteFile(narinfoFile(t, cacheDir, storePath), n.Format(), 0o644))
}

// recordOf is the record a publication wrote for a component.
func recordOf(t *testing.T, pub *Publication, component string) string {
	t.Helper()
	for _, p := range pub.Shells {
		if p.Request.Component == component {
			return p.Record
		}
	}
	t.Fatalf("nothing published for %s", component)
	return ""
}

// Whatever goes wrong with the team cache, the developer gets the
// environment evaluated here, and one sentence saying why.
func TestRemoteFallsBack(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	pristine, dev, pub := tm.cacheDir, tm.dev, tm.pub
	publication, _ := tm.publish(t)
	record := recordOf(t, publication, "backend")
	envPath := readNarInfo(t, pristine, record).References[0]
	require.True(t, strings.HasSuffix(envPath, "-backend-shell-env"), envPath)
	_, otherPub := signingKey(t, "monoflake-team-1")

	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the cache is broken", http.StatusInternalServerError)
	}))
	defer failing.Close()

	cases := []struct {
		name    string
		trusted string
		version string
		url     string                         // "" for a damaged copy of the published cache
		damage  func(t *testing.T, dir string) // of that copy
		edit    func(*Request)
		change  func(t *testing.T)
		why     string
		port    string // "" when the local evaluation fails too
	}{
		{name: "a key nix does not trust", trusted: otherPub, why: "not signed by any key of nix's trusted-public-keys", port: "8080"},
		{name: "an edited narinfo", damage: func(t *testing.T, dir string) {
			rewriteNarInfo(t, dir, record, func(n *binarycache.NarInfo) { n.References = nil })
		}, why: "not signed by any key", port: "8080"},
		{name: "an unsigned record", damage: func(t *testing.T, dir string) {
			rewriteNarInfo(t, dir, record, func(n *binarycache.NarInfo) { n.Sigs = nil })
		}, why: "not signed by any key", port: "8080"},
		{name: "a corrupted NAR", damage: func(t *testing.T, dir string) {
			nar := filepath.Join(dir, filepath.FromSlash(readNarInfo(t, dir, envPath).URL))
			data, err := os.ReadFile(nar)
			require.NoError(t, err)
			data[len(data)/2] ^= 0xff
			require.NoError(t, os.WriteFile(nar, data, 0o644))
		}, why: "holds a damaged copy", port: "8080"},
		{name: "a missing closure member", damage: func(t *testing.T, dir string) {
			var cargo string
			for _, r := range readNarInfo(t, dir, envPath).References {
				if strings.HasSuffix(r, "-cargo") {
					cargo = r
				}
			}
			require.NotEmpty(t, cargo)
			require.NoError(t, os.Remove(narinfoFile(t, dir, cargo)))
		}, why: "lacks part of what", port: "8080"},
		{name: "a forged index", damage: func(t *testing.T, dir string) {
			// Anyone who can write to the cache can replace the index (it
			// is only a hint): here it lists a file CI's evaluation did not
			// read. A key covers the set of files as well as their
			// contents, so no list but CI's own finds CI's record.
			list, err := depsObject([]portableDep{{Path: "flake.nix"}, {Path: "forged.nix"}})
			require.NoError(t, err)
			idx, err := indexObject(publishedIndex{Version: remoteVersion, Commit: publication.Commit, System: "x86_64-linux",
				NixVersion: "2.8.0", Entries: []indexEntry{{Root: ".", Dir: "backend", Component: "backend", Shell: "backend", Mode: Scoped, Deps: list.Path}}})
			require.NoError(t, err)
			for _, o := range []binarycache.Object{list, idx} {
				n, nar := binarycache.FileNarInfo(o)
				require.NoError(t, os.WriteFile(narinfoFile(t, dir, o.Path), n.Format(), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(n.URL)), nar, 0o644))
			}
		}, why: "has no environment of backend for its files as they are", port: "8080"},
		{name: "another nix version", version: "2.8.1", why: "for nix 2.8.1 on x86_64-linux", port: "8080"},
		{name: "another system", edit: func(r *Request) { r.System = "aarch64-linux" }, why: "on aarch64-linux"},
		{name: "a file edited here", change: func(t *testing.T) {
			editFile(t, filepath.Join(dev, "backend/nix/outputs.nix"), `BACKEND_PORT = "8080"`, `BACKEND_PORT = "9090"`)
			t.Cleanup(func() {
				editFile(t, filepath.Join(dev, "backend/nix/outputs.nix"), `BACKEND_PORT = "9090"`, `BACKEND_PORT = "8080"`)
			})
		}, why: "has no environment of backend for its files as they are", port: "9090"},
		{name: "a cache that is down", url: downURL, why: "cannot be read", port: "8080"},
		{name: "a cache that fails", url: failing.URL, why: "500 Internal Server Error", port: "8080"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			caseURL := tc.url
			if caseURL == "" {
				dir := filepath.Join(t.TempDir(), "cache")
				copyTree(t, pristine, dir)
				if tc.damage != nil {
					tc.damage(t, dir)
				}
				caseURL = "file://" + dir
			}
			if tc.change != nil {
				tc.change(t)
			}
			trusted := pub
			if tc.trusted != "" {
				trusted = tc.trusted
			}
			d := newDeveloper(t, trusted, tc.version)
			res, log := teamFetch(t, d, dev, caseURL, "backend", tc.edit)
			require.Empty(t, res.Remote)
			require.Contains(t, res.RemoteMiss, tc.why)
			require.NotContains(t, res.RemoteMiss, "\n", "one line")
			if tc.port == "" {
				require.Equal(t, Failed, res.State)
				return
			}
			require.Equal(t, Fresh, res.State, "%v\n%s", res.Err, log)
			require.Equal(t, 1, log.count("msg=evaluated"))
			require.NotEmpty(t, d.Evaluations(t), "the counting nix sees an evaluation")
			require.Equal(t, tc.port, res.Env.Variables["BACKEND_PORT"].Value)
		})
	}
}

// An HTTP cache, as every cache server and a static bucket serve one, with
// the environments' closures compressed as nix compresses them by
// default.
func TestRemoteOverHTTP(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	cacheDir, ci, dev, pub := tm.cacheDir, tm.ci, tm.dev, tm.pub
	server := httptest.NewServer(http.FileServer(http.Dir(cacheDir)))
	defer server.Close()
	publication, ciCache := tm.publish(t)
	require.Equal(t, "xz", readNarInfo(t, cacheDir, recordOf(t, publication, "backend")).Compression)
	require.Equal(t, "none", readNarInfo(t, cacheDir, publication.Index).Compression, "clients read the index without nix")

	d := newDeveloper(t, pub, "")
	res, log := teamFetch(t, d, dev, server.URL, "frontend", nil)
	require.Equal(t, server.URL, res.Remote, "%s\n%s", res.RemoteMiss, log)
	require.Empty(t, d.Evaluations(t))
	want, err := ciCache.Get(context.Background(), planTeam(t, ci, "frontend"))
	require.NoError(t, err)
	require.Equal(t, want.Env, res.Env)
}

// A commit of the developer's own, which CI never saw, finds the index of
// the commit below it.
func TestRemoteIndexOfAncestor(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	url, dev, pub := tm.url, tm.dev, tm.pub
	tm.publish(t)
	require.NoError(t, os.WriteFile(filepath.Join(dev, "NOTES.md"), []byte("mine\n"), 0o644))
	evaltest.Git(t, dev, "add", "NOTES.md")
	evaltest.Git(t, dev, "commit", "-q", "-m", "notes")
	d := newDeveloper(t, pub, "")
	res, log := teamFetch(t, d, dev, url, "backend", nil)
	require.Equal(t, url, res.Remote, "%s\n%s", res.RemoteMiss, log)
	require.Contains(t, log.String(), `list="the index of commit `)
}

// Without any index (CI published from a working tree that differs from
// its commit), the developer's own last entry says which files to hash:
// after an edit that CI published too, that list finds CI's record.
func TestRemoteFromTheLastEntry(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	url, ci, dev, secretFile := tm.url, tm.ci, tm.dev, tm.secretFile
	d := newDeveloper(t, tm.pub, "")
	c, log := testCache(t, dev, Options{Nix: d.Nix})
	ctx := context.Background()
	res, err := c.Get(ctx, planTeam(t, dev, "backend"))
	require.NoError(t, err)
	require.Empty(t, res.Remote)
	require.Contains(t, res.RemoteMiss, "has no index")
	// Its pruning check runs on the files as they are when it runs: let
	// it finish before the edit.
	c.bg.Wait()

	for _, root := range []string{ci, dev} {
		editFile(t, filepath.Join(root, "backend/nix/outputs.nix"), `RUST_LOG = "backend=debug"`, `RUST_LOG = "backend=trace"`)
	}
	time.Sleep(50 * time.Millisecond)
	ciCache, _ := testCache(t, ci, Options{})
	publication, err := ciCache.Publish(ctx, []Request{planTeam(t, ci, "backend")}, PublishOptions{To: url, SecretKeyFile: secretFile})
	require.NoError(t, err)
	require.Empty(t, publication.Shells[0].Skipped)
	require.Empty(t, publication.Index)
	require.Contains(t, publication.NoIndex, "the working tree differs from HEAD")

	before := log.count("msg=evaluated")
	res, err = c.Get(ctx, planTeam(t, dev, "backend"))
	require.NoError(t, err)
	require.Equal(t, url, res.Remote, "%s\n%s", res.RemoteMiss, log)
	require.Equal(t, before, log.count("msg=evaluated"))
	require.Contains(t, log.String(), `list="the last local entry"`)
	require.Equal(t, "backend=trace", res.Env.Variables["RUST_LOG"].Value)
}

// What would be wrong in another checkout is not published, and what the
// pruning check finds wrong is published from every module instead.
func TestPublishRefuses(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	cacheDir, url, ci, secretFile := tm.cacheDir, tm.url, tm.ci, tm.secretFile
	outside := filepath.Join(t.TempDir(), "outside.nix")
	require.NoError(t, os.WriteFile(outside, []byte(`"from the home folder"`+"\n"), 0o644))
	editFile(t, filepath.Join(ci, "backend/nix/outputs.nix"), `RUST_LOG = "backend=debug";`, `RUST_LOG = "backend=debug"; CHECKOUT = toString ./.;`)
	editFile(t, filepath.Join(ci, "infra/nix/outputs.nix"), `TF_IN_AUTOMATION = "1";`, `TF_IN_AUTOMATION = "1"; OUTSIDE = import `+outside+`;`)
	time.Sleep(50 * time.Millisecond)

	c, log := testCache(t, ci, Options{})
	ctx := context.Background()
	analytics := planTeam(t, ci, "analytics")
	// A module list that changes the shell, as a wrong pruning could.
	analytics.Pruned = prunedFor(t, ci, "nix/pkgs.nix", "analytics/nix/outputs.nix",
		`{ perSystem = { pkgs, ... }: { devShells.python = pkgs.mkShell { name = "other"; }; }; }`)
	whole, _ := testCache(t, ci, Options{})
	wholeReq := planTeam(t, ci, "analytics")
	wholeReq.Pruned = nil
	want, err := whole.Get(ctx, wholeReq)
	require.NoError(t, err)

	pub, err := c.Publish(ctx, []Request{planTeam(t, ci, "backend"), planTeam(t, ci, "infra"), analytics},
		PublishOptions{To: url, SecretKeyFile: secretFile})
	require.NoError(t, err)
	require.Len(t, pub.Shells, 3)
	require.Contains(t, pub.Shells[0].Skipped, "names the folder "+ci)
	require.Empty(t, pub.Shells[0].Record)
	require.Contains(t, pub.Shells[1].Skipped, outside+", which is outside the repository")
	require.Empty(t, pub.Shells[2].Skipped)
	require.Contains(t, log.String(), "differs from the whole flake")
	rec, err := c.teamCache(url).read(ctx, pub.Shells[2].Record, 1<<20)
	require.NoError(t, err)
	var published publishedRecord
	require.NoError(t, json.Unmarshal(rec, &published))
	require.Equal(t, want.DrvPath, published.DrvPath, "the evaluation of every module was published")
	require.Contains(t, pub.NoIndex, "the working tree differs from HEAD")

	// Nothing skipped is in the cache.
	files, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	records := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".narinfo") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(cacheDir, f.Name()))
		require.NoError(t, err)
		if strings.Contains(string(data), "-monoflake-env-") {
			records++
			require.Contains(t, string(data), "-monoflake-env-analytics\n")
		}
	}
	require.Equal(t, 1, records)
}

// A branch further from its upstream than the commits looked at finds the
// index of its merge base.
func TestRemoteIndexOfMergeBase(t *testing.T) {
	requireTool(t, "nix")
	tm := newTeam(t)
	url, ci, dev, pub := tm.url, tm.ci, tm.dev, tm.pub
	publication, _ := tm.publish(t)
	branch, err := gitsafe.Output(context.Background(), dev, "symbolic-ref", "--short", "HEAD")
	require.NoError(t, err)
	evaltest.Git(t, dev, "update-ref", "refs/remotes/origin/main", "HEAD")
	evaltest.Git(t, dev, "config", "remote.origin.url", ci)
	evaltest.Git(t, dev, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
	evaltest.Git(t, dev, "config", "branch."+strings.TrimSpace(string(branch))+".remote", "origin")
	evaltest.Git(t, dev, "config", "branch."+strings.TrimSpace(string(branch))+".merge", "refs/heads/main")
	for i := range indexDepth + 1 {
		evaltest.Git(t, dev, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("work %d", i))
	}
	d := newDeveloper(t, pub, "")
	res, log := teamFetch(t, d, dev, url, "backend", nil)
	require.Equal(t, url, res.Remote, "%s\n%s", res.RemoteMiss, log)
	require.Contains(t, log.String(), `list="the index of commit `+short(publication.Commit)+`"`)
}
