package evalcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/monoflake/monoflake/analysis/gitsafe"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
)

// Answering a local miss from the team cache. The key of an environment is
// the content of every file its evaluation read, and on a miss the client
// does not know that list; it tries the lists it can get: its own last
// entry's, and the one CI published in the index of HEAD, of its first
// parents and of its merge base with the upstream branch. For each it
// hashes its own files, computes the key, and asks the cache for the
// record at the key's path. A record exists only where CI evaluated the
// same files with the same contents, so a hit is as sound as a local one;
// a list that is stale or forged only makes a miss.
//
// On a hit, nix fetches the record and with it the environment and its
// closure, checking the cache's signatures against nix's own
// trusted-public-keys, and the answer is written as an ordinary entry. On
// anything else the caller evaluates here, and says why in one line.

const (
	// probeTimeout bounds one request to the team cache: one that does
	// not answer by then is down. connectTimeout bounds reaching it, for
	// monoflake's requests and nix's.
	probeTimeout   = 10 * time.Second
	connectTimeout = 5 * time.Second
	// indexDepth is how many commits, HEAD and its first parents, are
	// looked up for an index.
	indexDepth = 16
	// maxIndex and maxDeps bound what is read of an index and of a
	// dependency list.
	maxIndex = 16 << 20
	maxDeps  = 64 << 20
)

// candidate is a list of files that may be what an evaluation reads.
type candidate struct {
	from  string   // where it came from, for the log
	paths []string // relative to the repository, or trackedPath
}

// fetchRemote answers req from the team cache, or says why it could not
// (why is "" when ctx ended).
func (c *Cache) fetchRemote(ctx context.Context, req Request, entry, version string, prev found) (res *Result, why string) {
	a := &attempt{req: req, entry: entry, version: version, prev: prev, start: time.Now(), flakeFile: filepath.Join(req.Root, "flake.nix")}
	a.pruned, a.pruningOff = c.pruning(req)
	if a.pruned {
		var err error
		if a.flakeFile, err = c.writePruned(req.Pruned); err != nil {
			return nil, err.Error()
		}
	}
	tc := c.teamCache(req.TeamCache)
	base := repoBase(ctx, req.Root)
	in := keyInputs{nixVersion: version, req: req, base: base, pruned: a.pruned, selfSrc: selfSource(ctx, req.Root), ifd: c.ifd}
	cands, indexWhy := c.candidates(ctx, tc, base, version, req, prev)
	seen := map[string]bool{}
	for _, cand := range cands {
		deps, key, err := c.candidateKey(ctx, a, base, in, cand)
		if err != nil || seen[key] {
			continue
		}
		seen[key] = true
		rPath, err := recordPath(key, req.Component)
		if err != nil {
			return nil, err.Error()
		}
		ok, refs, err := tc.probe(ctx, rPath)
		if ctx.Err() != nil {
			return nil, ""
		}
		if err != nil {
			return nil, fmt.Sprintf("the team cache %s cannot be read (%v)", tc.url, err)
		}
		if !ok {
			continue
		}
		res, err := c.fetchRecord(ctx, a, tc, rPath, key, deps, refs)
		if ctx.Err() != nil {
			return nil, ""
		}
		if err != nil {
			return nil, err.Error()
		}
		c.log.Info("fetched from the team cache", "component", req.Component, "shell", req.Shell, "list", cand.from,
			"record", rPath, "took", time.Since(a.start))
		return res, ""
	}
	if ctx.Err() != nil {
		return nil, ""
	}
	switch {
	case len(seen) == 0 && indexWhy != "":
		return nil, indexWhy
	case len(seen) == 0:
		return nil, fmt.Sprintf("nothing tells which files of %s to look up in the team cache %s: there is no earlier entry, and no git history to find an index by", req.Component, tc.url)
	case indexWhy != "":
		return nil, fmt.Sprintf("the team cache %s has no environment of %s for its files as they are; %s", tc.url, req.Component, indexWhy)
	}
	return nil, fmt.Sprintf("the team cache %s has no environment of %s for its files as they are (%d file lists tried)", tc.url, req.Component, len(seen))
}

// candidates are the file lists to try, cheapest first; why says, when
// the index gave none, why not.
func (c *Cache) candidates(ctx context.Context, tc teamCache, base, version string, req Request, prev found) ([]candidate, string) {
	var cands []candidate
	if prev.rec != nil {
		if paths, err := portablePaths(base, prev.rec.Deps); err == nil {
			cands = append(cands, candidate{from: "the last local entry", paths: paths})
		}
	}
	more, why := c.indexCandidates(ctx, tc, base, version, req)
	return append(cands, more...), why
}

