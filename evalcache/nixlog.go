package evalcache

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// What an evaluation read, and which derivation it instantiated, comes from
// nix's own -vv log.

// selfCopiedMarker is traced by scoped.nix when something forces
// self.outPath, which makes the result depend on every tracked file.
const selfCopiedMarker = "monoflake-copied-self"

var (
	evaluatingFile = regexp.MustCompile(`^evaluating file '(.*)'$`)
	copiedSource   = regexp.MustCompile(`^copied source '(.*)' -> '(.*)'$`)
	storeSource    = regexp.MustCompile(`^(/nix/store/[a-z0-9]{32}-[^/]+)(/.*)?$`)
)

// readFiles lists the repository files an evaluation read, from nix's -vv
// log: evaluated files and copied sources, with store paths of flake sources
// mapped back to the working tree.
func (c *Cache) readFiles(ctx context.Context, req Request, log []byte) []string {
	m := storeMapper{root: req.Root, bases: map[string]string{}, subflakes: relativePathInputs(req.Root)}
	var files []string
	selfCopied := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var p string
		if g := evaluatingFile.FindStringSubmatch(line); g != nil {
			p = g[1]
		} else if g := copiedSource.FindStringSubmatch(line); g != nil {
			p = g[1]
		} else if strings.Contains(line, selfCopiedMarker) {
			selfCopied = true
			continue
		} else {
			continue
		}
		if req.Mode == Flake && len(files) == 0 && m.rootStore == "" && strings.HasSuffix(p, "/flake.nix") {
			// The first file a flake evaluation reads is the root flake.nix.
			m.rootStore = strings.TrimSuffix(p, "/flake.nix")
		}
		p, ok := m.toRepo(p)
		if !ok || isUnder(p, c.dir) && !isUnder(p, c.prunedDir()) {
			continue
		}
		files = append(files, p)
	}
	if selfCopied {
		files = append(files, trackedFiles(ctx, req.Root)...)
	}
	return files
}

// storeMapper maps store paths of flake sources back to the working tree.
type storeMapper struct {
	root      string
	rootStore string            // store path of the root flake's source (Flake mode)
	bases     map[string]string // store source path -> working tree directory
	subflakes []string          // relative path: inputs of flake.lock, as directories
}

func (m *storeMapper) toRepo(p string) (string, bool) {
	g := storeSource.FindStringSubmatch(p)
	if g == nil {
		return p, true
	}
	base, rest := g[1], g[2]
	if m.rootStore != "" && isUnder(p, m.rootStore) {
		return m.root + strings.TrimPrefix(p, m.rootStore), true
	}
	if dir, ok := m.bases[base]; ok {
		return dir + rest, dir != ""
	}
	// A sub-flake's source: find the working tree directory holding the
	// same file. The first file nix reads of a source decides for all of
	// it, so inputs such as nixpkgs cost one look each, not one per file.
	m.bases[base] = ""
	for _, dir := range m.subflakes {
		candidate := dir + rest
		if rest != "" && sameContent(p, candidate) {
			m.bases[base] = dir
			return candidate, true
		}
	}
	return "", false // an immutable store path: a locked input
}

func sameContent(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	if ib, err := os.Stat(b); err != nil || ia.Size() != ib.Size() || ia.IsDir() || ib.IsDir() {
		return false
	}
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
}

// relativePathInputs lists the working-tree directories of flake.lock's
// relative path: inputs.
func relativePathInputs(root string) []string {
	var dirs []string
	for _, rel := range readFlakeLock(root).relativePaths() {
		dirs = append(dirs, filepath.Join(root, rel))
	}
	return dirs
}

var instantiated = regexp.MustCompile(`^instantiated '(.*)' -> '(/nix/store/[^']+\.drv)'$`)

// lastInstantiated is the last derivation the log shows instantiated, and
// its name: a devShell is instantiated after its inputs, so when the
// evaluation asked for the shell, that is the shell.
func lastInstantiated(log []byte) (name, drv string) {
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if g := instantiated.FindStringSubmatch(sc.Text()); g != nil {
			name, drv = g[1], g[2]
		}
	}
	return name, drv
}
