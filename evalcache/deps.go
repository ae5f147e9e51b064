package evalcache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sourcegraph/conc"
)

// racyWindow is how close to a moment a file's last change may be for its
// times to prove nothing about that moment. File times come from a clock
// that ticks every few milliseconds (a jiffy: 1 to 10 ms) and may lag the
// precise clock by as much, so a file written twice within one tick, with
// the same size, has the same stats both times, and a file written just
// after a moment may carry a time just before it. Like git's "racily clean"
// index entries, such a file is compared by content, or, when there is no
// content to compare with, taken as changed.
const racyWindow = 20 * time.Millisecond

// dep is one file or directory an evaluation read. Stats are compared first;
// the content hash only when they differ, so touching a file without
// changing it is still a hit.
type dep struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // nanoseconds; 0 forces a comparison by content
	Inode uint64 `json:"inode"`
	Hash  string `json:"hash"` // "" when missing; listing hash for directories
	Dir   bool   `json:"dir,omitempty"`
	// Link marks a symbolic link: recorded by its target, never followed,
	// as nix copies links as links (and a link may lead out of the
	// repository, or into a loop).
	Link bool `json:"link,omitempty"`
	// Tool marks the nix binary and monoflake's own files: dependencies,
	// not files to watch.
	Tool bool `json:"tool,omitempty"`

	changed int64 // last change (mtime or ctime, the later), not stored
}

func (d *dep) setStat(info fs.FileInfo) {
	d.Size, d.MTime, d.Dir = info.Size(), info.ModTime().UnixNano(), info.IsDir()
	d.Link = info.Mode()&fs.ModeSymlink != 0
	d.changed = d.MTime
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		d.Inode = uint64(st.Ino)
		d.changed = max(d.changed, st.Ctim.Nano())
	}
}

func (d dep) sameStat(o dep) bool {
	return d.Size == o.Size && d.MTime == o.MTime && d.Inode == o.Inode && d.Dir == o.Dir && d.Link == o.Link
}

// settle makes a dependency changed within racyWindow of now compare by
// content next time.
func (d *dep) settle(now time.Time) {
	if d.Hash != "" && !d.Tool && d.changed >= now.Add(-racyWindow).UnixNano() {
		d.MTime = 0
	}
}

