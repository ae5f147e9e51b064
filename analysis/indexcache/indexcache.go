// Package indexcache is the persistent index every monoflake process (the
// command line, the language server, the direnv hook) shares in the cache
// folder: what the model read of a repository's files, and results
// computed from it, so that an unchanged repository costs a stat per file
// and no parse.
//
// Like the Go build cache, entries are named by what determines them and
// written to a temporary file renamed into place, so concurrent writers
// and readers never see half an entry; each carries a checksum, so an
// entry cut short (a killed process, a full disk) or written by another
// version is ignored and rebuilt, never trusted. Old entries are trimmed by
// age and total size.
package indexcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// magic starts every entry; a change of format changes it.
const magic = "monoflake-index 2\n"

// Store is the index in one folder.
type Store struct {
	dir string
}

// Dir is the index folder of a cache folder.
func Dir(cacheDir string) string { return filepath.Join(cacheDir, "index") }

// DefaultCacheDir is the cache folder shared by every monoflake process:
// $MONOFLAKE_CACHE_DIR, else $XDG_CACHE_HOME/monoflake, else
// ~/.cache/monoflake.
func DefaultCacheDir(getenv func(string) string) (string, error) {
	if d := getenv("MONOFLAKE_CACHE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "monoflake"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "monoflake"), nil
	}
	return "", errors.New("cannot find a cache folder: set MONOFLAKE_CACHE_DIR, XDG_CACHE_HOME or HOME")
}

// Open prepares the index in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the index folder: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Key names an entry by what determines it: the hash of each part after
// its length ("LEN:PART;"), so no two lists of parts share a key. A pack's
// keys hash every file's path and content hash, 30,000 parts at 5,000
// components, several times per load: the parts are appended to one
// buffer rather than formatted one by one.
func Key(parts ...string) string {
	h := sha256.New()
	var buf []byte
	for _, p := range parts {
		buf = strconv.AppendInt(buf[:0], int64(len(p)), 10)
		buf = append(buf, ':')
		buf = append(buf, p...)
		buf = append(buf, ';')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Store) path(key string) string {
	return filepath.Join(s.dir, key[:2], key)
}

// PathOf is the file an entry is stored in, for tests that damage it.
func (s *Store) PathOf(key string) string { return s.path(key) }

// Get returns the entry stored under key. A missing, cut-short or corrupt
// entry is a miss.
func (s *Store) Get(key string) ([]byte, bool) {
	data, err := os.ReadFile(s.path(key))
	if err != nil {
		return nil, false
	}
	payload, ok := unwrap(key, data)
	if !ok {
		return nil, false
	}
	touch(s.path(key))
	return payload, true
}

// unwrap checks an entry's header and checksum and returns its payload.
// The header names the key, so an entry copied or renamed to another
// key's place (a foreign entry) is a miss, not another key's answer.
func unwrap(key string, data []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(magic))
	if !ok {
		return nil, false
	}
	header, payload, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return nil, false
	}
	fields := bytes.Fields(header)
	if len(fields) != 3 || string(fields[0]) != key {
		return nil, false
	}
	sum, size := fields[1], fields[2]
	n, err := strconv.Atoi(string(size))
	if err != nil || n != len(payload) {
		return nil, false
	}
	want := sha256.Sum256(payload)
	if string(sum) != hex.EncodeToString(want[:]) {
		return nil, false
	}
	return payload, true
}

// Put stores data under key, atomically: a reader sees the old entry, the
// new one, or none.
func (s *Store) Put(key string, data []byte) error {
	p := s.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create the index folder: %w", err)
	}
	sum := sha256.Sum256(data)
	var b bytes.Buffer
	b.WriteString(magic)
	fmt.Fprintf(&b, "%s %s %d\n", key, hex.EncodeToString(sum[:]), len(data))
	b.Write(data)
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write an index entry: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write an index entry: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write an index entry: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write an index entry: %w", err)
	}
	return nil
}

// Remove deletes the entry stored under key; a missing one is no error.
func (s *Store) Remove(key string) error {
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove an index entry: %w", err)
	}
	return nil
}

// touch marks an entry used, for trimming by age, at most once an hour.
func touch(path string) {
	if info, err := os.Stat(path); err == nil && time.Since(info.ModTime()) > time.Hour {
		now := time.Now()
		_ = os.Chtimes(path, now, now)
	}
}

// Trim removes entries unused for maxAge, then the least recently used
// until the index fits in maxSize bytes. Temporary files of writers that
// died are removed once older than a minute.
func (s *Store) Trim(maxAge time.Duration, maxSize int64) error {
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var entries []entry
	now := time.Now()
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Dir(p) == s.dir {
			return nil // entries live one folder down; the stamp lives here
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if filepath.Base(p)[0] == '.' {
			if now.Sub(info.ModTime()) > time.Minute {
				os.Remove(p)
			}
			return nil
		}
		if now.Sub(info.ModTime()) > maxAge {
			os.Remove(p)
			return nil
		}
		entries = append(entries, entry{p, info.Size(), info.ModTime()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("trim the index: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.After(entries[j].used) })
	var total int64
	for _, e := range entries {
		total += e.size
		if total > maxSize {
			os.Remove(e.path)
		}
	}
	return nil
}

// TrimIfDue trims at most once a day, recorded by a stamp file.
func (s *Store) TrimIfDue(maxAge time.Duration, maxSize int64) error {
	stamp := filepath.Join(s.dir, "trimmed")
	if info, err := os.Stat(stamp); err == nil && time.Since(info.ModTime()) < 24*time.Hour {
		return nil
	}
	if err := os.WriteFile(stamp, nil, 0o644); err != nil {
		return err
	}
	return s.Trim(maxAge, maxSize)
}
