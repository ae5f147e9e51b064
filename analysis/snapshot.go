package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/monoflake/monoflake/analysis/indexcache"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// File is one indexed Nix file of a snapshot.
type File struct {
	Path  string
	Err   error // why the file could not be read
	facts *facts
	tree  *syntax.Tree
	// lazy parses the file when its tree is first needed: a file whose
	// facts came from the persistent index is not parsed to answer what
	// the facts answer.
	lazy *lazyTree
	// hash is the sha256 of the content the facts were read from, for a
	// file loaded from disk ("" for an editor's buffer).
	hash string
}

// lazyTree reads and parses a file once, on demand, and only if its
// content is still the content its facts were read from (File.hash).
type lazyTree struct {
	once sync.Once
	read func() ([]byte, error)
	tree *syntax.Tree
}

// Tree returns the file's syntax tree: nil when the file could not be
// read, or (for a file indexed earlier) when its content changed since.
func (f *File) Tree() *syntax.Tree {
	switch {
	case f == nil:
		return nil
	case f.tree != nil || f.lazy == nil:
		return f.tree
	}
	l := f.lazy
	l.once.Do(func() {
		src, err := l.read()
		if err != nil || contentHash(src) != f.hash {
			return
		}
		p := syntax.NewParser()
		defer p.Close()
		l.tree = p.Parse(src)
	})
	return l.tree
}

// Lines returns the file's line index (nil when unreadable).
func (f *File) Lines() *syntax.Lines {
	if t := f.Tree(); t != nil {
		return t.Lines
	}
	return nil
}

// Snapshot is an immutable view of a workspace: every Nix file, parsed, and
// the model resolved from them. Methods are safe for concurrent use.
type Snapshot struct {
	Root string
	// HasFlake is false when no flake.nix was found; the directory is then
	// indexed as plain Nix files.
	HasFlake bool
	Config   Config
	// ConfigErr is a problem with the configuration file, if any.
	ConfigErr error
	files     map[string]*File
	fs        *FSTable
	model     *model
	resultKey string
	// paths are the files' paths, sorted once: the model walks them in
	// order many times.
	pathsOnce *sync.Once
	paths     []string
}

// Load indexes the repository containing dir: the topmost flake.nix above
// dir (see FindRoot), every .nix file below it, parsed in parallel.
func Load(ctx context.Context, dir string) (*Snapshot, error) {
	return LoadWith(ctx, dir, LoadOptions{})
}

// LoadOptions configure LoadWith.
type LoadOptions struct {
	// Index is the persistent index: files unchanged since it was written
	// are answered from it without being parsed, and it is brought up to
	// date. nil reads every file.
	Index *indexcache.Store
	// Proof, when set, is a Prove of the same repository made just before:
	// its listing is used instead of listing the repository again.
	Proof *Proof
}

// LoadWith is Load with options.
func LoadWith(ctx context.Context, dir string, opts LoadOptions) (*Snapshot, error) {
	root, hasFlake, err := FindRoot(dir)
	if err != nil {
		return nil, err
	}
	// While nothing moved since the index was written, git's index alone
	// lists the repository.
	var paths []string
	var stats map[string]fileStat
	var table *FSTable
	var header *packHeader
	listedAt := time.Now()
	if p := opts.Proof; p != nil && p.listed != nil && p.root == root {
		paths, stats, table, header, listedAt = p.listed.paths, p.listed.stats, p.listed.table, p.header, p.listed.at
	} else {
		header, _ = readPackHeader(opts.Index, root)
		var quick bool
		if paths, stats, table, quick = quickListing(ctx, root, header); !quick {
			if paths, stats, table, err = listFiles(ctx, root); err != nil {
				return nil, err
			}
		}
	}
	cfg, cfgErr := LoadConfig(root)
	s := &Snapshot{Root: root, HasFlake: hasFlake, Config: cfg, ConfigErr: cfgErr, files: make(map[string]*File, len(paths)), fs: table, pathsOnce: &sync.Once{}}
	pack := readPack(opts.Index, root, header)
	known, knownKey := pack.files, pack.key
	files, entries, changed, err := indexFilesWith(ctx, paths, stats, known)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		// A file deleted between listing and reading is simply gone.
		if !errors.Is(f.Err, fs.ErrNotExist) {
			s.files[f.Path] = f
		}
	}
	if table.Git() && s.readsMissing() {
		// Whether a missing path is ignored decides what is said of it.
		if ignored, err := gitIgnored(ctx, root); err == nil {
			table.setIgnored(ignored)
		}
	}
	configBytes, _ := os.ReadFile(filepath.Join(root, ConfigFile))
	listing, config := table.digest(), configDigest(configBytes)
	s.resultKey = resultKey(root, config, listing, entries)
	if opts.Index != nil && (changed || len(entries) != len(known) || knownKey != s.resultKey) {
		h := packHeader{Root: root, Key: s.resultKey, Listing: listing, ConfigDigest: config, Git: table.Git()}
		if h.Git {
			h.Untracked, h.Dirs = listingStats(table, root, listedAt)
		}
		// Losing this write costs the next process time, not answers.
		_ = writePack(opts.Index, h, entries, pack.shards)
	}
	s.model = resolve(s)
	return s, nil
}

