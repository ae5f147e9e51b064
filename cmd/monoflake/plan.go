package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/evalcache"
)

// planFor maps a path (and an optional component name) to the devShell to
// evaluate. This simple version only looks at the file system: the root is
// the topmost flake.nix up to the git work tree's top, the component is the
// first path element under it, and a component with a flake.nix of its own
// is a sub-flake evaluated on its own.
func planFor(ctx context.Context, path, component string, mode evalcache.Mode) (evalcache.Request, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return evalcache.Request{}, err
	}
	dir := abs
	if info, err := os.Stat(abs); err != nil {
		return evalcache.Request{}, fmt.Errorf("cannot read %s: %w", path, err)
	} else if !info.IsDir() {
		dir = filepath.Dir(abs)
	}
	root := ""
	for d := dir; ; d = filepath.Dir(d) {
		if isFile(filepath.Join(d, "flake.nix")) {
			root = d
		}
		if isDir(filepath.Join(d, ".git")) || filepath.Dir(d) == d {
			break
		}
	}
	if root == "" {
		return evalcache.Request{}, fmt.Errorf("%s is not inside a flake (no flake.nix above it)", path)
	}
	if component == "" {
		rel, _ := filepath.Rel(root, dir)
		if rel != "." {
			component, _, _ = strings.Cut(rel, string(filepath.Separator))
		}
	}
	req := evalcache.Request{Root: root, Component: component, ComponentDir: root, Shell: "default", Mode: mode}
	if component == "" {
		req.Component = filepath.Base(root)
		return req, nil
	}
	req.ComponentDir = filepath.Join(root, component)
	if !isDir(req.ComponentDir) {
		return evalcache.Request{}, fmt.Errorf("there is no component %s in %s", component, root)
	}
	if isFile(filepath.Join(req.ComponentDir, "flake.nix")) {
		req.Root = req.ComponentDir
		return req, nil
	}
	req.Shell = component
	return req, nil
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
