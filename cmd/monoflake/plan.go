package main

import (
	"context"
	"os"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/evalcache"
)

// planFor maps a path (and an optional component name) to the devShell to
// evaluate, through the model of the repository around path. It runs only
// on a cache miss: a hit is looked up without indexing the repository.
func planFor(ctx context.Context, path, component string, mode evalcache.Mode) (evalcache.Request, error) {
	s, err := analysis.Load(ctx, path)
	if err != nil {
		return evalcache.Request{}, err
	}
	return evalcache.Plan(s, path, component, mode)
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