// ResultKey names what the snapshot's model determines, when it was loaded
// through the persistent index and matches the disk: callers store results
// computed from it (diagnostics, plans) under it, and find them again with
// Unchanged. It is "" for a snapshot with edits the disk does not hold.
func (s *Snapshot) ResultKey() string { return s.resultKey }

// indexFilesWith indexes paths, answering those whose stats (or content)
// are unchanged since the pack known was written from the pack; listed
// holds stats the listing learned. It returns the files, the pack entries
// to keep, and whether any entry changed.
func indexFilesWith(ctx context.Context, paths []string, listed map[string]fileStat, known map[string]*packFile) ([]*File, []packFile, bool, error) {
	// Files are read after this: one whose time is this close to it is
	// stored without its time (see racyWindow).
	readAt := time.Now()
	out := make([]*File, len(paths))
	entries := make([]*packFile, len(paths))
	fresh := make([]bool, len(paths))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(paths)))
	var next atomic.Int64
	p := pool.New().WithContext(ctx).WithMaxGoroutines(workers)
	for w := 0; w < workers; w++ {
		p.Go(func(ctx context.Context) error {
			var parser *syntax.Parser
			defer func() {
				if parser != nil {
					parser.Close()
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				path := paths[i]
				st, statOK := listedStat(path, listed)
				if k := known[path]; k != nil && statOK && k.Size == st.size && k.MTime == st.mtime && k.Ino == st.ino {
					out[i], entries[i] = fromPack(path, k), k
					continue
				}
				src, err := readNixFile(path)
				if err != nil {
					out[i] = &File{Path: path, Err: err}
					continue
				}
				hash := contentHash(src)
				e := &packFile{Path: path, Size: st.size, MTime: settled(st.mtime, readAt), Ino: st.ino, Hash: hash}
				if k := known[path]; k != nil && k.Hash == hash {
					e.Facts = k.Facts
					out[i] = fromPack(path, e)
				} else {
					if parser == nil {
						parser = syntax.NewParser()
					}
					out[i] = indexFile(parser, path, src, true)
					out[i].hash = hash
					e.Facts = out[i].facts
				}
				if out[i].facts != nil && statOK {
					entries[i], fresh[i] = e, true
				}
			}
		})
	}
	if err := p.Wait(); err != nil {
		return nil, nil, false, fmt.Errorf("indexing cancelled: %w", err)
	}
	var kept []packFile
	changed := false
	for i, e := range entries {
		if e != nil {
			kept = append(kept, *e)
			changed = changed || fresh[i]
		}
	}
	return out, kept, changed, nil
}

// readsMissing reports whether some file reads a path the listing lacks.
func (s *Snapshot) readsMissing() bool {
	for _, f := range s.files {
		if f.facts == nil {
			continue
		}
		for _, p := range f.facts.Paths {
			if p.Read && !p.FromSelf && isUnder(p.Target, s.Root) && !s.fs.Exists(p.Target) {
				return true
			}
		}
	}
	return false
}

// fromPack is a file answered from the persistent index: its facts, and a
// tree read only if a feature asks for it.
func fromPack(path string, e *packFile) *File {
	return &File{Path: path, facts: e.Facts, hash: e.Hash, lazy: &lazyTree{read: func() ([]byte, error) { return readNixFile(path) }}}
}

// ContentHash is the sha256 (in hex) of the content a file's facts were
// read from, when the snapshot loaded it from disk: a caller that hashes
// the file later learns whether what it holds is what the model read.
func (s *Snapshot) ContentHash(path string) (string, bool) {
	f := s.files[filepath.Clean(path)]
	if f == nil || f.hash == "" {
		return "", false
	}
	return f.hash, true
}

// indexFile parses one file (from src when given, else from disk).
func indexFile(parser *syntax.Parser, path string, src []byte, haveSrc bool) (f *File) {
	f = &File{Path: path}
	defer func() {
		// A parser bug must cost one file, not the index.
		if r := recover(); r != nil {
			f.tree, f.facts, f.Err = nil, nil, fmt.Errorf("internal error while parsing: %v", r)
		}
	}()
	if !haveSrc {
		var err error
		if src, err = readNixFile(path); err != nil {
			f.Err = err
			return f
		}
	}
	f.tree = parser.Parse(src)
	f.facts = extractFacts(path, f.tree)
	return f
}

