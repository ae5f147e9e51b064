package evalcache

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/evalcache/binarycache"
)

// What `monoflake publish` puts into a binary cache besides nix's own store
// paths, each an ordinary store path of one file, signed as nix signs any
// path it copies:
//
//	record  R(K)  at a path computed from the key: the environment's
//	              derivation and -env output, which it references, so
//	              fetching R brings the environment and its closure
//	deps    D     at a path computed from its text: the files an
//	              evaluation read, relative to the repository (no hashes,
//	              so one list serves every commit that reads the same files)
//	index   I(c)  at a path computed from a commit, system and nix version:
//	              for each devShell, its key and its D
//
// A client reads D and I as hints (which files to hash); only R, placed in
// its store by nix after nix checked R's signature, answers.

// publishedRecord is the content of a record.
type publishedRecord struct {
	Version    string `json:"version"`
	Key        string `json:"key"`
	Component  string `json:"component"`
	Shell      string `json:"shell"`
	System     string `json:"system"`
	Mode       Mode   `json:"mode"`
	NixVersion string `json:"nixVersion"`
	DrvPath    string `json:"drvPath"`
	EnvPath    string `json:"envPath"`
}

// objectPath is the store path of a published object named by what
// identifies it.
func objectPath(kind, name string, parts ...string) (string, error) {
	id := remoteVersion + "\x00" + kind + "\x00" + strings.Join(parts, "\x00")
	return binarycache.OutputPath(sha256.Sum256([]byte(id)), name)
}

// recordPath is where the record of key lives.
func recordPath(key, component string) (string, error) {
	const prefix = "monoflake-env-"
	return objectPath("record", prefix+binarycache.Name(component, len(prefix)), key)
}

func recordObject(rec publishedRecord) (binarycache.Object, error) {
	p, err := recordPath(rec.Key, rec.Component)
	if err != nil {
		return binarycache.Object{}, err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return binarycache.Object{}, err
	}
	return binarycache.Object{Path: p, References: []string{rec.EnvPath}, Contents: append(data, '\n')}, nil
}

// checkRecord reports whether a record read back from the store answers
// for key and req.
func checkRecord(data []byte, key string, req Request) (*publishedRecord, error) {
	var rec publishedRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("it is not a record: %w", err)
	}
	switch {
	case rec.Version != remoteVersion:
		return nil, fmt.Errorf("it has version %q, not %q", rec.Version, remoteVersion)
	case rec.Key != key:
		return nil, fmt.Errorf("it is the record of key %s, not %s", rec.Key, key)
	case rec.Component != req.Component || rec.Shell != req.Shell || rec.System != req.System || rec.Mode != req.Mode:
		return nil, fmt.Errorf("it is the record of %s/%s (%s, %s)", rec.Component, rec.Shell, rec.System, rec.Mode)
	}
	if _, name, err := binarycache.ParseStorePath(rec.EnvPath); err != nil || !strings.HasSuffix(name, "-env") {
		return nil, fmt.Errorf("its environment %q is not the output of a -env derivation", rec.EnvPath)
	}
	if _, name, err := binarycache.ParseStorePath(rec.DrvPath); err != nil || !strings.HasSuffix(name, ".drv") {
		return nil, fmt.Errorf("its derivation %q is not a .drv store path", rec.DrvPath)
	}
	return &rec, nil
}

// dependencyList is the content of a deps object.
type dependencyList struct {
	Version string   `json:"version"`
	Paths   []string `json:"paths"`
}

// maxListed bounds a list read from a cache: it is a hint, and hashing a
// forged list of millions of files would cost more than evaluating.
const maxListed = 200_000

func depsObject(deps []portableDep) (binarycache.Object, error) {
	list := dependencyList{Version: remoteVersion}
	for _, d := range deps {
		list.Paths = append(list.Paths, d.Path)
	}
	sort.Strings(list.Paths)
	data, err := json.Marshal(list)
	if err != nil {
		return binarycache.Object{}, err
	}
	data = append(data, '\n')
	p, err := objectPath("deps", "monoflake-deps", string(data))
	if err != nil {
		return binarycache.Object{}, err
	}
	return binarycache.Object{Path: p, Contents: data}, nil
}

// readDepsList reads a deps object fetched from storePath. Its path is its
// content's hash, so content under another path is refused, and so is a
// path that leaves the repository.
func readDepsList(storePath string, data []byte) ([]string, error) {
	if p, err := objectPath("deps", "monoflake-deps", string(data)); err != nil || p != storePath {
		return nil, fmt.Errorf("%s does not hold the list its path names", storePath)
	}
	var list dependencyList
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s is not a list of files: %w", storePath, err)
	}
	if len(list.Paths) > maxListed {
		return nil, fmt.Errorf("%s lists %d files, more than the %d a list may", storePath, len(list.Paths), maxListed)
	}
	for _, p := range list.Paths {
		if p != trackedPath && (p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../")) {
			return nil, fmt.Errorf("%s lists %q, which is not a path inside the repository", storePath, p)
		}
	}
	return list.Paths, nil
}

// publishedIndex is the content of an index.
type publishedIndex struct {
	Version    string       `json:"version"`
	Commit     string       `json:"commit"`
	System     string       `json:"system"`
	NixVersion string       `json:"nixVersion"`
	Entries    []indexEntry `json:"entries"`
}

// indexEntry is one devShell of an index.
type indexEntry struct {
	Root      string `json:"root"` // the flake's folder, relative to the repository
	Dir       string `json:"dir"`  // the component's folder, relative to the repository
	Component string `json:"component"`
	Shell     string `json:"shell"`
	Mode      Mode   `json:"mode"`
	Key       string `json:"key"`
	Deps      string `json:"deps"` // the deps object
}

// indexPath is where the index of a commit lives, for one system and nix
// version: another nix or system finds no index, as it would find no
// record.
func indexPath(commit, system, nixVersion string) (string, error) {
	return objectPath("index", "monoflake-index", commit, system, nixVersion)
}

func indexObject(idx publishedIndex) (binarycache.Object, error) {
	p, err := indexPath(idx.Commit, idx.System, idx.NixVersion)
	if err != nil {
		return binarycache.Object{}, err
	}
	sort.Slice(idx.Entries, func(i, j int) bool {
		a, b := idx.Entries[i], idx.Entries[j]
		return a.Root+"\x00"+a.Dir+"\x00"+a.Shell+"\x00"+string(a.Mode) < b.Root+"\x00"+b.Dir+"\x00"+b.Shell+"\x00"+string(b.Mode)
	})
	refs := map[string]bool{}
	for _, e := range idx.Entries {
		refs[e.Deps] = true
	}
	obj := binarycache.Object{Path: p}
	for r := range refs {
		obj.References = append(obj.References, r)
	}
	sort.Strings(obj.References)
	data, err := json.Marshal(idx)
	if err != nil {
		return binarycache.Object{}, err
	}
	obj.Contents = append(data, '\n')
	return obj, nil
}

// readIndex reads an index fetched from storePath and returns the entry of
// the devShell with these repository-relative folders, if any.
func readIndex(storePath string, data []byte, want indexEntry) (*indexEntry, error) {
	var idx publishedIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s is not an index: %w", storePath, err)
	}
	if idx.Version != remoteVersion {
		return nil, fmt.Errorf("%s has version %q, not %q", storePath, idx.Version, remoteVersion)
	}
	for _, e := range idx.Entries {
		if e.Root == want.Root && e.Dir == want.Dir && e.Shell == want.Shell && e.Mode == want.Mode {
			return &e, nil
		}
	}
	return nil, nil
}
