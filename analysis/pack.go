package analysis

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"

	"github.com/monoflake/monoflake/analysis/indexcache"
)

// The persistent index holds, per repository, one pack: for every .nix
// file, the stats it had when read (size, modification time, inode), the
// hash of its content and its facts. A file whose stats are unchanged is
// answered from the pack without being read; one whose content is
// unchanged (touched, or moved back) without being parsed.

// factsVersion changes whenever facts or the way they are read change, so
// that facts of another version are never read.
const factsVersion = "facts-3"

// packHeader is stored apart from the facts, so that a process asking
// only whether anything changed reads the stats and not the facts. It
// names the facts' entry by the hash of its content, so a header never
// pairs with facts another process wrote.
type packHeader struct {
	Version string
	Root    string
	// Key names the results computed from the snapshot the pack was
	// written from (see Snapshot.ResultKey).
	Key string
	// Listing and ConfigDigest are the digests of the repository's file
	// listing and configuration file then.
	Listing      string
	ConfigDigest string
	Files        []packStat
	// Shards are the facts' entries, packShards of them (see readPack).
	Shards []string
	// Git says the listing came from git; Untracked are the untracked
	// files it listed, and Dirs and Ignores the stats of the directories
	// and of the ignore files then: while none changed, no untracked file
	// came or went, so git's index alone gives the listing.
	Git       bool
	Untracked []string
	Dirs      []packStat
}

type packStat struct {
	Path  string
	Size  int64
	MTime int64
	Ino   uint64
	Hash  string
}

// packFile is one file of a pack, with its facts.
type packFile struct {
	Path  string
	Size  int64
	MTime int64
	Ino   uint64
	Hash  string
	Facts *facts
}

// racyWindow is how close to the moment a file was read its modification
// time may be for its stats to still prove its content later: file systems
// stamp times with a coarse clock (a few milliseconds on Linux), so a file
// written again within a tick of being read can keep its size and time.
// Like git's "racily clean" index entries, such a file is stored without
// its time and compared by content next time (a read and a hash, not a
// parse); so is a folder listed within a tick of its last change.
const racyWindow = 20 * time.Millisecond

// settled is mtime, or 0 (which no file has) when it lies within
// racyWindow of at, the moment the file or folder was read.
func settled(mtime int64, at time.Time) int64 {
	if mtime >= at.Add(-racyWindow).UnixNano() {
		return 0
	}
	return mtime
}

// fileStat is what identifies a file's content without reading it.
type fileStat struct {
	size  int64
	mtime int64
	ino   uint64
}

func statOf(path string) (fileStat, bool) {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return fileStat{}, false
	}
	return statFromInfo(info), true
}

// listedStat is a file's stats as the listing learned them, else statOf.
func listedStat(path string, listed map[string]fileStat) (fileStat, bool) {
	if st, ok := listed[path]; ok {
		return st, true
	}
	return statOf(path)
}

