package evalcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/analysis/gitsafe"
	"github.com/monoflake/monoflake/evalcache/binarycache"
	"github.com/sourcegraph/conc/pool"
)

// Publishing, for CI on a trusted branch: each devShell is evaluated (or
// its entry reused), its record and dependency list are written, the
// commit's index last, and nix copies them with the environments' closures
// to the team cache, signing every path with the team's key. Whoever holds
// that key decides what runs in every developer's shell, so only what a
// trusted branch builds should be published.

// PublishOptions say where Publish puts environments.
type PublishOptions struct {
	// To is the binary cache: any URL `nix copy --to` takes (file://,
	// https:// through a server that accepts uploads, s3://).
	To string
	// SecretKeyFile is the key that signs what is published, as
	// `nix-store --generate-binary-cache-key` writes it. Developers list
	// its public half in nix's trusted-public-keys.
	SecretKeyFile string
}

// Published is what Publish did with one devShell.
type Published struct {
	Request Request
	Record  string // the record's store path; "" when skipped
	Reused  bool   // the cache held the record already
	Skipped string // why it was not published
}

// Publication is what Publish did.
type Publication struct {
	Shells []Published
	Commit string // HEAD, "" outside git
	// Index is the commit's index, "" when none was published; NoIndex
	// says why not.
	Index   string
	NoIndex string
	// Verified says the cache's copies were read back and their
	// signatures checked (possible for file:// and http(s):// caches).
	Verified bool
}

// Publish evaluates each request (or reuses its entry) and publishes it to
// the cache opts.To. A devShell that cannot be published is skipped with
// the reason; the error is for what stops publishing at all (no key, nix
// failing to import or copy).
func (c *Cache) Publish(ctx context.Context, reqs []Request, opts PublishOptions) (*Publication, error) {
	key, keyFile, err := readSigningKey(opts.SecretKeyFile)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(opts.To); err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("%q is not a binary cache URL such as file:///srv/cache or s3://bucket", opts.To)
	}
	version, err := c.nixVersion(ctx)
	if err != nil {
		return nil, err
	}
	target := c.teamCache(opts.To)
	results, err := c.GetMany(ctx, reqs)
	if err != nil {
		return nil, err
	}
	// Preparing may run a pruning check per devShell: as many at a time
	// as evaluations.
	ready := make([]prepared, len(reqs))
	work := pool.New().WithMaxGoroutines(cap(c.sem))
	for i, req := range reqs {
		work.Go(func() {
			req, _ = normalize(req)
			ready[i] = c.prepare(ctx, req, results[i], version, target)
		})
	}
	work.Wait()
	pub := &Publication{}
	var lists, records []binarycache.Object
	var entries []indexEntry
	base := ""
	for _, p := range ready {
		pub.Shells = append(pub.Shells, p.Published)
		if p.Skipped != "" {
			continue
		}
		if base == "" {
			base = p.base
		}
		lists = append(lists, p.deps)
		if !p.Reused {
			records = append(records, p.record)
		}
		entries = append(entries, p.entry)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var index *binarycache.Object
	if base != "" {
		pub.Commit, pub.NoIndex = indexCommit(ctx, base)
		if pub.NoIndex == "" {
			obj, err := indexObject(publishedIndex{Version: remoteVersion, Commit: pub.Commit, System: reqsSystem(reqs), NixVersion: version, Entries: entries})
			if err != nil {
				return nil, err
			}
			index = &obj
		}
	} else {
		pub.NoIndex = "no devShell was published"
	}
	if err := c.upload(ctx, opts.To, keyFile, lists, records, index); err != nil {
		return nil, err
	}
	uploaded := pathsOf(records)
	if index != nil {
		pub.Index = index.Path
		uploaded = append(uploaded, index.Path)
	}
	if target.reader != nil {
		if err := verifyUploaded(ctx, target, key.Public(), uploaded); err != nil {
			return nil, err
		}
		pub.Verified = true
	}
	return pub, nil
}

func readSigningKey(file string) (binarycache.SecretKey, string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return binarycache.SecretKey{}, "", err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return binarycache.SecretKey{}, "", fmt.Errorf("read the signing key: %w", err)
	}
	key, err := binarycache.ParseSecretKey(string(data))
	if err != nil {
		return binarycache.SecretKey{}, "", fmt.Errorf("%s is not a signing key made by nix-store --generate-binary-cache-key: %w", file, err)
	}
	return key, abs, nil
}

