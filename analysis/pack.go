package analysis

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/monoflake/monoflake/analysis/indexcache"
)

// The persistent index holds, per repository, one pack: for every .nix
// file, the stats it had when read (size, modification time, inode), the
// hash of its content and its facts. A file whose stats are unchanged is
// answered from the pack without being read; one whose content is
// unchanged (touched, or moved back) without being parsed.

// factsVersion changes whenever facts or the way they are read change, so
// that facts of another version are never read.
const factsVersion = "facts-1"

// packHeader comes first in a pack, so that a process asking only
// whether anything changed decodes the stats and not the facts.
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
}

type packStat struct {
	Path  string
	Size  int64
	MTime int64
	Ino   uint64
	Hash  string
}

type packFile struct {
	Path  string
	Size  int64
	MTime int64
	Ino   uint64
	Hash  string
	Facts *facts
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
	st := fileStat{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st, true
}

// packKey names a repository's pack: its root, the facts' version and the
// program that wrote them (a rebuilt monoflake may read files differently).
func packKey(root string) string {
	exe := "unknown"
	if p, err := os.Executable(); err == nil {
		if info, err := os.Stat(p); err == nil {
			exe = fmt.Sprintf("%s\x00%d\x00%d", filepath.Clean(p), info.ModTime().UnixNano(), info.Size())
		}
	}
	return indexcache.Key("pack", factsVersion, exe, root)
}

// readPackHeader decodes the header of a repository's pack and returns the
// decoder positioned at its facts.
func readPackHeader(store *indexcache.Store, root string) (*packHeader, *gob.Decoder, bool) {
	if store == nil {
		return nil, nil, false
	}
	data, ok := store.Get(packKey(root))
	if !ok {
		return nil, nil, false
	}
	dec := gob.NewDecoder(bytes.NewReader(data))
	var h packHeader
	if err := dec.Decode(&h); err != nil || h.Version != factsVersion || h.Root != root {
		return nil, nil, false
	}
	return &h, dec, true
}

// readPack returns the files of a repository's pack by path, and the key
// it was written with; nothing when there is no pack, or it cannot be
// decoded.
func readPack(store *indexcache.Store, root string) (map[string]*packFile, string) {
	h, dec, ok := readPackHeader(store, root)
	if !ok {
		return nil, ""
	}
	var facts []*facts
	if err := dec.Decode(&facts); err != nil || len(facts) != len(h.Files) {
		return nil, ""
	}
	out := make(map[string]*packFile, len(h.Files))
	for i, st := range h.Files {
		out[st.Path] = &packFile{Path: st.Path, Size: st.Size, MTime: st.MTime, Ino: st.Ino, Hash: st.Hash, Facts: facts[i]}
	}
	return out, h.Key
}

func writePack(store *indexcache.Store, root, key, listing, config string, files []packFile) error {
	h := packHeader{Version: factsVersion, Root: root, Key: key, Listing: listing, ConfigDigest: config, Files: make([]packStat, len(files))}
	facts := make([]*facts, len(files))
	for i, f := range files {
		h.Files[i] = packStat{Path: f.Path, Size: f.Size, MTime: f.MTime, Ino: f.Ino, Hash: f.Hash}
		facts[i] = f.Facts
	}
	var b bytes.Buffer
	enc := gob.NewEncoder(&b)
	if err := enc.Encode(h); err != nil {
		return err
	}
	if err := enc.Encode(facts); err != nil {
		return err
	}
	return store.Put(packKey(root), b.Bytes())
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
	root, _, err := FindRoot(dir)
	if err != nil {
		return "", false
	}
	h, _, ok := readPackHeader(store, root)
	if !ok || h.Key == "" {
		return "", false
	}
	paths, table, err := listFiles(ctx, root)
	if err != nil || table.digest() != h.Listing || len(paths) != len(h.Files) {
		return "", false
	}
	for i, st := range h.Files {
		got, ok := statOf(st.Path)
		if !ok || paths[i] != st.Path || got.size != st.Size || got.mtime != st.MTime || got.ino != st.Ino {
			return "", false
		}
	}
	config, _ := os.ReadFile(filepath.Join(root, ConfigFile))
	if configDigest(config) != h.ConfigDigest {
		return "", false
	}
	return h.Key, true
}
