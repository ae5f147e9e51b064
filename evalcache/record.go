package evalcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/sourcegraph/conc"
)

// cacheVersion changes whenever the record format or the evaluation
// expression changes meaning; it is part of every key.
const cacheVersion = "monoflake-evalcache-3"

// record is what the cache remembers about one devShell of one component:
// the files it was evaluated from (with their stats and hashes), the
// derivation, and the last error. Environments themselves are stored once per
// derivation (see envPath), so records stay small and a changed input whose
// derivation is unchanged needs no build.
type record struct {
	Version      string     `json:"version"`
	Root         string     `json:"root"`
	Component    string     `json:"component"`
	ComponentDir string     `json:"componentDir"`
	Shell        string     `json:"shell"`
	System       string     `json:"system"`
	Mode         Mode       `json:"mode"`
	NixVersion   string     `json:"nixVersion"`
	Key          string     `json:"key"`
	Deps         []dep      `json:"-"` // one line each after the JSON header, see encodeRecord
	DrvPath      string     `json:"drvPath,omitempty"`
	Pruned       bool       `json:"pruned,omitempty"`
	Err          *EvalError `json:"error,omitempty"`
	// Transient marks an error of the build rather than of the evaluation
	// (a killed builder, a full disk): it is reported, but the next request
	// tries again instead of serving the error from the cache.
	Transient bool `json:"transient,omitempty"`
}

// dep is one file or directory an evaluation read. Stats are compared first;
// the content hash only when they differ, so touching a file without
// changing it is still a hit.
type dep struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // nanoseconds
	Inode uint64 `json:"inode"`
	Hash  string `json:"hash"` // "" when missing; listing hash for directories
	Dir   bool   `json:"dir,omitempty"`
	// Link marks a symbolic link: recorded by its target, never followed,
	// as nix copies links as links (and a link may lead out of the
	// repository, or into a loop).
	Link bool `json:"link,omitempty"`
	// Tool marks the nix binary: part of the key, not a file to watch.
	Tool bool `json:"tool,omitempty"`
}

// snapshotDep records the current state of a path. A missing path is a
// valid dependency: creating it must invalidate the entry.
func snapshotDep(path string) (dep, error) {
	d := dep{Path: path}
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("stat %s: %w", path, err)
	}
	d.setStat(info)
	d.Hash, err = contentHash(path, d.Dir, d.Link)
	return d, err
}

