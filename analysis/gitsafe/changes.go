package gitsafe

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Changed lists the files of the work tree around dir that differ from
// revision rev: committed since, staged, modified in the working tree or
// deleted, and untracked files git does not ignore. Paths are absolute.
//
// `git diff REV` would answer too, but comparing the working tree runs the
// clean filter of every file whose stats changed, and filters come from
// the repository. Here git only reads trees and the index; working-tree
// files whose stats differ from the index are hashed in Go, as git hashes
// a blob, without any filter. A file a filter would have normalised (an
// LFS pointer, line endings) therefore counts as changed: when unsure,
// include.
func Changed(ctx context.Context, dir, rev string) ([]string, error) {
	info, err := Output(ctx, dir, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-path", "index", "--show-object-format")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(info)), "\n")
	if len(lines) != 3 {
		return nil, fmt.Errorf("git rev-parse in %s printed %q, not a work tree, an index and an object format", dir, info)
	}
	top, indexPath, format := lines[0], lines[1], lines[2]
	tree, err := Output(ctx, top, "ls-tree", "-r", "-z", "--full-tree", rev+"^{commit}")
	if err != nil {
		return nil, err
	}
	index, err := Output(ctx, top, "ls-files", "-z", "--stage", "--debug")
	if err != nil {
		return nil, err
	}
	untracked, err := Output(ctx, top, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	indexInfo, err := os.Stat(indexPath)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read git's index: %w", err)
	}
	var indexTime int64
	if indexInfo != nil {
		indexTime = indexInfo.ModTime().UnixNano()
	}
	newHash := sha1.New
	if format == "sha256" {
		newHash = sha256.New
	}
	then, err := parseTree(tree)
	if err != nil {
		return nil, err
	}
	entries, err := parseIndex(index)
	if err != nil {
		return nil, err
	}
	now := map[string]object{}
	for _, e := range entries {
		obj, err := e.workTree(top, indexTime, newHash)
		if err != nil {
			return nil, err
		}
		if obj.mode != "" {
			now[e.path] = obj
		}
	}
	changed := map[string]bool{}
	for p, obj := range then {
		if now[p] != obj {
			changed[p] = true
		}
	}
	for p, obj := range now {
		if then[p] != obj {
			changed[p] = true
		}
	}
	for _, p := range bytes.Split(untracked, []byte{0}) {
		if len(p) > 0 {
			changed[string(p)] = true
		}
	}
	out := make([]string, 0, len(changed))
	for p := range changed {
		out = append(out, filepath.Join(top, filepath.FromSlash(p)))
	}
	sort.Strings(out)
	return out, nil
}

// object is a tree entry: its mode and the id of its content.
type object struct{ mode, id string }

// parseTree reads `ls-tree -r -z`: "MODE TYPE ID\tPATH" per entry.
func parseTree(out []byte) (map[string]object, error) {
	objects := map[string]object{}
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		head, path, ok := bytes.Cut(rec, []byte{'\t'})
		f := strings.Fields(string(head))
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("read git ls-tree: unexpected entry %q", rec)
		}
		objects[string(path)] = object{mode: f[0], id: f[2]}
	}
	return objects, nil
}

// indexEntry is one entry of `ls-files --stage --debug`.
type indexEntry struct {
	path  string
	obj   object
	stage string
	size  int64
	mtime [2]int64 // seconds, nanoseconds
	ino   uint64
	flags uint64
}

// In-memory flags ls-files --debug prints (cache.h).
const (
	flagIntentToAdd  = 1 << 29
	flagSkipWorktree = 1 << 30
)

// parseIndex reads `ls-files -z --stage --debug`: each entry is
// "MODE ID STAGE\tPATH" and a NUL, then five lines of stat data.
func parseIndex(out []byte) ([]indexEntry, error) {
	chunks := bytes.Split(out, []byte{0})
	var entries []indexEntry
	var cur *indexEntry
	for _, chunk := range chunks {
		text := string(chunk)
		// The stat lines of the previous entry come first; what follows
		// the last of them is the next entry's header.
		for strings.HasPrefix(text, "  ") {
			line, rest, _ := strings.Cut(text, "\n")
			text = rest
			if cur == nil {
				return nil, fmt.Errorf("read git ls-files: stat data before any entry")
			}
			if err := cur.readStat(line); err != nil {
				return nil, err
			}
		}
		if text == "" {
			continue
		}
		head, path, ok := strings.Cut(text, "\t")
		f := strings.Fields(head)
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("read git ls-files: unexpected entry %q", text)
		}
		entries = append(entries, indexEntry{path: path, obj: object{mode: f[0], id: f[1]}, stage: f[2]})
		cur = &entries[len(entries)-1]
	}
	return entries, nil
}