// WithFile returns a snapshot in which path has the content src (an
// editor's unsaved buffer, or a file changed on disk), reparsed and
// re-resolved. The receiver is unchanged.
func (s *Snapshot) WithFile(ctx context.Context, parser *syntax.Parser, path string, src []byte) *Snapshot {
	f := indexFile(parser, path, src, true)
	return s.withIndexed(f)
}

// WithTree is WithFile for a file already parsed by the caller (an edited
// document reparsed incrementally).
func (s *Snapshot) WithTree(path string, tree *syntax.Tree) *Snapshot {
	f := &File{Path: path, tree: tree}
	f.facts = extractFacts(path, tree)
	return s.withIndexed(f)
}

// WithDiskFile re-reads path from disk; a file that no longer exists is
// removed from the snapshot.
func (s *Snapshot) WithDiskFile(ctx context.Context, parser *syntax.Parser, path string) *Snapshot {
	if _, err := os.Lstat(path); err != nil {
		return s.WithoutFile(path)
	}
	if !strings.HasSuffix(path, ".nix") || !keepFile(s.Root, path) {
		return s
	}
	return s.withIndexed(indexFile(parser, path, nil, false))
}

// WithoutFile returns a snapshot without path.
func (s *Snapshot) WithoutFile(path string) *Snapshot {
	if _, ok := s.files[path]; !ok {
		return s
	}
	n := s.clone()
	delete(n.files, path)
	n.fs = s.fs.withoutFile(path)
	n.model = resolve(n)
	return n
}

func (s *Snapshot) withIndexed(f *File) *Snapshot {
	n := s.clone()
	old := s.files[f.Path]
	n.files[f.Path] = f
	n.fs = s.fs.withFile(f.Path)
	n.model = reresolve(s, n, old, f)
	return n
}

func (s *Snapshot) clone() *Snapshot {
	n := *s
	n.resultKey = "" // an edit the index does not describe
	n.pathsOnce, n.paths = &sync.Once{}, nil
	n.files = maps.Clone(s.files)
	return &n
}

// File returns the indexed file at path, or nil.
func (s *Snapshot) File(path string) *File { return s.files[filepath.Clean(path)] }

// Files returns the paths of every indexed file, sorted. The slice is
// shared: callers must not change it.
func (s *Snapshot) Files() []string {
	if s.pathsOnce == nil {
		s.pathsOnce = &sync.Once{} // a snapshot built by hand
	}
	s.pathsOnce.Do(func() {
		s.paths = make([]string, 0, len(s.files))
		for p := range s.files {
			s.paths = append(s.paths, p)
		}
		sort.Strings(s.paths)
	})
	return s.paths
}

// Components returns the components, sorted by name.
func (s *Snapshot) Components() []*Component { return s.model.components }

// Component returns the component with the given name, or nil.
func (s *Snapshot) Component(name string) *Component { return s.model.byName[name] }

// ComponentOf returns the component a path belongs to: the one whose
// directory is the nearest ancestor of path. nil when none is.
func (s *Snapshot) ComponentOf(path string) *Component {
	path = filepath.Clean(path)
	if c := s.model.byDir[path]; c != nil {
		return c
	}
	return s.model.nearest(path)
}

// Diagnostics returns the diagnostics of one file.
func (s *Snapshot) Diagnostics(path string) []Diagnostic { return s.model.diags[filepath.Clean(path)] }

// AllDiagnostics returns every diagnostic, sorted by file and position.
func (s *Snapshot) AllDiagnostics() []Diagnostic {
	var out []Diagnostic
	for _, p := range s.Files() {
		out = append(out, s.model.diags[p]...)
	}
	for p, d := range s.model.diags {
		if _, ok := s.files[p]; !ok {
			out = append(out, d...)
		}
	}
	return out
}

// Outputs returns every output defined in the workspace, sorted by
// category and name.
func (s *Snapshot) Outputs() []*Output { return s.model.outputs }

// Unread is something the model could not read (a module from a flake
// input, imports it cannot follow, names computed by a function), so the
// outputs it contributes are not known completely. Line is 1-based, 0 for
// a whole file.
type Unread struct {
	File string
	Line int
	Why  string
}

// Unread lists, once each, what keeps the repository's flakes from being
// known completely, sorted by file and line.
func (s *Snapshot) Unread() []Unread {
	var out []Unread
	for _, c := range s.model.unreadCauses() {
		u := Unread{File: c.Loc.File, Why: c.Why}
		if f := s.files[c.Loc.File]; f != nil && f.Lines() != nil && c.Loc.Span != (syntax.Span{}) {
			l, _ := f.Lines().Position(c.Loc.Span.Start)
			u.Line = l + 1
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// contentHash names a file's content in the persistent index.
func contentHash(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}