// contentHash hashes a file's bytes, or a directory's sorted entry names and
// kinds (its files are dependencies of their own).
func contentHash(path string, dir, link bool) (string, error) {
	h := sha256.New()
	if link {
		target, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("read link %s: %w", path, err)
		}
		fmt.Fprintf(h, "link\x00%s", target)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if dir {
		entries, err := os.ReadDir(path)
		if err != nil {
			return "", fmt.Errorf("read directory %s: %w", path, err)
		}
		for _, e := range entries {
			fmt.Fprintf(h, "%s\x00%v\x00", e.Name(), e.Type())
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// validate reports whether every dependency still has the recorded content.
// It returns the dependencies with refreshed stats (changed is true when a
// touched-but-identical file needs its new stats written back). Large lists
// (an unpruned evaluation of a big repository reads every module) are
// checked in parallel: the cost is one stat per file, and stat is slow on
// loaded machines.
func validate(deps []dep) (fresh []dep, ok, changed bool) {
	fresh = make([]dep, len(deps))
	now := time.Now()
	const chunk = 512
	if len(deps) <= chunk {
		ok, changed = validateRange(deps, fresh, now)
		return fresh, ok, changed
	}
	var wg conc.WaitGroup
	var failed, anyChanged atomic.Bool
	for start := 0; start < len(deps); start += chunk {
		end := min(start+chunk, len(deps))
		wg.Go(func() {
			ok, changed := validateRange(deps[start:end], fresh[start:end], now)
			if !ok {
				failed.Store(true)
			}
			if changed {
				anyChanged.Store(true)
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, false, false
	}
	return fresh, true, anyChanged.Load()
}

func validateRange(deps, fresh []dep, now time.Time) (ok, changed bool) {
	for i, d := range deps {
		fresh[i] = d
		info, err := os.Lstat(d.Path)
		if err != nil {
			if d.Hash == "" && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return false, false
		}
		if d.Hash == "" {
			return false, false // it exists now
		}
		cur := d
		cur.setStat(info)
		if cur.sameStat(d) {
			continue
		}
		if d.Tool || cur.Dir != d.Dir || cur.Link != d.Link || (!cur.Dir && cur.Size != d.Size) {
			return false, false
		}
		h, err := contentHash(d.Path, d.Dir, d.Link)
		if err != nil || h != d.Hash {
			return false, false
		}
		cur.settle(now)
		fresh[i] = cur
		changed = changed || !cur.sameStat(d)
	}
	return true, changed
}

// snapshotDeps records every path, expanding directories into their files,
// and returns them sorted and without duplicates. known holds states taken
// earlier (before nix ran): a file whose stats are the same and whose last
// change is older than that moment keeps its hash without being read
// again.
func snapshotDeps(paths []string, known map[string]dep, knownAt time.Time) ([]dep, error) {
	seen := map[string]bool{}
	var deps []dep
	var add func(string) error
	add = func(p string) error {
		p = filepath.Clean(p)
		if seen[p] {
			return nil
		}
		seen[p] = true
		d, err := snapshotDep(p, known, knownAt)
		if err != nil {
			return err
		}
		deps = append(deps, d)
		if !d.Dir {
			return nil
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return fmt.Errorf("read directory %s: %w", p, err)
		}
		for _, e := range entries {
			if e.Name() == ".git" {
				continue
			}
			if err := add(filepath.Join(p, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	for _, p := range paths {
		if err := add(p); err != nil {
			return nil, err
		}
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path < deps[j].Path })
	return deps, nil
}

// snapshotDep records the current state of a path. A missing path is a
// valid dependency: creating it must invalidate the entry.
func snapshotDep(path string, known map[string]dep, knownAt time.Time) (dep, error) {
	d := dep{Path: path}
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("stat %s: %w", path, err)
	}
	d.setStat(info)
	if k, ok := known[path]; ok && k.Hash != "" && k.sameStat(d) && d.changed < knownAt.Add(-racyWindow).UnixNano() {
		d.Hash = k.Hash
		return d, nil
	}
	d.Hash, err = contentHash(path, d.Dir, d.Link)
	return d, err
}

// snapshotKnown records, before nix runs, the files an evaluation is known
// to read: the model's closure, flake.nix and flake.lock, and what the last
// evaluation read. Comparing with it afterwards tells an edit made while
// nix ran. Files that cannot be read are left out; they are checked by
// their times instead.
func snapshotKnown(paths []string, prev []dep) (map[string]dep, time.Time) {
	at := time.Now()
	known := make(map[string]dep, len(paths)+len(prev))
	old := make(map[string]dep, len(prev))
	for _, d := range prev {
		if !d.Tool && !d.Dir {
			old[d.Path] = d
			paths = append(paths, d.Path)
		}
	}
	for _, p := range paths {
		p = filepath.Clean(p)
		if _, ok := known[p]; ok {
			continue
		}
		// The last evaluation's hashes serve again while stats hold; they
		// were taken long enough ago to prove something.
		if d, err := snapshotDep(p, old, at); err == nil && !d.Dir {
			known[p] = d
		}
	}
	return known, at
}

// changedWhileEvaluating names a dependency that changed after the
// evaluation started: its content differs from what was recorded before,
// or, for a file not known then, it was written after the start. "" when
// none did. An entry made from such inputs would pair new hashes with an
// old environment.
func changedWhileEvaluating(deps []dep, known map[string]dep, start time.Time) string {
	for _, d := range deps {
		if d.Tool {
			continue
		}
		if k, ok := known[d.Path]; ok {
			if k.Hash != d.Hash {
				return d.Path
			}
			continue
		}
		if d.Hash != "" && !d.Dir && d.changed >= start.Add(-racyWindow).UnixNano() {
			return d.Path
		}
	}
	return ""
}
