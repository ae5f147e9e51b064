package gitsafe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// HasCommit reports whether dir is in a git work tree whose HEAD names a
// commit, what `git rev-parse --verify HEAD^{commit}` tells. Every cache
// miss asks it, and starting git costs a few milliseconds of an answer of
// about sixty, so the common layout is read from the files themselves: a
// .git folder owned by the caller whose HEAD is an object id, or a branch
// found loose or in packed-refs (an unborn branch is in neither). Anything
// else (a linked work tree or submodule, whose .git is a file; the reftable
// format; another owner, whom git may refuse) asks git.
func HasCommit(ctx context.Context, dir string) bool {
	if has, sure := headNamesCommit(dir); sure {
		return has
	}
	_, err := Output(ctx, dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	return err == nil
}

// headNamesCommit answers HasCommit from the repository's files; sure is
// false when it cannot tell.
func headNamesCommit(dir string) (has, sure bool) {
	gitDir, ok := findGitDir(dir)
	if !ok {
		return false, false
	}
	info, err := os.Stat(gitDir)
	if err != nil || !info.IsDir() || !ownedByCaller(info) {
		return false, false
	}
	if _, err := os.Stat(filepath.Join(gitDir, "reftable")); !errors.Is(err, fs.ErrNotExist) {
		return false, false
	}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return false, false
	}
	line := strings.TrimSpace(string(head))
	ref, symbolic := strings.CutPrefix(line, "ref: ")
	if !symbolic {
		return isObjectID(line), isObjectID(line)
	}
	if !strings.HasPrefix(ref, "refs/heads/") || strings.Contains(ref, "..") {
		return false, false
	}
	if loose, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		id := strings.TrimSpace(string(loose))
		return isObjectID(id), isObjectID(id)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, false
	}
	packed, err := os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, true // an unborn branch
	}
	if err != nil {
		return false, false
	}
	sc := bufio.NewScanner(bytes.NewReader(packed))
	for sc.Scan() {
		id, name, ok := strings.Cut(sc.Text(), " ")
		if ok && name == ref && isObjectID(id) {
			return true, true
		}
	}
	if sc.Err() != nil {
		return false, false
	}
	return false, true
}

// findGitDir is the .git of the work tree holding dir, found as git finds
// it (the environment that could point elsewhere is cleared for every git
// call, see environment); ok is false when there is none.
func findGitDir(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		if _, err := os.Lstat(p); err == nil {
			return p, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

func ownedByCaller(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// isObjectID reports a SHA-1 or SHA-256 object id in hex.
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
