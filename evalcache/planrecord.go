package evalcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/indexcache"
)

// A plan record answers a miss without proving the whole repository
// unchanged. The plan of one component depends on the files its request
// names (its import closure and the pruned modules), on the flake's own
// files (flake.nix, flake.lock, the configuration) and on the directories
// between the path and the repository root (a new flake.nix or component
// there changes which component holds the path). While those are as they
// were, the plan stands, for a stat per file: what an environment entry's
// hit costs too.
//
// A file elsewhere can still change a plan (a new module adding to the
// component's devShell, say). That is what a cache hit already trusts, and
// a plan answered this way is checked after the answer, in the detached
// process that runs the pruning check: it plans again from the whole
// repository and, when the plan differs, stores the new one and marks the
// entry for a new evaluation (see replan).

// planRecord is what the index keeps of a plan.
type planRecord struct {
	Request Request `json:"request"`
	Files   []dep   `json:"files"` // files, and missing files, the plan was made from
	// Facts digests what a plan may depend on in each Nix file of Files
	// (analysis.PlanDigest) but the root flake.nix, whose text the pruned
	// flake is made of: an edit that keeps it (a derivation's body, a
	// comment, a new src) keeps the plan, for a parse of the edited file.
	Facts map[string]string `json:"facts,omitempty"`
	Dirs  []planDir         `json:"dirs"`
}

// planDir is a directory whose Nix-relevant entries the plan depends on.
// While its stats hold it is not listed (the root of a large monorepo has
// thousands of entries); when they moved, its listing is compared.
type planDir struct {
	Path  string `json:"path"`
	Names string `json:"names"` // digest of dirNames; "" when missing
	MTime int64  `json:"mtime"` // 0: compare the listing
	Inode uint64 `json:"inode"`
}

// newPlanDir records a directory's state now.
func newPlanDir(path string, now time.Time) planDir {
	d := planDir{Path: path}
	info, err := os.Stat(path)
	if err == nil {
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			d.Inode = uint64(st.Ino)
		}
		// A directory changed within a clock tick of now may change again
		// with the same time: such a one is listed next time.
		if mt := info.ModTime(); mt.Before(now.Add(-racyWindow)) {
			d.MTime = mt.UnixNano()
		}
	}
	d.Names = dirNames(path)
	return d
}

// holds reports whether the directory has the entries it had.
func (d planDir) holds() bool {
	if d.MTime != 0 {
		if info, err := os.Stat(d.Path); err == nil && info.ModTime().UnixNano() == d.MTime {
			if st, ok := info.Sys().(*syscall.Stat_t); ok && uint64(st.Ino) == d.Inode {
				return true
			}
		}
	}
	return dirNames(d.Path) == d.Names
}

func planRecordKey(abs, component string, mode Mode) string {
	return indexcache.Key("plan-record", cacheVersion, analysis.ReaderVersion(), abs, component, string(mode))
}

// recordedPlan is the stored plan for the query when everything it was
// made from is unchanged, or changed only where the model reads nothing.
func (c *Cache) recordedPlan(abs, component string, mode Mode) (Request, bool) {
	if c.index == nil {
		return Request{}, false
	}
	data, ok := c.index.Get(planRecordKey(abs, component, mode))
	if !ok {
		return Request{}, false
	}
	var rec planRecord
	if json.Unmarshal(data, &rec) != nil || rec.Request.Root == "" {
		return Request{}, false
	}
	for _, d := range rec.Dirs {
		if !d.holds() {
			return Request{}, false
		}
	}
	now := time.Now()
	fresh := make([]dep, 1)
	var edited []string
	for i, d := range rec.Files {
		if ok, _ := validateRange(rec.Files[i:i+1], fresh, now); !ok {
			if rec.Facts[d.Path] == "" || d.Hash == "" {
				return Request{}, false
			}
			edited = append(edited, d.Path)
		}
	}
	if len(edited) == 0 {
		return rec.Request, true
	}
	// Taken before the digests, the new state is never newer than what
	// they describe.
	files, err := snapshotDeps(depPaths(rec.Files), nil, time.Time{})
	if err != nil {
		return Request{}, false
	}
	for _, path := range edited {
		if got, err := analysis.PlanDigest(path); err != nil || got != rec.Facts[path] {
			return Request{}, false
		}
	}
	// The next process need not parse them again.
	rec.Files = files
	c.storePlanRecord(abs, component, mode, rec)
	return rec.Request, true
}

