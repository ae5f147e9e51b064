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
	"strconv"
	"strings"
)

// cacheVersion changes whenever the record format or the evaluation
// expression changes meaning; entries of another version are misses.
const cacheVersion = "monoflake-evalcache-4"

// record is what the cache remembers about one devShell of one component:
// the files it was evaluated from (with their stats and hashes), the
// derivation, and the last error. An entry is found by component
// directory, mode and system (entryPath), matched to a request by root,
// shell and evaluation settings, and valid while every dependency has the
// content it had. Environments themselves are stored once per derivation
// (see envPath), so records stay small and a changed input whose derivation
// is unchanged needs no build.
type record struct {
	Version      string `json:"version"`
	Root         string `json:"root"`
	Component    string `json:"component"`
	ComponentDir string `json:"componentDir"`
	Shell        string `json:"shell"`
	System       string `json:"system"`
	Mode         Mode   `json:"mode"`
	NixVersion   string `json:"nixVersion"`
	IFD          bool   `json:"ifd,omitempty"`
	// Evaluated is when the evaluation that wrote the entry started (Unix
	// nanoseconds).
	Evaluated int64 `json:"evaluated"`
	// DepCount is len(Deps): an entry cut short (a full disk, a power
	// loss) is recognised and ignored, never read as one with fewer
	// dependencies.
	DepCount   int    `json:"deps"`
	Deps       []dep  `json:"-"` // one line each after the JSON header
	DrvPath    string `json:"drvPath,omitempty"`
	Pruned     bool   `json:"pruned,omitempty"`
	PruningOff string `json:"pruningOff,omitempty"`
	// Remote is the team cache the environment was fetched from, when it
	// was not evaluated here.
	Remote string     `json:"remote,omitempty"`
	Err    *EvalError `json:"error,omitempty"`
	// Retry makes the next request evaluate again instead of answering
	// from the entry: the failure was transient (a timeout, a download, a
	// killed nix or builder), an input changed while it was evaluated, or
	// the pruning check found the entry wrong. The entry still holds the
	// last good environment.
	Retry bool `json:"retry,omitempty"`
}

// matches reports whether the entry answers for req under the cache's
// evaluation settings.
func (r *record) matches(req Request, ifd bool) bool {
	return r.Root == req.Root && r.Shell == req.Shell && r.IFD == ifd
}

func (r *record) request() Request {
	return Request{Root: r.Root, Component: r.Component, ComponentDir: r.ComponentDir, Shell: r.Shell, System: r.System, Mode: r.Mode}
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
	if r.DepCount < 0 || r.DepCount > bytes.Count(rest, []byte("\n")) {
		return nil, fmt.Errorf("read cache entry %s: it is cut short", path)
	}
	r.Deps = make([]dep, 0, r.DepCount)
	for len(rest) > 0 {
		var line []byte
		var complete bool
		line, rest, complete = bytes.Cut(rest, []byte("\n"))
		if !complete {
			return nil, fmt.Errorf("read cache entry %s: it is cut short", path)
		}
		d, err := decodeDep(string(line))
		if err != nil {
			return nil, fmt.Errorf("read cache entry %s: %w", path, err)
		}
		r.Deps = append(r.Deps, d)
	}
	if len(r.Deps) != r.DepCount {
		return nil, fmt.Errorf("read cache entry %s: %d dependencies where its header says %d", path, len(r.Deps), r.DepCount)
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
	r.DepCount = len(r.Deps)
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

// writeRecord stores an entry. It is not synced: decodeRecord reads an
// entry cut short or emptied by a power loss as none, so losing the write
// costs an evaluation, never a wrong hit.
func writeRecord(path string, r *record) error {
	data, err := encodeRecord(r)
	if err != nil {
		return err
	}
	return writeCacheFile(path, data)
}

// refreshRecord rewrites an entry whose files were touched but not
// changed. Losing that write costs only a hash on the next hit, so it is
// not synced: a hit must not wait for the disk.
func refreshRecord(path string, r *record) error {
	data, err := encodeRecord(r)
	if err != nil {
		return err
	}
	return writeCacheFile(path, data)
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

// writeAtomic writes data to a temporary file next to path, syncs it and
// renames it into place: a reader sees the old or the new content, never a
// mix, and neither a killed process nor a power loss leaves a file that
// is cut short under the final name. It is for files whose mere presence
// is trusted (a trust decision, a verdict of the pruning check).
func writeAtomic(path string, data []byte) error {
	return writeFile(path, data, true)
}

// writeCacheFile is writeAtomic without the sync, for files whose reader
// tells a damaged copy from a good one and treats it as absent (an entry,
// an environment, a check job, a pruned flake compared with what it should
// hold). A killed process still leaves the old or the new content; a
// power loss may leave an empty or cut-short file, which costs an
// evaluation. The syncs cost 1-5 ms each on the answer of every miss,
// where nix has just written to the disk, as the Go build cache and gopls'
// file cache found before: neither syncs, both check what they read.
func writeCacheFile(path string, data []byte) error {
	return writeFile(path, data, false)
}

func writeFile(path string, data []byte, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// isUnder reports whether path is dir or inside it.
func isUnder(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
