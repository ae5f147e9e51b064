package evalcache

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// trimInterval spaces out trims, which read every entry, as Go's build
// cache does.
const trimInterval = 24 * time.Hour

// TrimIfDue trims the cache when the last trim is older than a day.
func (c *Cache) TrimIfDue() error {
	stamp := filepath.Join(c.dir, "trim.txt")
	if info, err := os.Stat(stamp); err == nil && time.Since(info.ModTime()) < trimInterval {
		return nil
	}
	if err := writeCacheFile(stamp, []byte(time.Now().UTC().Format(time.RFC3339)+"\n")); err != nil {
		return err
	}
	return c.Trim()
}

// Trim removes entries unused for longer than MaxAge, then the least
// recently used ones until the stored environments fit in MaxSize, and
// finally every environment and GC root no entry refers to any more, so that
// nix-collect-garbage can reclaim them.
func (c *Cache) Trim() error {
	type entry struct {
		path string
		used time.Time
		drv  string
	}
	paths, _ := filepath.Glob(filepath.Join(c.dir, "entries", "*.json"))
	var entries []entry
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			continue
		}
		rec, err := readRecord(p)
		if err != nil || time.Since(info.ModTime()) > c.maxAge {
			os.Remove(p)
			continue
		}
		entries = append(entries, entry{p, info.ModTime(), rec.DrvPath})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.After(entries[j].used) })
	var total int64
	counted := map[string]bool{}
	wanted := map[string]bool{}
	for _, e := range entries {
		if e.drv != "" && !counted[e.drv] {
			counted[e.drv] = true
			if info, err := os.Stat(c.envPath(e.drv)); err == nil {
				total += info.Size()
			}
		}
		if total > c.maxSize {
			c.log.Info("trimmed", "entry", e.path)
			os.Remove(e.path)
			continue
		}
		wanted[filepath.Base(c.rootPath(e.path))] = true
		if e.drv != "" {
			wanted[filepath.Base(c.envPath(e.drv))] = true
		}
	}
	// Another process may be between creating an environment or its GC
	// root and writing the entry that refers to it; files younger than an
	// evaluation may take are left for a later trim.
	settled := time.Now().Add(-c.settle)
	for _, sub := range []string{"envs", "roots"} {
		files, _ := os.ReadDir(filepath.Join(c.dir, sub))
		for _, f := range files {
			// A profile is NAME plus its generations NAME-N-link.
			name, _, _ := strings.Cut(f.Name(), "-")
			if wanted[name] || wanted[f.Name()] {
				continue
			}
			if info, err := os.Lstat(filepath.Join(c.dir, sub, f.Name())); err != nil || info.ModTime().After(settled) {
				continue
			}
			os.Remove(filepath.Join(c.dir, sub, f.Name()))
		}
	}
	// Pruning decisions and pruned flakes age out too, so a repository whose
	// pruning once fell back is tried again after MaxAge; so do the jobs of
	// checks whose process died.
	for _, sub := range []string{"noprune", "verified", "pruned", "checks"} {
		files, _ := os.ReadDir(filepath.Join(c.dir, sub))
		for _, f := range files {
			if info, err := f.Info(); err == nil && time.Since(info.ModTime()) > c.maxAge {
				os.Remove(filepath.Join(c.dir, sub, f.Name()))
			}
		}
	}
	// A process killed while writing an entry leaves its temporary file.
	temps, _ := filepath.Glob(filepath.Join(c.dir, "entries", ".*.tmp*"))
	for _, p := range temps {
		if info, err := os.Lstat(p); err == nil && info.ModTime().Before(settled) {
			os.Remove(p)
		}
	}
	// The checks' log is for reading what happened lately, not forever.
	if info, err := os.Stat(c.checkLogPath()); err == nil && info.Size() > maxCheckLog {
		os.Remove(c.checkLogPath())
	}
	return nil
}

// maxCheckLog bounds checks.log between trims.
const maxCheckLog = 1 << 20
