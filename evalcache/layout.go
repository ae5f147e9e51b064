package evalcache

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// layout names every file of the cache folder:
//
//	entries/<h(componentDir, mode, system)>.json   one per component (see record.go)
//	envs/<h(drvPath)>.json                         print-dev-env output, shared by every entry with that drv
//	roots/<entry>, roots/<entry>-N-link           nix profiles: GC roots of each entry's environment
//	locks/<entry>.lock, locks/check-<key>.lock     flock: one evaluation per entry, one check per key
//	pruned/<h(source)>.nix                         pruned flakes
//	nix/scoped-<h>.nix                             the evaluation helper
//	nix/version-<h(nix binary's path and stats)>   what its --version said
//	checks/<key>.json, checks.log                  pruning checks waiting to run, and their log
//	verified/<key>                                 a check found the pruned module list complete
//	noprune/<h(root)>                              a check found it incomplete: pruning is off
type layout struct{ dir string }

func (l layout) helperPath() string {
	return filepath.Join(l.dir, "nix", "scoped-"+hashStrings(string(scopedNix))[:16]+".nix")
}

func (l layout) nixVersionPath(binary dep) string {
	return filepath.Join(l.dir, "nix", "version-"+hashStrings(binary.Path, binary.Hash)[:16])
}

func (l layout) prunedDir() string { return filepath.Join(l.dir, "pruned") }

func (l layout) prunedPath(p *Pruned) string {
	return filepath.Join(l.prunedDir(), hashStrings(string(p.FlakeSource))+".nix")
}

func (l layout) entryPath(componentDir string, mode Mode, system string) string {
	return filepath.Join(l.dir, "entries", hashStrings(cacheVersion, componentDir, string(mode), system)+".json")
}

func (l layout) envPath(drvPath string) string {
	return filepath.Join(l.dir, "envs", hashStrings(drvPath)+".json")
}

// rootPath is the profile (GC root) of an entry's environment. It is per
// entry, not per derivation: nix registers a profile by its path, so one
// cannot be renamed once the derivation is known.
func (l layout) rootPath(entry string) string {
	return filepath.Join(l.dir, "roots", strings.TrimSuffix(filepath.Base(entry), ".json"))
}

func (l layout) entryLockPath(entry string) string {
	return filepath.Join(l.dir, "locks", filepath.Base(entry)+".lock")
}

func (l layout) noPrunePath(root string) string {
	return filepath.Join(l.dir, "noprune", hashStrings(root))
}

// checkKey names one pruning check. It is the pruned flake, not the
// derivation: edits inside the kept modules change the derivation but not
// whether the list is complete, and the model rewrites the list when
// references change.
func checkKey(req Request) string {
	return hashStrings(req.Root, req.System, req.Shell, string(req.Pruned.FlakeSource))
}

func (l layout) verifiedPath(key string) string { return filepath.Join(l.dir, "verified", key) }
func (l layout) checkJobPath(key string) string { return filepath.Join(l.dir, "checks", key+".json") }
func (l layout) checkLockPath(key string) string {
	return filepath.Join(l.dir, "locks", "check-"+key+".lock")
}
func (l layout) checkLogPath() string { return filepath.Join(l.dir, "checks.log") }

func (l layout) writeHelper() error {
	path := l.helperPath()
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := writeAtomic(path, scopedNix); err != nil {
		return fmt.Errorf("write the evaluation helper into the cache folder: %w", err)
	}
	return nil
}

// writePruned stores a pruned flake under its content hash. A file found
// there is used only when it holds that content: it was written without a
// sync, and a power loss may have left it empty or cut short, which nix
// would evaluate as another flake.
func (l layout) writePruned(p *Pruned) (string, error) {
	path := l.prunedPath(p)
	if data, err := os.ReadFile(path); err == nil && bytes.Equal(data, p.FlakeSource) {
		return path, nil
	}
	if err := writeCacheFile(path, p.FlakeSource); err != nil {
		return "", fmt.Errorf("write the pruned flake into the cache folder: %w", err)
	}
	return path, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
