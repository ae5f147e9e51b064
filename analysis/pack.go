package analysis

import (
	"bytes"
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

type pack struct {
	Version string
	Root    string
	Files   []packFile
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

// readPack returns the files of a repository's pack by path; nothing when
// there is no pack, or it cannot be decoded.
func readPack(store *indexcache.Store, root string) map[string]*packFile {
	if store == nil {
		return nil
	}
	data, ok := store.Get(packKey(root))
	if !ok {
		return nil
	}
	var p pack
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&p); err != nil || p.Version != factsVersion || p.Root != root {
		return nil
	}
	out := make(map[string]*packFile, len(p.Files))
	for i := range p.Files {
		out[p.Files[i].Path] = &p.Files[i]
	}
	return out
}

func writePack(store *indexcache.Store, root string, files []packFile) error {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(pack{Version: factsVersion, Root: root, Files: files}); err != nil {
		return err
	}
	return store.Put(packKey(root), b.Bytes())
}