func reqsSystem(reqs []Request) string {
	for _, r := range reqs {
		if r.System != "" {
			return r.System
		}
	}
	return CurrentSystem()
}

// prepared is one devShell ready to publish.
type prepared struct {
	Published
	base   string
	key    string
	record binarycache.Object
	deps   binarycache.Object
	entry  indexEntry
}

// prepare decides whether a devShell can be published and writes its
// objects.
func (c *Cache) prepare(ctx context.Context, req Request, res *Result, version string, target teamCache) prepared {
	p := prepared{Published: Published{Request: req}}
	skip := func(format string, args ...any) prepared {
		p.Skipped, p.Record = fmt.Sprintf(format, args...), ""
		return p
	}
	switch {
	case res == nil:
		return skip("it was not evaluated")
	case res.State == Untrusted:
		return skip("%s is not trusted (run monoflake trust there first)", req.Root)
	case res.State != Fresh:
		return skip("its evaluation failed: %v", res.Err)
	}
	entry := c.entryPath(req.ComponentDir, req.Mode, req.System)
	rec, err := readRecord(entry)
	if err != nil || rec.DrvPath != res.DrvPath {
		return skip("its entry changed while it was published")
	}
	p.base = repoBase(ctx, req.Root)
	deps, err := portableDeps(ctx, p.base, rec.Deps)
	if err != nil {
		return skip("%v: it would answer for no other checkout", err)
	}
	p.key = remoteKey(keyInputs{nixVersion: version, req: req, base: p.base, pruned: rec.Pruned, selfSrc: selfSource(ctx, req.Root), ifd: c.ifd}, deps)
	if p.deps, err = depsObject(deps); err != nil {
		return skip("%v", err)
	}
	if p.Record, err = recordPath(p.key, req.Component); err != nil {
		return skip("%v", err)
	}
	p.entry = indexEntry{Root: relTo(p.base, req.Root), Dir: relTo(p.base, req.ComponentDir), Component: req.Component,
		Shell: req.Shell, Mode: req.Mode, Key: p.key, Deps: p.deps.Path}
	if has, err := target.has(ctx, p.Record); err == nil && has {
		// Whoever published it checked it; nothing to copy.
		p.Reused = true
		return p
	}
	if rec.Pruned {
		if off := c.verifyPruning(ctx, req, entry, rec); off != "" {
			if _, pruningOff := c.pruningState(req.Root); !pruningOff {
				return skip("%s", off)
			}
			// The check turned pruning off: publish the evaluation of
			// every module instead.
			again, err := c.Get(ctx, req)
			if err != nil {
				return skip("%v", err)
			}
			return c.prepare(ctx, req, again, version, target)
		}
	}
	envPath, err := profileTarget(c.rootPath(entry))
	if err != nil {
		return skip("its environment has no GC root: %v", err)
	}
	if where := c.locationDependent(ctx, req, p.base, rec.DrvPath); where != "" {
		return skip("%s: it would be wrong in a checkout anywhere else", where)
	}
	p.record, err = recordObject(publishedRecord{Version: remoteVersion, Key: p.key, Component: req.Component, Shell: req.Shell,
		System: req.System, Mode: req.Mode, NixVersion: version, DrvPath: rec.DrvPath, EnvPath: envPath})
	if err != nil {
		return skip("%v", err)
	}
	return p
}

// profileTarget is the store path a profile (an entry's GC root) points
// at, through its generation link.
func profileTarget(profile string) (string, error) {
	p := profile
	for range 4 {
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		if _, name, err := binarycache.ParseStorePath(t); err == nil {
			if !strings.HasSuffix(name, "-env") {
				return "", fmt.Errorf("%s points at %s, not at the output of a -env derivation", profile, t)
			}
			return t, nil
		}
		p = t
	}
	return "", fmt.Errorf("%s does not lead into %s", profile, binarycache.StoreDir)
}

