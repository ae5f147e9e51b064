package evalcache

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// developer is the developer's side: a nix on a store of its own that
// trusts one key, and the log of every call.
type developer struct {
	nix   string // the wrapper, for Options.Nix
	store string
	log   string
}

// newDeveloper writes the counting wrapper. version, when not "", is what
// it answers to --version (another nix than CI's).
func newDeveloper(t *testing.T, trusted, version string) developer {
	t.Helper()
	realNix := requireTool(t, "nix")
	realStore := requireTool(t, "nix-store")
	dir := t.TempDir()
	d := developer{nix: filepath.Join(dir, "bin", "nix"), store: filepath.Join(dir, "store"), log: filepath.Join(dir, "calls.log")}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	// Builds in a store outside /nix/store run in nix's sandbox, which
	// needs bash and its libraries from the host.
	var sandbox []string
	for _, p := range []string{"/bin", "/usr", "/lib", "/lib64"} {
		if exists(p) {
			sandbox = append(sandbox, p)
		}
	}
	config := "store = " + d.store + "\ntrusted-public-keys = " + trusted + "\nextra-sandbox-paths = " + strings.Join(sandbox, " ") + "\n"
	versionCase := ""
	if version != "" {
		versionCase = `case "$*" in *--version*) echo "nix (Nix) ` + version + `"; exit 0;; esac` + "\n"
	}
	for name, real := range map[string]string{"nix": realNix, "nix-store": realStore} {
		script := "#!/bin/bash\nprintf '%s %s\\n' " + name + " \"$*\" >> " + d.log + "\n" + versionCase +
			"export XDG_CACHE_HOME=" + filepath.Join(dir, "xdg") + "\n" +
			"export NIX_CONFIG=\"$NIX_CONFIG\n" + config + "\"\nexec " + real + " \"$@\"\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", name), []byte(script), 0o755))
	}
	return d
}

// calls are the nix commands the developer side ran.
func (d developer) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(d.log)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// evaluations are the calls that evaluate Nix code: any eval, and
// print-dev-env of anything but a store path.
func (d developer) evaluations(t *testing.T) []string {
	var evals []string
	prefix := "nix " + strings.Join(experimental, " ") + " "
	for _, call := range d.calls(t) {
		sub := strings.Fields(strings.TrimPrefix(call, prefix))
		if !strings.HasPrefix(call, prefix) || len(sub) == 0 {
			continue
		}
		last := sub[len(sub)-1]
		if sub[0] == "eval" || strings.Contains(call, "--expr") || (sub[0] == "print-dev-env" && !strings.HasPrefix(last, "/nix/store/")) {
			evals = append(evals, call)
		}
	}
	return evals
}

// planTeam plans a component of a checkout as the command line does.
func planTeam(t *testing.T, root, component string) Request {
	t.Helper()
	req, err := PlanPath(context.Background(), filepath.Join(root, component), "", Scoped)
	require.NoError(t, err)
	return req
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
	cacheDir := filepath.Join(t.TempDir(), "cache")
	url := "file://" + cacheDir
	ci, dev := teamRepo(t, url)
	secretFile, pub := signingKey(t, "monoflake-team-1")
	publication, ciCache := publishTeam(t, ci, url, secretFile)
	require.True(t, publication.Verified, "%+v", publication)

	d := newDeveloper(t, pub, "")
	c, log := testCache(t, dev, Options{Nix: d.nix})
	ctx := context.Background()
	for _, comp := range teamComponents {
		req := planTeam(t, dev, comp)
		require.Equal(t, url, req.TeamCache)
		res, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, Fresh, res.State, "%v", res.Err)
		require.Equal(t, url, res.Remote, "%s: %s\n%s", comp, res.RemoteMiss, log)
		require.Empty(t, d.evaluations(t), comp)
		require.Zero(t, log.count("msg=evaluated"))

		// What CI evaluated, variable for variable.
		want, err := ciCache.Get(ctx, planTeam(t, ci, comp))
		require.NoError(t, err)
		require.True(t, want.Hit)
		require.Equal(t, want.DrvPath, res.DrvPath)
		require.Equal(t, want.Env, res.Env)
	}
	// The next request is an ordinary local hit: nix does not run.
	before := len(d.calls(t))
	res, err := c.Get(ctx, planTeam(t, dev, "backend"))
	require.NoError(t, err)
	require.True(t, res.Hit)
	require.Equal(t, url, res.Remote)
	require.Len(t, d.calls(t), before)
}
