package evalcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/monoflake/monoflake/analysis/gitsafe"
)

// A key two machines compute alike. A local entry names files by absolute
// path and the nix binary by its stats, which differ between a CI runner
// and a laptop; the key of what is published names every file by its path
// relative to the repository and its content, and the tools by version, so
// any checkout with the same content computes the same key.

// remoteVersion names the format of the published objects and of the key;
// a new one makes everything published before it a miss.
const remoteVersion = "monoflake-remote-1"

// trackedPath stands, in a portable dependency list, for git's index: an
// evaluation that forced self's source depends on which files git tracks,
// and the index file itself holds stats that differ on every machine.
const trackedPath = ":tracked"

// portableDep is a dependency as every checkout of the repository sees it.
type portableDep struct {
	Path string // relative to the repository top, slash-separated; or trackedPath
	Kind string // "file", "dir", "link", "missing" or "tracked"
	Hash string // the content hash of the local entry (see contentHash)
}

// repoBase is the folder a key's paths are relative to: the top of the git
// work tree holding root, else root itself.
func repoBase(ctx context.Context, root string) string {
	top := workTreeTop(ctx, root)
	if top == "" {
		return root
	}
	realTop, err1 := filepath.EvalSymlinks(top)
	realRoot, err2 := filepath.EvalSymlinks(root)
	if err1 != nil || err2 != nil {
		return top
	}
	rel, err := filepath.Rel(realTop, realRoot)
	if err != nil || strings.HasPrefix(rel, "..") {
		return top
	}
	// Keep root's own spelling (a symbolic link in its path), which is how
	// the entry's dependencies are written.
	if rel == "." {
		return root
	}
	if base, ok := strings.CutSuffix(root, "/"+rel); ok {
		return base
	}
	return top
}

// isGitIndex reports whether path is git's index file, which an entry
// lists when the evaluation copied self (see trackedFiles).
func isGitIndex(path string) bool {
	return filepath.Base(path) == "index" && strings.Contains(path, "/.git/")
}

// portablePath is where a dependency is in every checkout: its path
// relative to the repository, or trackedPath for git's index; skip is
// true for the nix binary and the pruned flake, which the key names by
// nix's version and the pruned flake's text instead. A dependency outside
// the repository (a file in the home folder) has no portable form.
func portablePath(base string, d dep) (rel string, skip bool, err error) {
	switch {
	case d.Tool:
		return "", true, nil
	case isGitIndex(d.Path):
		return trackedPath, false, nil
	case !isUnder(d.Path, base):
		return "", false, fmt.Errorf("it depends on %s, which is outside the repository", d.Path)
	}
	rel, err = filepath.Rel(base, d.Path)
	return filepath.ToSlash(rel), false, err
}

// portablePaths lists where an entry's dependencies are in every checkout.
func portablePaths(base string, deps []dep) ([]string, error) {
	var out []string
	for _, d := range deps {
		rel, skip, err := portablePath(base, d)
		if err != nil {
			return nil, err
		}
		if !skip {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out, nil
}

// portableDeps turns an entry's dependencies into their portable form.
func portableDeps(ctx context.Context, base string, deps []dep) ([]portableDep, error) {
	out := make([]portableDep, 0, len(deps))
	tracked := false
	for _, d := range deps {
		rel, skip, err := portablePath(base, d)
		switch {
		case err != nil:
			return nil, err
		case skip:
			continue
		case rel == trackedPath:
			tracked = true
			continue
		}
		kind := "file"
		switch {
		case d.Hash == "":
			kind = "missing"
		case d.Dir:
			kind = "dir"
		case d.Link:
			kind = "link"
		}
		out = append(out, portableDep{Path: rel, Kind: kind, Hash: d.Hash})
	}
	if tracked {
		h, err := trackedHash(ctx, base)
		if err != nil {
			return nil, err
		}
		out = append(out, portableDep{Path: trackedPath, Kind: "tracked", Hash: h})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// trackedHash hashes the list of files git tracks, which is what self's
// source holds besides their contents.
func trackedHash(ctx context.Context, base string) (string, error) {
	out, err := gitsafe.Output(ctx, base, "ls-files", "-z")
	if err != nil {
		return "", fmt.Errorf("list the files git tracks: %w", err)
	}
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:]), nil
}

// keyInputs is what a key covers besides the dependencies.
type keyInputs struct {
	nixVersion string
	req        Request
	base       string
	pruned     bool   // the pruned flake was evaluated
	selfSrc    string // how scoped.nix reads self (see scopedExpr)
	ifd        bool
}

// remoteKey is the key of an environment: everything that decides what
// evaluation gives, as any checkout computes it.
func remoteKey(in keyInputs, deps []portableDep) string {
	req := in.req
	rel := func(p string) string {
		r, err := filepath.Rel(in.base, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	pruned := ""
	if in.pruned && req.Pruned != nil {
		pruned = relativeSource(string(req.Pruned.FlakeSource), req.Root)
	}
	h := sha256.New()
	for _, s := range []string{remoteVersion, cacheVersion, hashStrings(string(scopedNix)), in.nixVersion, req.System,
		string(req.Mode), req.Shell, req.Component, strconv.FormatBool(in.ifd), rel(req.Root), rel(req.ComponentDir),
		in.selfSrc, pruned, strconv.Itoa(len(deps))} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	for _, d := range deps {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", d.Path, d.Kind, d.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// relativeSource is a pruned flake's text with the repository's folder
// taken out: the model writes its modules as absolute paths.
func relativeSource(src, root string) string {
	const placeholder = "\x00root\x00"
	escaped := strings.Trim(nixString(root), `"`)
	src = strings.ReplaceAll(src, escaped, placeholder)
	return strings.ReplaceAll(src, root, placeholder)
}
