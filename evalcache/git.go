package evalcache

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/analysis/gitsafe"
)

// What evaluation needs to know of git, asked through gitsafe so that the
// repository's configuration runs nothing.

// trackedFiles lists git's tracked files under root and git's index, which
// changes when a file is added or removed: what the entry depends on once
// an evaluation copied the whole tree. Without git, root itself stands for
// everything.
func trackedFiles(ctx context.Context, root string) []string {
	out, err := gitsafe.Output(ctx, root, "ls-files", "-z")
	if err != nil {
		return []string{root}
	}
	var files []string
	if index, err := gitsafe.Output(ctx, root, "rev-parse", "--path-format=absolute", "--git-path", "index"); err == nil {
		files = append(files, strings.TrimSpace(string(index)))
	}
	for _, f := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if f != "" {
			files = append(files, filepath.Join(root, f))
		}
	}
	return files
}

// hasCommit reports whether dir is in a git work tree whose HEAD names a
// commit; builtins.fetchGit needs one, so without it self is copied with
// every file, as for a plain directory.
func hasCommit(ctx context.Context, dir string) bool {
	return gitsafe.HasCommit(ctx, dir)
}

// workTreeTop returns the top of the git work tree holding dir, or "".
func workTreeTop(ctx context.Context, dir string) string {
	out, err := gitsafe.Output(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