// commitsToTry are HEAD, its first parents and last the merge base of HEAD
// with its upstream branch, when it has one that is not among them
// (mergeBase says so).
func commitsToTry(ctx context.Context, base string) (commits []string, mergeBase bool) {
	out, err := gitsafe.Output(ctx, base, "rev-list", "--first-parent", fmt.Sprintf("--max-count=%d", indexDepth), "HEAD")
	if err != nil {
		return nil, false
	}
	commits = strings.Fields(string(out))
	if mb, err := gitsafe.Output(ctx, base, "merge-base", "HEAD", "@{upstream}"); err == nil {
		if m := strings.TrimSpace(string(mb)); m != "" && !slices.Contains(commits, m) {
			return append(commits, m), true
		}
	}
	return commits, false
}

// indexCandidates reads the lists of the nearest commit with an index and
// of the merge base.
func (c *Cache) indexCandidates(ctx context.Context, tc teamCache, base, version string, req Request) ([]candidate, string) {
	commits, mergeBase := commitsToTry(ctx, base)
	if len(commits) == 0 {
		return nil, ""
	}
	paths := make([]string, len(commits))
	has := make([]bool, len(commits))
	errs := make([]error, len(commits))
	p := pool.New().WithMaxGoroutines(8)
	for i, commit := range commits {
		p.Go(func() {
			if paths[i], errs[i] = indexPath(commit, req.System, version); errs[i] == nil {
				has[i], errs[i] = tc.has(ctx, paths[i])
			}
		})
	}
	p.Wait()
	var picked []int
	for i := range commits {
		if has[i] && (len(picked) == 0 || (mergeBase && i == len(commits)-1)) {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 {
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Sprintf("the team cache %s cannot be read (%v)", tc.url, err)
			}
		}
		return nil, fmt.Sprintf("the team cache %s has no index of commit %s or of the %d before it for nix %s on %s",
			tc.url, short(commits[0]), len(commits)-1, version, req.System)
	}
	want := indexEntry{Root: relTo(base, req.Root), Dir: relTo(base, req.ComponentDir), Shell: req.Shell, Mode: req.Mode}
	var cands []candidate
	var why string
	for _, i := range picked {
		paths, err := c.indexedList(ctx, tc, paths[i], want)
		if err != nil {
			why = fmt.Sprintf("the index of commit %s in the team cache %s is of no use (%v)", short(commits[i]), tc.url, err)
			continue
		}
		cands = append(cands, candidate{from: "the index of commit " + short(commits[i]), paths: paths})
	}
	return cands, why
}

// indexedList is the file list an index names for a devShell.
func (c *Cache) indexedList(ctx context.Context, tc teamCache, index string, want indexEntry) ([]string, error) {
	data, err := tc.read(ctx, index, maxIndex)
	if err != nil {
		return nil, err
	}
	e, err := readIndex(index, data, want)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("it lists no devShell %s of %s", want.Shell, want.Dir)
	}
	deps, err := tc.read(ctx, e.Deps, maxDeps)
	if err != nil {
		return nil, err
	}
	return readDepsList(e.Deps, deps)
}