func statFromInfo(info os.FileInfo) fileStat {
	st := fileStat{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// packKey names a repository's pack: its root and what read its files.
func packKey(root string) string {
	return indexcache.Key("pack", ReaderVersion(), root)
}

// ReaderVersion names what reads files into facts and models: the facts'
// version and the program (a rebuilt monoflake may read files
// differently). Results derived from the model and kept across processes
// are stored under it.
func ReaderVersion() string {
	exe := "unknown"
	if p, err := os.Executable(); err == nil {
		if info, err := os.Stat(p); err == nil {
			exe = fmt.Sprintf("%s\x00%d\x00%d", filepath.Clean(p), info.ModTime().UnixNano(), info.Size())
		}
	}
	return factsVersion + "\x00" + exe
}

// readPackHeader returns the header of a repository's pack.
func readPackHeader(store *indexcache.Store, root string) (*packHeader, bool) {
	if store == nil {
		return nil, false
	}
	data, ok := store.Get(packKey(root))
	if !ok {
		return nil, false
	}
	var h packHeader
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&h); err != nil || h.Version != factsVersion || h.Root != root {
		return nil, false
	}
	return &h, true
}

// packShards is how many entries a pack's facts are split into, by the
// hash of each file's path: an edit rewrites the shard of the edited file,
// not the facts of every file, and a load decodes the shards in parallel.
const packShards = 64

func shardOf(path string) int {
	h := fnv.New32a()
	h.Write([]byte(path))
	return int(h.Sum32() % packShards)
}

// shardKey names a shard by what determines its facts: the program that
// read them and each file's path and content, in the header's order.
func shardKey(reader string, files []packStat) string {
	parts := []string{"facts", reader}
	for _, f := range files {
		parts = append(parts, f.Path, f.Hash)
	}
	return indexcache.Key(parts...)
}

// packed is what readPack found: the files by path, the key the pack was
// written with, and the shards that read back whole, which writePack need
// not write again.
type packed struct {
	files  map[string]*packFile
	key    string
	shards map[string]bool
}

// readPack reads a repository's pack, from its header h when the caller
// read it already (nil: read here). A shard that is missing or cannot be
// decoded costs only its files, which are read again; no header costs all
// of them.
func readPack(store *indexcache.Store, root string, h *packHeader) packed {
	if h == nil {
		h, _ = readPackHeader(store, root)
	}
	if h == nil || len(h.Shards) != packShards {
		return packed{}
	}
	byShard := make([][]packStat, packShards)
	for _, st := range h.Files {
		k := shardOf(st.Path)
		byShard[k] = append(byShard[k], st)
	}
	reader := ReaderVersion()
	decoded := make([][]*facts, packShards)
	var wg conc.WaitGroup
	var next atomic.Int64
	for w := 0; w < min(runtime.GOMAXPROCS(0), packShards); w++ {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= packShards {
					return
				}
				if len(byShard[k]) == 0 || h.Shards[k] != shardKey(reader, byShard[k]) {
					continue
				}
				data, ok := store.Get(h.Shards[k])
				if !ok {
					continue
				}
				var facts []*facts
				if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&facts); err == nil && len(facts) == len(byShard[k]) {
					decoded[k] = facts
				}
			}
		})
	}
	wg.Wait()
	out := packed{files: make(map[string]*packFile, len(h.Files)), key: h.Key, shards: map[string]bool{}}
	for k, files := range byShard {
		if decoded[k] == nil {
			continue
		}
		out.shards[h.Shards[k]] = true
		for i, st := range files {
			out.files[st.Path] = &packFile{Path: st.Path, Size: st.Size, MTime: st.MTime, Ino: st.Ino, Hash: st.Hash, Facts: decoded[k][i]}
		}
	}
	return out
}

// writePack stores a repository's pack: the shards first, each under the
// key of what determines it (those in kept, which read back whole, are not
// written again), then the header naming them.
func writePack(store *indexcache.Store, h packHeader, files []packFile, kept map[string]bool) error {
	h.Version = factsVersion
	h.Files = make([]packStat, len(files))
	byShard := make([][]int, packShards)
	for i, f := range files {
		h.Files[i] = packStat{Path: f.Path, Size: f.Size, MTime: f.MTime, Ino: f.Ino, Hash: f.Hash}
		k := shardOf(f.Path)
		byShard[k] = append(byShard[k], i)
	}
	h.Shards = make([]string, packShards)
	reader := ReaderVersion()
	p := pool.New().WithErrors().WithMaxGoroutines(runtime.GOMAXPROCS(0))
	for k, idx := range byShard {
		stats := make([]packStat, len(idx))
		for j, i := range idx {
			stats[j] = h.Files[i]
		}
		h.Shards[k] = shardKey(reader, stats)
		if len(idx) == 0 || kept[h.Shards[k]] {
			continue
		}
		p.Go(func() error {
			facts := make([]*facts, len(idx))
			for j, i := range idx {
				facts[j] = files[i].Facts
			}
			var body bytes.Buffer
			if err := gob.NewEncoder(&body).Encode(facts); err != nil {
				return err
			}
			return store.Put(h.Shards[k], body.Bytes())
		})
	}
	if err := p.Wait(); err != nil {
		return err
	}
	var head bytes.Buffer
	if err := gob.NewEncoder(&head).Encode(h); err != nil {
		return err
	}
	return store.Put(packKey(h.Root), head.Bytes())
}

func configDigest(config []byte) string {
	return indexcache.Key("config", string(config))
}

// resultKey names what a repository's model determines: the program,
// the configuration, the file listing and every .nix file's content.
func resultKey(root, config, listing string, files []packFile) string {
	parts := []string{"results", factsVersion, root, config, listing}
	for _, f := range files {
		parts = append(parts, f.Path, f.Hash)
	}
	return indexcache.Key(parts...)
}

// Unchanged reports whether the repository holding dir is as the index
// last saw it: the same listing, every .nix file with the stats it had. key
// then names the results computed from it (what Snapshot.ResultKey
// returned then), which callers store in the index themselves. It reads no
// file but the configuration, and parses nothing.
func Unchanged(ctx context.Context, dir string, store *indexcache.Store) (key string, ok bool) {
	p := Prove(ctx, dir, store)
	return p.Key, p.Key != ""
}