// locationDependent names where a derivation or one it depends on holds
// the checkout's folder (or the cache's): an evaluation in place sees its
// own folder in toString ./. and the like, so another checkout would get
// another derivation. "" when none does.
func (c *Cache) locationDependent(ctx context.Context, req Request, base, drvPath string) string {
	out, err := c.run.run(ctx, req.Root, "show-derivation", "-r", drvPath)
	if err != nil {
		return fmt.Sprintf("nix cannot show its derivation (%s)", lastLine(out.Stderr))
	}
	for _, dir := range []string{base, c.dir} {
		if bytes.Contains(out.Stdout, []byte(dir)) {
			return fmt.Sprintf("its derivation %s, or one it depends on, names the folder %s", drvPath, dir)
		}
	}
	return ""
}

// indexCommit is the commit an index is published for, or why there is
// none: no git, or a working tree that differs from HEAD.
func indexCommit(ctx context.Context, base string) (commit, why string) {
	out, err := gitsafe.Output(ctx, base, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return "", "the repository has no commit to publish an index for"
	}
	commit = strings.TrimSpace(string(out))
	changed, err := gitsafe.Changed(ctx, base, "HEAD")
	if err != nil {
		return commit, fmt.Sprintf("cannot compare the working tree with HEAD: %v", err)
	}
	if len(changed) > 0 {
		return commit, fmt.Sprintf("the working tree differs from HEAD (%d files, such as %s), so its file lists are not HEAD's", len(changed), changed[0])
	}
	return commit, ""
}

// upload imports the objects into the store and has nix copy them to the
// cache, signed: first the records with the environments' closures, then
// the dependency lists and last the index, so that no index names a
// record the cache lacks. Lists and index are copied uncompressed, which
// lets a client read them without nix.
func (c *Cache) upload(ctx context.Context, to, keyFile string, lists, records []binarycache.Object, index *binarycache.Object) error {
	lists = uniqueObjects(lists)
	if index != nil {
		lists = append(lists, *index)
	}
	// Lists first: the index references them.
	objects := append(append([]binarycache.Object{}, lists...), records...)
	if len(objects) == 0 {
		return nil
	}
	var stream bytes.Buffer
	if err := binarycache.WriteExport(&stream, objects); err != nil {
		return err
	}
	out, err := c.run.store(ctx, stream.Bytes(), "--import")
	if err != nil {
		return fmt.Errorf("nix-store --import of the records failed (it needs root or a trusted user): %s", lastLine(out.Stderr))
	}
	signed, err := withSettings(to, map[string]string{"secret-key": keyFile})
	if err != nil {
		return err
	}
	if err := c.copyTo(ctx, signed, pathsOf(records)); err != nil {
		return err
	}
	plain, err := withSettings(to, map[string]string{"secret-key": keyFile, "compression": "none"})
	if err != nil {
		return err
	}
	return c.copyTo(ctx, plain, pathsOf(lists))
}

// uniqueObjects drops repeated objects: devShells that read the same
// files share one list.
func uniqueObjects(objects []binarycache.Object) []binarycache.Object {
	seen := map[string]bool{}
	var out []binarycache.Object
	for _, o := range objects {
		if !seen[o.Path] {
			seen[o.Path] = true
			out = append(out, o)
		}
	}
	return out
}

func pathsOf(objects []binarycache.Object) []string {
	paths := make([]string, len(objects))
	for i, o := range objects {
		paths[i] = o.Path
	}
	return paths
}

func (c *Cache) copyTo(ctx context.Context, to string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	out, err := c.run.run(ctx, "", append([]string{"copy", "--to", to}, paths...)...)
	if err != nil {
		return fmt.Errorf("nix copy to %s failed: %s", redactKey(to), lastLine(out.Stderr))
	}
	return nil
}

// withSettings sets nix store settings in a store URL's query.
func withSettings(rawURL string, settings map[string]string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, v := range settings {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redactKey drops the key's path from a URL shown to the user.
func redactKey(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.RawQuery = ""
	return u.String()
}

// verifyUploaded reads back what was published and checks its signatures
// with the key's public half: a cache that rewrote or dropped a narinfo
// is found by CI, not by every developer.
func verifyUploaded(ctx context.Context, target teamCache, key binarycache.PublicKey, paths []string) error {
	var errs []error
	for _, p := range paths {
		n, err := target.reader.NarInfo(ctx, p)
		if err == nil {
			err = n.Verify([]binarycache.PublicKey{key})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("the cache's copy of %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
