package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/direnv"
	"github.com/monoflake/monoflake/evalcache"
)

// runDirenvrc prints use_monoflake for direnv's stdlib, with this binary's
// path embedded so direnv finds it even when PATH does not.
func runDirenvrc(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "direnvrc")
	if code, done := fs.parse(args, 0); done {
		return code
	}
	// Without a path use_monoflake falls back to PATH, so a failure here is
	// not worth refusing to print.
	bin, _ := os.Executable()
	fmt.Fprint(c.stdout, direnv.Direnvrc(bin))
	return exitOK
}

// runInit writes `use monoflake` .envrc files into components lacking one,
// saying what it writes, keeps and skips.
func runInit(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "init")
	dryRun := fs.Bool("dry-run", false, "print what would be written, and write nothing")
	all := fs.Bool("all", false, "include sub-flakes that no input of the root flake reaches")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	root := dirArg(fs)
	s, ok := load(ctx, c, root)
	if !ok {
		return exitUsage
	}
	dirs, skipped := direnv.InitDirs(s, *all)
	if len(dirs) == 0 && len(skipped) == 0 {
		fmt.Fprintf(c.stderr, "monoflake: no components found under %s\n", root)
		return exitFindings
	}
	var written, kept []string
	var err error
	verb := "write"
	if *dryRun {
		written, kept = direnv.PendingEnvrcs(dirs)
		verb = "would write"
	} else {
		written, kept, err = direnv.WriteEnvrcs(dirs)
	}
	content := strings.TrimSpace(direnv.EnvrcContent)
	for _, path := range written {
		fmt.Fprintf(c.stdout, "%s %s: %s\n", verb, display(path), content)
	}
	for _, path := range kept {
		fmt.Fprintf(c.stdout, "keep %s: it exists\n", display(path))
	}
	for _, sk := range skipped {
		fmt.Fprintf(c.stdout, "skip %s: %s; --all includes it\n", display(sk.Dir), sk.Reason)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	if len(written) > 0 && !*dryRun {
		fmt.Fprintln(c.stderr, "monoflake: review each new .envrc and run `direnv allow` in its directory to use it")
	}
	return exitOK
}

// runDirenvExport prints the bash use_monoflake evaluates for the .envrc
// being loaded; direnv runs every .envrc in its own directory, so that is the
// working directory. Exit status: 0 fresh, exitStale when the last good
// environment was printed after a failed evaluation, exitFindings when there
// is nothing to apply (the watches are printed all the same, so fixing the
// cause reloads).
func runDirenvExport(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "direnv-export")
	mode := fs.choice("mode", "scoped", "evaluate in place, or exactly as nix does", "scoped", "flake")
	shell := fs.String("shell", "", "the flake's devShells.<system>.`NAME`, whatever the component")
	if code, done := fs.parse(args, anyNumber); done {
		return code
	}
	if fs.NArg() > 1 {
		return fs.usageError(fmt.Sprintf("name one component at most, not %s and %s", fs.Arg(0), fs.Arg(1)))
	}
	choice := shellChoice{component: fs.Arg(0), shell: *shell, mode: evalcache.Mode(*mode)}
	if choice.component != "" && choice.shell != "" {
		return fs.usageError("a component and --shell exclude each other")
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: cannot tell which directory the .envrc is in: %v\n", err)
		return exitUsage
	}
	cache, err := evalcache.Open(cacheOptions(c, evalLog(c)))
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	defer cache.CloseContext(ctx)

	// direnv runs only .envrc files the user allowed, in their own
	// directory, so an allowed .envrc here is the user's consent to evaluate
	// the devShell it asks for, even below a component rather than in it.
	// `direnv reload` touches the .envrc: an entry older than it is
	// evaluated again.
	if info, err := os.Stat(filepath.Join(dir, ".envrc")); err == nil {
		choice.refreshBefore = info.ModTime()
	}
	res, req, err := devShellEnvironment(ctx, cache, dir, choice, cache.Trusted(dir))
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitFindings
	}
	if res.State == evalcache.Untrusted {
		fmt.Fprintf(c.stderr, "monoflake: %s is not trusted, so its devShell is not evaluated; allow this .envrc with `direnv allow`, or run `monoflake trust %s`\n", req.Root, req.Root)
		return exitFindings
	}
	c.stdout.Write(direnv.Render(direnv.Export{
		Env:              res.Env,
		Component:        req.Component,
		Shell:            req.Shell,
		Stale:            res.State != evalcache.Fresh,
		Watch:            res.Files,
		PruningOff:       res.PruningOff,
		DirenvWatches:    direnvWatches(c, res.Files),
		OuterPath:        c.getenv("PATH"),
		OuterXDGDataDirs: c.getenv("XDG_DATA_DIRS"),
	}))
	if res.PruningOff != "" && !res.Hit {
		fmt.Fprintf(c.stderr, "monoflake: %s: evaluated every module: %s\n", req.Component, res.PruningOff)
	}
	if res.RemoteMiss != "" {
		fmt.Fprintf(c.stderr, "monoflake: %s: evaluated here: %s\n", req.Component, res.RemoteMiss)
	}
	switch {
	case res.State == evalcache.Fresh:
		return exitOK
	case res.Env != nil:
		fmt.Fprintf(c.stderr, "monoflake: %s: evaluation failed, keeping the last good environment: %s\n", req.Component, evalErrorLine(req.Root, res.Err))
		return exitStale
	default:
		fmt.Fprintf(c.stderr, "monoflake: %s: evaluation failed and no earlier environment is cached: %s\n", req.Component, evalErrorLine(req.Root, res.Err))
		return exitFindings
	}
}

// direnvWatches is DIRENV_WATCHES with files added, or "" to leave it to
// watch_file: outside direnv, or when a future direnv changed its format.
func direnvWatches(c *cli, files []string) string {
	current := c.getenv("DIRENV_WATCHES")
	if current == "" {
		return ""
	}
	watches, err := direnv.AddWatches(current, files)
	if err != nil {
		return ""
	}
	return watches
}

// evalErrorLine is an evaluation error on one line, with the file relative
// to the repository root: the warning must fit direnv's log.
func evalErrorLine(root string, e *evalcache.EvalError) string {
	if e == nil {
		return "unknown error"
	}
	short := *e
	if rel, err := filepath.Rel(root, e.File); err == nil && e.File != "" && !strings.HasPrefix(rel, "..") {
		short.File = rel
	}
	line := strings.Join(strings.Fields(short.Error()), " ")
	const max = 400
	if len(line) > max {
		line = line[:max] + "…"
	}
	return line
}
