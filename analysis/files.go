package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/analysis/gitsafe"
)

// MaxFileSize bounds what is read of one .nix file: a larger file (a
// generated package set, a mistake) is reported with one warning instead of
// parsed, in the command line and the server alike, so that memory stays
// proportional to what is analysed (a parse holds about 90 bytes a byte).
const MaxFileSize = 8 << 20

// ErrNoRepository is wrapped by FindRoot's error for a folder in no flake
// and no git work tree: indexing it could mean indexing a whole disk.
var ErrNoRepository = errors.New("not in a repository")

// FindRoot returns the repository root for dir: the topmost directory
// holding a flake.nix, searching dir and its parents up to the enclosing git
// repository. ok is false when there is no flake.nix at all; then dir must
// be in a git work tree, which bounds what is indexed.
func FindRoot(dir string) (root string, ok bool, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", dir, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", false, fmt.Errorf("cannot open %s: %w", dir, err)
	}
	if !info.IsDir() {
		abs = filepath.Dir(abs)
	}
	root = abs
	inGit := false
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "flake.nix")); err == nil {
			root, ok = d, true
		}
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			inGit = true
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if !ok && !inGit {
		return "", false, fmt.Errorf("%s is %w: there is no flake.nix in it or above it, and it is in no git work tree, so monoflake would not know where the repository ends", dir, ErrNoRepository)
	}
	return root, ok, nil
}

// SkippedDir reports directories that never hold a component's Nix files.
// Build results (result, result-*) are symlinks into the store and are
// never followed anyway; a real directory named results is a directory.
func SkippedDir(name string) bool {
	switch name {
	case ".git", ".direnv", "node_modules", ".jj", ".hg":
		return true
	}
	return false
}

// listFiles lists the repository: its .nix files, and the table of every
// file (tracked or not) the model may ask about. In a git work tree git
// itself lists them, which honours every ignore rule and lists ignored
// entries without descending into them; elsewhere the tree is walked.
// Symlinks are kept only when they stay inside the repository.
// stats holds the .nix files' stats that the listing learned.
func listFiles(ctx context.Context, root string) (nix []string, stats map[string]fileStat, table *FSTable, err error) {
	files, tracked, err := gitFiles(ctx, root)
	isGit := err == nil
	if err != nil {
		files, err = walkFiles(ctx, root)
		tracked = nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	stats = map[string]fileStat{}
	kept := files[:0]
	for _, f := range files {
		if !strings.HasSuffix(f, ".nix") {
			kept = append(kept, f)
			continue
		}
		if keepListed(root, f, stats) {
			kept = append(kept, f)
			nix = append(nix, f)
		}
	}
	sort.Strings(nix)
	return nix, stats, NewFSTable(root, kept, tracked, nil, isGit), nil
}

// gitFiles asks git for every file of the work tree at root, tracked and
// untracked ones (tracked says which). Ignored entries cost git a walk of
// the whole tree, so they are asked for only when needed (gitIgnored).
func gitFiles(ctx context.Context, root string) (files []string, tracked map[string]bool, err error) {
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		// Only ask git when root is the top of a work tree: below one, git
		// would list paths relative to a different top.
		return nil, nil, err
	}
	out, err := gitsafe.Output(ctx, root, "ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard", "--deduplicate")
	if err != nil {
		return nil, nil, err
	}
	tracked = map[string]bool{}
	prefix := root + string(filepath.Separator)
	for _, entry := range bytes.Split(out, []byte{0}) {
		if len(entry) < 3 {
			continue
		}
		tag, rel := entry[0], string(entry[2:])
		if hasSkippedDir(rel) {
			continue
		}
		p := prefix + rel
		files = append(files, p)
		if tag != '?' {
			tracked[p] = true
		}
	}
	return files, tracked, nil
}

// gitTracked lists the files git's index holds, from the index alone.
func gitTracked(ctx context.Context, root string) ([]string, error) {
	out, err := gitsafe.Output(ctx, root, "ls-files", "-z", "--cached", "--deduplicate")
	if err != nil {
		return nil, err
	}
	var files []string
	prefix := root + string(filepath.Separator)
	for _, rel := range bytes.Split(out, []byte{0}) {
		if len(rel) > 0 && !hasSkippedDir(string(rel)) {
			files = append(files, prefix+string(rel))
		}
	}
	return files, nil
}

// gitIgnored lists what git ignores in the work tree at root, directories
// whole.
func gitIgnored(ctx context.Context, root string) ([]string, error) {
	out, err := gitsafe.Output(ctx, root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
	if err != nil {
		return nil, err
	}
	var ignored []string
	for _, rel := range bytes.Split(out, []byte{0}) {
		if len(rel) > 0 {
			ignored = append(ignored, filepath.Join(root, strings.TrimSuffix(string(rel), "/")))
		}
	}
	return ignored, nil
}

// hasSkippedDir reports whether a slash-separated path relative to the
// root lies in a directory skipDir names.
func hasSkippedDir(rel string) bool {
	for {
		i := strings.IndexByte(rel, '/')
		if i < 0 {
			return false
		}
		if SkippedDir(rel[:i]) {
			return true
		}
		rel = rel[i+1:]
	}
}

func walkFiles(ctx context.Context, root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			// An unreadable directory or a file vanishing mid-walk loses
			// only that entry.
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && SkippedDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipDir) {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return files, nil
}

// keepListed is keepFile for a listed file, which records in stats what
// the same system call tells of a regular file: the index compares those
// stats, and a second stat of every file cost as much as the first.
func keepListed(root, p string, stats map[string]fileStat) bool {
	info, err := os.Lstat(p)
	if err != nil {
		return true // reported as unreadable when read
	}
	if info.Mode().IsRegular() {
		stats[p] = statFromInfo(info)
		return true
	}
	return keepFile(root, p)
}

// keepFile drops symlinks that lead out of the repository or nowhere.
func keepFile(root, p string) bool {
	info, err := os.Lstat(p)
	if err != nil {
		return true // reported as unreadable when read
	}
	if info.Mode()&fs.ModeSymlink == 0 {
		return true
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(realRoot, target)
	return err == nil && !strings.HasPrefix(rel, "..")
}

// readNixFile reads a file for indexing, refusing what cannot be Nix.
func readNixFile(p string) ([]byte, error) {
	// Stat before opening: opening a FIFO or a device would block.
	if info, err := os.Stat(p); err != nil {
		return nil, err
	} else if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("file is %.1f MB, larger than the %d MB monoflake reads", float64(info.Size())/(1<<20), MaxFileSize>>20)
	}
	src := make([]byte, info.Size())
	n, err := io.ReadFull(f, src)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	src = src[:n]
	if bytes.IndexByte(src[:min(len(src), 8000)], 0) >= 0 {
		return nil, fmt.Errorf("binary file (it contains NUL bytes)")
	}
	return src, nil
}