// A Proof is what checking a repository against the index found: the key
// of its results when nothing changed since the index was written (see
// Unchanged), and the listing the check made, which a load that follows
// at once reuses (LoadOptions.Proof) instead of listing the repository a
// second time.
type Proof struct {
	// Key is the result key of the unchanged repository; "" when something
	// changed, or the index cannot tell.
	Key    string
	root   string
	listed *listing
	// header is the pack's header the check read, which a load that
	// follows need not decode again (at 5,000 components it holds 25,000
	// stats).
	header *packHeader
}

// listing is what listing a repository learned.
type listing struct {
	paths []string
	stats map[string]fileStat
	table *FSTable
	at    time.Time // when the listing started
}

// Prove checks the repository holding dir against the index.
func Prove(ctx context.Context, dir string, store *indexcache.Store) Proof {
	root, _, err := FindRoot(dir)
	if err != nil {
		return Proof{}
	}
	h, ok := readPackHeader(store, root)
	if !ok || h.Key == "" {
		return Proof{}
	}
	listedAt := time.Now()
	paths, stats, table, ok := quickListing(ctx, root, h)
	if !ok {
		if paths, stats, table, err = listFiles(ctx, root); err != nil {
			return Proof{}
		}
	}
	p := Proof{root: root, listed: &listing{paths: paths, stats: stats, table: table, at: listedAt}, header: h}
	listingDigest := table.digest()
	if listingDigest != h.Listing || len(paths) != len(h.Files) {
		return p
	}
	for i, st := range h.Files {
		got, ok := listedStat(st.Path, stats)
		if !ok || paths[i] != st.Path || got.size != st.Size || got.mtime != st.MTime || got.ino != st.Ino {
			return p
		}
	}
	config, _ := os.ReadFile(filepath.Join(root, ConfigFile))
	if configDigest(config) != h.ConfigDigest {
		return p
	}
	p.Key = h.Key
	return p
}

// quickListing lists a git work tree from git's index alone, with the
// untracked files the pack recorded, when no directory and no ignore file
// changed since: then no untracked file came or went. It costs a stat per
// directory instead of git's walk of the tree.
func quickListing(ctx context.Context, root string, h *packHeader) (nix []string, stats map[string]fileStat, table *FSTable, ok bool) {
	if h == nil || !h.Git || len(h.Dirs) == 0 {
		return nil, nil, nil, false
	}
	for _, d := range h.Dirs {
		got, ok := statAny(d.Path)
		if !ok || got.mtime != d.MTime || got.size != d.Size || got.ino != d.Ino {
			return nil, nil, nil, false
		}
	}
	tracked, err := gitTracked(ctx, root)
	if err != nil {
		return nil, nil, nil, false
	}
	all := append(tracked, h.Untracked...)
	stats = make(map[string]fileStat, len(h.Files))
	for _, p := range all {
		if strings.HasSuffix(p, ".nix") && keepListed(root, p, stats) {
			nix = append(nix, p)
		}
	}
	sort.Strings(nix)
	return nix, stats, NewFSTable(root, all, trackedSet(tracked), nil, true), true
}

func trackedSet(paths []string) map[string]bool {
	out := make(map[string]bool, len(paths))
	for _, p := range paths {
		out[p] = true
	}
	return out
}

// statAny is statOf for directories too.
func statAny(path string) (fileStat, bool) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStat{}, false
	}
	return statFromInfo(info), true
}

// listingStats records what quickListing needs: the untracked files, and
// the stats of every directory and ignore file of the listing, which
// started at listedAt (a folder changed within a tick of it is listed
// again next time).
func listingStats(table *FSTable, root string, listedAt time.Time) (untracked []string, dirs []packStat) {
	for p, e := range table.files {
		if !e.tracked {
			untracked = append(untracked, p)
		}
	}
	sort.Strings(untracked)
	watched := []string{root, filepath.Join(root, ".git", "info", "exclude")}
	for d := range table.dirs {
		watched = append(watched, d)
	}
	for p := range table.files {
		if filepath.Base(p) == ".gitignore" {
			watched = append(watched, p)
		}
	}
	sort.Strings(watched)
	for _, p := range watched {
		if st, ok := statAny(p); ok {
			dirs = append(dirs, packStat{Path: p, Size: st.size, MTime: settled(st.mtime, listedAt), Ino: st.ino})
		} else {
			dirs = append(dirs, packStat{Path: p, MTime: -1})
		}
	}
	return untracked, dirs
}
