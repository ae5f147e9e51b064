package lsp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/monoflake/monoflake/analysis/gitsafe"
)

// gitAdd adds path to the index of the git work tree holding it, so that
// flake evaluation, which sees only what git tracks, sees it. It goes
// through gitsafe like every other git call: `git add` passes the file
// through the clean filters a repository's attributes name, and writing the
// index runs its hooks, neither of which an editor opening a downloaded
// repository may run.
func gitAdd(ctx context.Context, path string) error {
	err := gitsafe.Run(ctx, filepath.Dir(path), "add", "--", filepath.Base(path))
	switch {
	case errors.Is(err, gitsafe.ErrNotFound):
		return errors.New("git is not installed, so monoflake cannot add files to it")
	case err != nil:
		return fmt.Errorf("could not add %s to git: %w", path, err)
	}
	return nil
}
