package evalcache

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Nix before lazy trees resolves a relative `path:` input recorded in a
// committed flake.lock only from the store: the locked narHash names the
// store path, and when that path is not there (a new machine, a collected
// store) nix gives up with "cannot fetch input 'path:./x?…' because it uses
// a relative path". The content nix wants is known, though: the input's
// directory in nix's own copy of the work tree (tracked files only). Adding
// that directory to the store under the name "source" gives exactly the
// path the narHash names, after which nix proceeds.

// relativeInputError is nix's message for that case.
var relativeInputError = regexp.MustCompile(`cannot fetch input '(path:[^'?]*)[^']*' because it uses a relative path`)

// relativeInputsExpr is a Nix expression that adds the store copy of every
// relative path input of flakeDir's lock, as nix's flake copy holds it.
// ok is false when the lock has none.
func relativeInputsExpr(ctx context.Context, flakeDir string) (string, bool) {
	rels := readFlakeLock(flakeDir).relativePaths()
	if len(rels) == 0 {
		return "", false
	}
	// Inside a git work tree nix copies the tracked files of the whole
	// tree, and a relative input is a directory of that copy; elsewhere it
	// copies the directory as it is.
	base := nixPath(flakeDir)
	if top := workTreeTop(ctx, flakeDir); top != "" && hasCommit(ctx, top) {
		rel, err := filepath.Rel(top, flakeDir)
		if err == nil {
			base = fmt.Sprintf("((builtins.fetchGit { url = %s; }).outPath + %s)", nixString(top), nixString("/"+filepath.ToSlash(rel)))
			if rel == "." {
				base = fmt.Sprintf("(builtins.fetchGit { url = %s; }).outPath", nixString(top))
			}
		}
	}
	var items []string
	for _, rel := range rels {
		items = append(items, fmt.Sprintf("(builtins.path { name = \"source\"; path = %s + %s; })", base, nixString("/"+rel)))
	}
	return "builtins.concatStringsSep \"\\n\" [ " + strings.Join(items, " ") + " ]", true
}

// storeRelativeInputs puts the relative path inputs of flakeDir's lock into
// the store, so that an old nix can use the committed flake.lock. The error
// says in one sentence why that was not possible.
func (c *Cache) storeRelativeInputs(ctx context.Context, flakeDir string) error {
	expr, ok := relativeInputsExpr(ctx, flakeDir)
	if !ok {
		return fmt.Errorf("flake.lock in %s names no relative path input to add to the store", flakeDir)
	}
	out, err := c.run.run(ctx, flakeDir, "eval", "--impure", "--raw", "--expr", expr)
	if err != nil {
		return fmt.Errorf("cannot add the relative path inputs of %s to the store: %w: %s", filepath.Join(flakeDir, "flake.lock"), err, lastLine(out.Stderr))
	}
	c.log.Info("added relative path inputs to the store", "flake", flakeDir, "paths", strings.Fields(string(out.Stdout)))
	return nil
}

// runFlake runs nix on a flake installable. When nix cannot use a relative
// path input of the committed lock because the store lacks its content, the
// content is added and nix runs once more; if nix still refuses, the error
// names the input and why.
func (c *Cache) runFlake(ctx context.Context, dir string, args ...string) (nixOutput, error) {
	out, err := c.run.run(ctx, dir, args...)
	if err == nil || ctx.Err() != nil {
		return out, err
	}
	m := relativeInputError.FindSubmatch(out.Stderr)
	if m == nil {
		return out, err
	}
	if addErr := c.storeRelativeInputs(ctx, dir); addErr != nil {
		return withError(out, addErr), err
	}
	out, err = c.run.run(ctx, dir, args...)
	if err != nil && relativeInputError.Match(out.Stderr) {
		return withError(out, fmt.Errorf("nix cannot use the relative input %s of %s even after adding it to the store: flake.lock may be out of date (run `nix flake lock` there) or the input has untracked files", m[1], filepath.Join(dir, "flake.lock"))), err
	}
	return out, err
}

// withError appends err to nix's log as its last error line, which is the
// one the user is shown.
func withError(out nixOutput, err error) nixOutput {
	out.Stderr = append(append(out.Stderr[:len(out.Stderr):len(out.Stderr)], "\nerror: "...), err.Error()+"\n"...)
	return out
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