func (e *indexEntry) readStat(line string) error {
	var err error
	fields := strings.Fields(strings.ReplaceAll(line, "\t", " "))
	for i := 0; i+1 < len(fields); i += 2 {
		value := fields[i+1]
		switch fields[i] {
		case "mtime:":
			sec, nsec, _ := strings.Cut(value, ":")
			e.mtime[0], err = strconv.ParseInt(sec, 10, 64)
			if err == nil {
				e.mtime[1], err = strconv.ParseInt(nsec, 10, 64)
			}
		case "ino:":
			e.ino, err = strconv.ParseUint(value, 10, 64)
		case "size:":
			e.size, err = strconv.ParseInt(value, 10, 64)
		case "flags:":
			e.flags, err = strconv.ParseUint(value, 16, 64)
		}
		if err != nil {
			return fmt.Errorf("read git ls-files: stat line %q: %w", line, err)
		}
	}
	return nil
}

// workTree is what the working tree holds for an index entry now: mode ""
// when the file is gone.
func (e *indexEntry) workTree(top string, indexTime int64, newHash func() hash.Hash) (object, error) {
	switch {
	case e.stage != "0":
		// A conflict: whatever the working tree holds is a change.
		return object{mode: "conflict", id: e.path}, nil
	case e.obj.mode == "160000", e.flags&flagSkipWorktree != 0:
		// A submodule's commit, or a file sparse checkout left out: the
		// index is all there is.
		return e.obj, nil
	}
	path := filepath.Join(top, filepath.FromSlash(e.path))
	info, err := os.Lstat(path)
	if os.IsNotExist(err) {
		return object{}, nil
	}
	if err != nil {
		return object{}, fmt.Errorf("read %s: %w", path, err)
	}
	mode := fileMode(info)
	if mode == "" {
		return object{mode: "other", id: e.path}, nil // a directory where a file was
	}
	if mode == e.obj.mode && e.flags&flagIntentToAdd == 0 && e.statMatches(info, indexTime) {
		return e.obj, nil
	}
	id, err := blobID(path, info, newHash)
	if err != nil {
		return object{}, err
	}
	return object{mode: mode, id: id}, nil
}

// statMatches applies git's rule: stats equal to the index's, and written
// before the index was (a file changed in the same instant as the index
// is "racily clean" and must be compared by content).
func (e *indexEntry) statMatches(info fs.FileInfo, indexTime int64) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	mtime := info.ModTime()
	// The index stores 32-bit sizes and seconds.
	if uint32(info.Size()) != uint32(e.size) || uint32(st.Ino) != uint32(e.ino) || uint32(mtime.Unix()) != uint32(e.mtime[0]) {
		return false
	}
	if e.mtime[1] != 0 && int64(mtime.Nanosecond()) != e.mtime[1] {
		return false
	}
	return mtime.UnixNano() < indexTime
}

func fileMode(info fs.FileInfo) string {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return "120000"
	case !info.Mode().IsRegular():
		return ""
	case info.Mode().Perm()&0o111 != 0:
		return "100755"
	}
	return "100644"
}

// blobID is the id git gives a file's content as a blob: the hash of
// "blob SIZE\x00" and the bytes (for a link, its target).
func blobID(path string, info fs.FileInfo, newHash func() hash.Hash) (string, error) {
	h := newHash()
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("read link %s: %w", path, err)
		}
		fmt.Fprintf(h, "blob %d\x00%s", len(target), target)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	fmt.Fprintf(h, "blob %d\x00", info.Size())
	if n, err := io.Copy(h, f); err != nil || n != info.Size() {
		// A file that changes while it is read is changed.
		return "changing:" + path, nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