func relTo(base, p string) string {
	rel, err := filepath.Rel(base, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

func short(commit string) string { return commit[:min(len(commit), 12)] }

// candidateKey records the files of a list as they are now, as a local
// evaluation would record what it read, and computes their key. The same
// dependencies become the entry, so no entry pairs these hashes with an
// environment of other contents.
func (c *Cache) candidateKey(ctx context.Context, a *attempt, base string, in keyInputs, cand candidate) ([]dep, string, error) {
	read := make([]string, 0, len(cand.paths)+1)
	for _, p := range cand.paths {
		if p == trackedPath {
			read = append(read, trackedFiles(ctx, a.req.Root)...)
			continue
		}
		read = append(read, filepath.Join(base, filepath.FromSlash(p)))
	}
	if a.pruned {
		read = append(read, a.flakeFile)
	}
	deps, err := c.dependencies(a, read, nil)
	if err != nil {
		return nil, "", err
	}
	portable, err := portableDeps(ctx, base, deps)
	if err != nil {
		return nil, "", err
	}
	return deps, remoteKey(in, portable), nil
}

// fetchRecord has nix fetch a record with its closure, reads the
// environment it names and writes the entry. refs are the record's
// references as the cache claims them: when they name one -env path,
// nix reads the record and the environment at once, and the record must
// then name that environment.
func (c *Cache) fetchRecord(ctx context.Context, a *attempt, tc teamCache, rPath, key string, deps []dep, refs []string) (*Result, error) {
	req := a.req
	profile := c.rootPath(a.entry)
	// A GC root for the record until the profile holds the environment.
	link := profile + "-fetch"
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return nil, err
	}
	defer os.Remove(link)
	out, err := c.run.run(ctx, req.Root, "build", "--out-link", link,
		"--option", "extra-substituters", tc.url,
		// A path nix found missing before (the environment, evaluated
		// here before CI published it) would stay missing for an hour.
		"--option", "narinfo-cache-negative-ttl", "0",
		"--option", "connect-timeout", strconv.Itoa(int(connectTimeout/time.Second)), rPath)
	if err != nil {
		return nil, fetchFailure(tc.url, rPath, out.Stderr, err)
	}
	var data []byte
	var envErr error
	var wg conc.WaitGroup
	if len(refs) == 1 && strings.HasSuffix(refs[0], "-env") {
		wg.Go(func() { data, envErr = c.readEnv(ctx, req, refs[0], rPath, profile) })
	}
	out, err = c.run.run(ctx, req.Root, "store", "cat", rPath)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("nix cannot read the record %s it fetched from the team cache %s: %s", rPath, tc.url, lastLine(out.Stderr))
	}
	rec, err := checkRecord(out.Stdout, key, req)
	if err != nil {
		return nil, fmt.Errorf("the record %s in the team cache %s does not answer for %s: %w", rPath, tc.url, req.Component, err)
	}
	if data == nil || len(refs) != 1 || refs[0] != rec.EnvPath {
		data, envErr = c.readEnv(ctx, req, rec.EnvPath, rPath, profile)
	}
	if envErr != nil {
		return nil, envErr
	}
	env, err := ParseEnvironment(data)
	if err != nil {
		return nil, err
	}
	if err := writeCacheFile(c.envPath(rec.DrvPath), data); err != nil {
		return nil, fmt.Errorf("store the environment of %s: %w", req.Component, err)
	}
	pruneGenerations(profile)
	entry := a.newRecord()
	entry.DrvPath, entry.Remote, entry.Deps = rec.DrvPath, tc.url, deps
	if err := writeRecord(a.entry, entry); err != nil {
		return nil, fmt.Errorf("store the cache entry of %s: %w", req.Component, err)
	}
	return &Result{Env: env, State: Fresh, Files: entry.files(), DrvPath: rec.DrvPath, Pruned: a.pruned, Remote: tc.url}, nil
}

// readEnv reads an environment nix fetched, making the entry's profile
// its GC root.
func (c *Cache) readEnv(ctx context.Context, req Request, envPath, rPath, profile string) ([]byte, error) {
	data, stderr, err := c.buildEnv(ctx, req, envPath, profile)
	if err != nil {
		return nil, fmt.Errorf("nix cannot read the environment %s of the record %s: %s", envPath, rPath, lastLine(stderr))
	}
	return data, nil
}

// fetchFailure says in one sentence why nix did not fetch a record.
func fetchFailure(url, rPath string, stderr []byte, err error) error {
	s := string(stderr)
	switch {
	case strings.Contains(s, "is not signed by any of the keys"):
		return fmt.Errorf("nix refused the team cache's copy of %s: it is not signed by any key of nix's trusted-public-keys (add the cache's public key there)", pathOf(s, rPath))
	case damagedCopy.MatchString(s):
		return fmt.Errorf("the team cache %s holds a damaged copy of what %s needs (%s)", url, rPath, firstError(stderr))
	case strings.Contains(s, "don't know how to build") || strings.Contains(s, "is not valid") || strings.Contains(s, "could not be realised"):
		return fmt.Errorf("the team cache %s lacks part of what %s needs (%s)", url, rPath, lastLine(stderr))
	case len(stderr) == 0:
		return fmt.Errorf("nix could not fetch %s from the team cache %s: %w", rPath, url, err)
	}
	return fmt.Errorf("nix could not fetch %s from the team cache %s: %s", rPath, url, lastLine(stderr))
}

// damagedCopy matches nix's words for a NAR that is not what its signed
// narinfo says: another hash, or a compressed file that does not unpack.
var damagedCopy = regexp.MustCompile(`hash mismatch|Corrupted input|library error|cannot decompress|unexpected end`)

// firstError is nix's first error line: the cause, where the last one is
// what failed because of it.
func firstError(stderr []byte) string {
	for _, line := range strings.Split(string(stderr), "\n") {
		if strings.HasPrefix(line, "error: ") {
			return strings.TrimSpace(line)
		}
	}
	return lastLine(stderr)
}

// pathOf is the store path nix's message is about, else fallback.
func pathOf(msg, fallback string) string {
	for _, marker := range []string{"the substitute for '", "importing path '", "path '"} {
		if _, rest, ok := strings.Cut(msg, marker); ok {
			if p, _, ok := strings.Cut(rest, "'"); ok {
				return p
			}
		}
	}
	return fallback
}
