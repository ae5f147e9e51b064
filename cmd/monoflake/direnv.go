package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/monoflake/monoflake/direnv"
)

// runDirenvrc prints use_monoflake for direnv's stdlib, with this binary's
// path embedded so direnv finds it even when PATH does not.
func runDirenvrc(ctx context.Context, c *cli, args []string) int {
	flags := flag.NewFlagSet("direnvrc", flag.ContinueOnError)
	flags.SetOutput(c.stderr)
	if err := flags.Parse(args); err != nil || flags.NArg() != 0 {
		fmt.Fprintln(c.stderr, "usage: monoflake direnvrc")
		return exitUsage
	}
	// Without a path use_monoflake falls back to PATH, so a failure here is
	// not worth refusing to print.
	bin, _ := os.Executable()
	fmt.Fprint(c.stdout, direnv.Direnvrc(bin))
	return exitOK
}

// runInit writes `use monoflake` .envrc files into components lacking one.
func runInit(ctx context.Context, c *cli, args []string) int {
	flags := flag.NewFlagSet("init", flag.ContinueOnError)
	flags.SetOutput(c.stderr)
	if err := flags.Parse(args); err != nil || flags.NArg() > 1 {
		fmt.Fprintln(c.stderr, "usage: monoflake init [DIR]")
		return exitUsage
	}
	root := "."
	if flags.NArg() == 1 {
		root = flags.Arg(0)
	}
	dirs, err := componentDirs(ctx, root)
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	if len(dirs) == 0 {
		fmt.Fprintf(c.stderr, "monoflake: no components found under %s\n", root)
		return exitFindings
	}
	written, kept, err := direnv.WriteEnvrcs(dirs)
	for _, path := range written {
		fmt.Fprintln(c.stdout, path)
	}
	for _, path := range kept {
		fmt.Fprintf(c.stderr, "monoflake: kept %s, which already exists\n", path)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	if len(written) > 0 {
		fmt.Fprintln(c.stderr, "monoflake: review each new .envrc and run `direnv allow` in its directory to use it")
	}
	return exitOK
}

// componentDirs returns the component directories under root: those holding
// nix/outputs.nix (a flake-parts module imported by the top-level flake) or
// a flake.nix of their own below root (a sub-flake).
// TODO: take them from the analysis model once it discovers components.
func componentDirs(ctx context.Context, root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && (d.Name()[0] == '.' || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if path == root {
			return nil
		}
		for _, marker := range []string{filepath.Join("nix", "outputs.nix"), "flake.nix"} {
			if _, err := os.Stat(filepath.Join(path, marker)); err == nil {
				dirs = append(dirs, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find components under %s: %w", root, err)
	}
	sort.Strings(dirs)
	return dirs, nil
}

func runDirenvExport(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}