// recordPlan stores req as the plan for the query, with the state of what
// it was made from. since is when planning started: a file changed after
// it may not be what the plan read, and nothing is stored then. s, when
// not nil, is the snapshot the plan was made from, whose facts digest the
// files without parsing them again.
func (c *Cache) recordPlan(abs, component string, mode Mode, req Request, since time.Time, s *analysis.Snapshot) {
	if c.index == nil {
		return
	}
	root, _, err := analysis.FindRoot(abs)
	if err != nil {
		return
	}
	deps, err := snapshotDeps(planFiles(req, root), nil, time.Time{})
	if err != nil {
		return
	}
	rec := planRecord{Request: req, Files: deps, Facts: map[string]string{}}
	textRead := map[string]bool{filepath.Join(root, "flake.nix"): true, filepath.Join(req.Root, "flake.nix"): true}
	for _, d := range deps {
		if d.Dir || d.Link {
			return // not a plain Nix file: leave such a plan to the whole proof
		}
		if d.Hash != "" && d.changed >= since.Add(-racyWindow).UnixNano() && !readBy(s, d) {
			return
		}
		if d.Hash != "" && strings.HasSuffix(d.Path, ".nix") && !textRead[d.Path] {
			digest, ok := "", false
			if s != nil {
				digest, ok = s.PlanDigest(d.Path)
			}
			if !ok {
				var err error
				if digest, err = analysis.PlanDigest(d.Path); err != nil {
					return
				}
			}
			rec.Facts[d.Path] = digest
		}
	}
	now := time.Now()
	for _, d := range ancestors(abs, root) {
		rec.Dirs = append(rec.Dirs, newPlanDir(d, now))
	}
	c.storePlanRecord(abs, component, mode, rec)
}

// readBy reports whether the snapshot a plan was made from read the
// content a dependency now has. Such a file may have changed just before
// the plan (a save right before the prompt), or during it and back: the
// plan was made from the content the record pairs with it either way.
// Other files changed since planning started may be newer than what the
// plan read, and keep the plan from being recorded.
func readBy(s *analysis.Snapshot, d dep) bool {
	if s == nil {
		return false
	}
	hash, ok := s.ContentHash(d.Path)
	return ok && hash == d.Hash
}

// storePlanRecord writes a plan record; its files' recent times are
// settled first, so that a file written twice within a clock tick is
// compared by content.
func (c *Cache) storePlanRecord(abs, component string, mode Mode, rec planRecord) {
	now := time.Now()
	for i := range rec.Files {
		rec.Files[i].settle(now)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return
	}
	_ = c.index.Put(planRecordKey(abs, component, mode), data) // losing it costs the next miss time
}

func depPaths(deps []dep) []string {
	paths := make([]string, len(deps))
	for i, d := range deps {
		paths[i] = d.Path
	}
	return paths
}

// planFiles are the files a plan is made from: the Nix files among those
// the request names (the model reads nothing else; the others, sources
// and data, are dependencies of the environment, not of the plan), and the
// flake's own files.
func planFiles(req Request, root string) []string {
	var files []string
	for _, f := range req.Files {
		if strings.HasSuffix(f, ".nix") {
			files = append(files, f)
		}
	}
	if req.Pruned != nil {
		files = append(files, req.Pruned.Modules...)
	}
	for _, dir := range []string{root, req.Root} {
		files = append(files, filepath.Join(dir, "flake.nix"), filepath.Join(dir, "flake.lock"), filepath.Join(dir, analysis.ConfigFile))
	}
	return files
}

// ancestors are the directories from abs (or the directory holding it)
// up to root, both included.
func ancestors(abs, root string) []string {
	dir := abs
	if info, err := os.Stat(abs); err == nil && !info.IsDir() {
		dir = filepath.Dir(abs)
	}
	var dirs []string
	for {
		dirs = append(dirs, dir)
		if dir == root || !isUnder(dir, root) || filepath.Dir(dir) == dir {
			return dirs
		}
		dir = filepath.Dir(dir)
	}
}

// dirNames digests the entries of a directory that can change a plan:
// its Nix files, its flake files and its directories. Others (an editor's
// swap file, a build's result link) come and go without changing one.
func dirNames(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && !analysis.SkippedDir(name):
			names = append(names, name+"/")
		case strings.HasSuffix(name, ".nix"), name == "flake.lock", name == analysis.ConfigFile:
			names = append(names, name)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00", n)
	}
	return "d" + hex.EncodeToString(h.Sum(nil))
}

// replan plans a job's query again from the whole repository, in the
// detached process after the answer. A plan that differs from the one the
// entry was evaluated from has been stored by then (planWhole records it),
// and the entry is marked for a new evaluation; a query that no longer
// plans loses its record, so that the next request says why.
func (c *Cache) replan(ctx context.Context, job checkJob) {
	q := job.Replan
	used := job.Request
	fresh, err := c.planWhole(ctx, q.Path, q.Component, used.Mode)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		c.log.Info("the recorded plan no longer plans", "path", q.Path, "error", err)
		if c.index != nil {
			_ = c.index.Remove(planRecordKey(q.Path, q.Component, used.Mode))
		}
		c.markRetry(ctx, job)
		return
	}
	if samePlan(fresh, used) {
		c.log.Info("the recorded plan holds", "path", q.Path, "component", used.Component)
		return
	}
	c.log.Info("the recorded plan was out of date; the next request evaluates the new one", "path", q.Path, "component", fresh.Component)
	c.markRetry(ctx, job)
}

// samePlan reports whether two requests evaluate the same thing the same
// way, whoever vouched for them and whether or not defaults were filled in.
func samePlan(a, b Request) bool {
	if n, err := normalize(a); err == nil {
		a = n
	}
	if n, err := normalize(b); err == nil {
		b = n
	}
	a.Trusted, b.Trusted, a.replan, b.replan = false, false, nil, nil
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
