package direnv

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// watchedFile is one entry of direnv's DIRENV_WATCHES. direnv 2.32 spells
// the JSON keys Path/Modtime/Exists and later versions path/modtime/exists;
// Go's JSON decoding ignores case, so either direnv reads what this writes.
type watchedFile struct {
	Path    string
	Modtime int64 // seconds, as direnv compares them
	Exists  bool
}

// AddWatches returns direnv's DIRENV_WATCHES value current with files added,
// as `watch_file` would compute it. Doing it here saves the .envrc one run of
// the direnv binary per load (about a third of what use_monoflake adds on a
// cache hit). An error means current is in a format this does not know (a
// future direnv); callers then fall back to watch_file.
func AddWatches(current string, files []string) (string, error) {
	entries, err := decodeWatches(current)
	if err != nil {
		return "", err
	}
	// Entries are kept as direnv wrote them, fields this code does not
	// know included; only those of files are replaced.
	index := map[string]int{}
	for i, raw := range entries {
		var w watchedFile
		if err := json.Unmarshal(raw, &w); err != nil {
			return "", fmt.Errorf("read DIRENV_WATCHES: %w", err)
		}
		index[w.Path] = i
	}
	for _, path := range files {
		w, err := statWatch(path)
		if err != nil {
			return "", err
		}
		raw, err := json.Marshal(w)
		if err != nil {
			return "", err
		}
		if i, ok := index[w.Path]; ok {
			entries[i] = raw
		} else {
			index[w.Path] = len(entries)
			entries = append(entries, raw)
		}
	}
	return encodeWatches(entries)
}

// statWatch records a file as direnv does: the later of the link's and its
// target's modification time, and a missing file (or a dangling link) as
// absent, so that creating it triggers a reload.
func statWatch(path string) (watchedFile, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return watchedFile{}, err
	}
	w := watchedFile{Path: filepath.Clean(abs)}
	link, err := os.Lstat(w.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return watchedFile{}, err
	}
	target, err := os.Stat(w.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return watchedFile{}, err
	}
	w.Exists = true
	w.Modtime = max(link.ModTime().Unix(), target.ModTime().Unix())
	return w, nil
}

// decodeWatches reads direnv's encoding: JSON, zlib-compressed, in URL-safe
// base64. An empty value is an empty list.
func decodeWatches(value string) ([]json.RawMessage, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	compressed, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("read DIRENV_WATCHES: %w", err)
	}
	r, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("read DIRENV_WATCHES: %w", err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read DIRENV_WATCHES: %w", err)
	}
	var watches []json.RawMessage
	if err := json.Unmarshal(data, &watches); err != nil {
		return nil, fmt.Errorf("read DIRENV_WATCHES: %w", err)
	}
	return watches, nil
}

func encodeWatches(watches []json.RawMessage) (string, error) {
	if watches == nil {
		watches = []json.RawMessage{}
	}
	data, err := json.Marshal(watches)
	if err != nil {
		return "", err
	}
	return compress(data)
}

// compress is direnv's gzenv encoding: zlib, then URL-safe base64.
func compress(data []byte) (string, error) {
	var compressed bytes.Buffer
	w := zlib.NewWriter(&compressed)
	if _, err := w.Write(data); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(compressed.Bytes()), nil
}