func (d *dep) setStat(info fs.FileInfo) {
	d.Size, d.MTime, d.Dir = info.Size(), info.ModTime().UnixNano(), info.IsDir()
	d.Link = info.Mode()&fs.ModeSymlink != 0
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		d.Inode = uint64(st.Ino)
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
	const chunk = 512
	if len(deps) <= chunk {
		ok, changed = validateRange(deps, fresh)
		return fresh, ok, changed
	}
	var wg conc.WaitGroup
	var failed, anyChanged atomic.Bool
	for start := 0; start < len(deps); start += chunk {
		end := min(start+chunk, len(deps))
		wg.Go(func() {
			ok, changed := validateRange(deps[start:end], fresh[start:end])
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

func validateRange(deps, fresh []dep) (ok, changed bool) {
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
		if cur.Size == d.Size && cur.MTime == d.MTime && cur.Inode == d.Inode && cur.Dir == d.Dir && cur.Link == d.Link {
			continue
		}
		if d.Tool || cur.Dir != d.Dir || cur.Link != d.Link || (!cur.Dir && cur.Size != d.Size) {
			return false, false
		}
		h, err := contentHash(d.Path, d.Dir, d.Link)
		if err != nil || h != d.Hash {
			return false, false
		}
		fresh[i] = cur
		changed = true
	}
	return true, changed
}

// snapshotDeps records every path, expanding directories into their files,
// and returns them sorted and without duplicates.
func snapshotDeps(paths []string) ([]dep, error) {
	seen := map[string]bool{}
	var deps []dep
	var add func(string) error
	add = func(p string) error {
		p = filepath.Clean(p)
		if seen[p] {
			return nil
		}
		seen[p] = true
		d, err := snapshotDep(p)
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

// computeKey hashes everything that influenced an evaluation: monoflake's
// cache version, nix's version, system, mode, attribute and the content of
// every file read (flake.lock among them).
func computeKey(r *record) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", cacheVersion, r.NixVersion, r.System, r.Mode, r.Shell, r.Root)
	for _, d := range r.Deps {
		fmt.Fprintf(h, "%s\x00%s\x00", d.Path, d.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (r *record) files() []string {
	files := make([]string, 0, len(r.Deps))
	for _, d := range r.Deps {
		if !d.Dir && !d.Tool {
			files = append(files, d.Path)
		}
	}
	return files
}

// hashStrings is a short stable name for a tuple of strings.
func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// writeAtomic writes data to a temporary file next to path and renames it
// into place: a reader sees the old or the new content, never a mix, and a
// process killed mid-write leaves the previous file intact.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// An entry file is one line of JSON (the record without its dependencies)
// followed by one line per dependency: path, size, mtime, inode, hash and
// flags, separated by tabs. Decoding thousands of dependencies as JSON cost
// more than a cache hit may take; this format parses about ten times faster.

func readRecord(path string) (*record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeRecord(path, data)
}

func decodeRecord(path string, data []byte) (*record, error) {
	header, rest, _ := bytes.Cut(data, []byte("\n"))
	var r record
	if err := json.Unmarshal(header, &r); err != nil {
		return nil, fmt.Errorf("read cache entry %s: %w", path, err)
	}
	if r.Version != cacheVersion {
		return nil, fmt.Errorf("cache entry %s has version %q: %w", path, r.Version, fs.ErrNotExist)
	}
	r.Deps = make([]dep, 0, bytes.Count(rest, []byte("\n")))
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		d, err := decodeDep(string(line))
		if err != nil {
			return nil, fmt.Errorf("read cache entry %s: %w", path, err)
		}
		r.Deps = append(r.Deps, d)
	}
	return &r, nil
}

func decodeDep(line string) (dep, error) {
	f := strings.Split(line, "\t")
	if len(f) != 6 {
		return dep{}, fmt.Errorf("malformed dependency line %q", line)
	}
	d := dep{Path: f[0], Hash: f[4], Dir: strings.Contains(f[5], "d"), Link: strings.Contains(f[5], "l"), Tool: strings.Contains(f[5], "t")}
	if strings.HasPrefix(d.Path, `"`) {
		p, err := strconv.Unquote(d.Path)
		if err != nil {
			return dep{}, fmt.Errorf("malformed dependency path %s: %w", d.Path, err)
		}
		d.Path = p
	}
	var errs [3]error
	d.Size, errs[0] = strconv.ParseInt(f[1], 10, 64)
	d.MTime, errs[1] = strconv.ParseInt(f[2], 10, 64)
	d.Inode, errs[2] = strconv.ParseUint(f[3], 10, 64)
	return d, errors.Join(errs[:]...)
}

func encodeRecord(r *record) ([]byte, error) {
	r.Version = cacheVersion
	header, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(header)
	b.WriteByte('\n')
	for _, d := range r.Deps {
		p := d.Path
		if strings.ContainsAny(p, "\t\n\"") {
			p = strconv.Quote(p)
		}
		flags := "-"
		if d.Dir {
			flags += "d"
		}
		if d.Link {
			flags += "l"
		}
		if d.Tool {
			flags += "t"
		}
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%s\t%s\n", p, d.Size, d.MTime, d.Inode, d.Hash, flags)
	}
	return b.Bytes(), nil
}

func writeRecord(path string, r *record) error {
	data, err := encodeRecord(r)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// isUnder reports whether path is dir or inside it.
func isUnder(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
