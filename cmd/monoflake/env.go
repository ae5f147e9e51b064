package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/monoflake/monoflake/direnv"
	"github.com/monoflake/monoflake/evalcache"
)

// envFlags are the flags env and shell share.
type envFlags struct {
	component string
	mode      string
	refresh   bool
}

func (f *envFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.component, "component", "", "the component `NAME` (default: the one holding PATH)")
	fs.StringVar(&f.mode, "mode", "scoped", "evaluate `scoped` (in place) or as a `flake` (exactly as nix does)")
	fs.BoolVar(&f.refresh, "refresh", false, "evaluate again even when the cached environment is current")
}

func newFlagSet(c *cli, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("monoflake "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

func runEnv(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "env")
	var f envFlags
	f.register(fs)
	format := fs.String("format", "bash", "print `bash` (for eval) or `json`")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	path, ok := optionalArg(c, fs, "monoflake env [--format json|bash] [--component NAME] [--mode scoped|flake] [--refresh] PATH")
	if !ok || (*format != "bash" && *format != "json") {
		return exitUsage
	}
	cache, ok := openCache(c)
	if !ok {
		return exitUsage
	}
	defer cache.CloseContext(ctx)
	res, req, code := environment(ctx, c, cache, f, path)
	if res == nil {
		return code
	}
	if *format == "json" {
		printEnvJSON(c.stdout, req, res)
	} else {
		c.stdout.Write(renderBash(c, req, res))
	}
	return code
}

// optionalArg is the one optional positional argument (PATH or DIR), "."
// when absent.
func optionalArg(c *cli, fs *flag.FlagSet, usage string) (string, bool) {
	switch fs.NArg() {
	case 0:
		return ".", true
	case 1:
		return fs.Arg(0), true
	}
	fmt.Fprintln(c.stderr, "usage: "+usage)
	return "", false
}

// renderBash is the bash that applies an environment, the same that direnv
// evaluates.
func renderBash(c *cli, req evalcache.Request, res *evalcache.Result) []byte {
	return direnv.Render(direnv.Export{Env: res.Env, Component: req.Component, Shell: req.Shell,
		Stale: res.State == evalcache.Stale, OuterPath: c.getenv("PATH"), OuterXDGDataDirs: c.getenv("XDG_DATA_DIRS")})
}

// environment finds the environment of the component holding path: a cache
// lookup that reads no more than the entry and the stats of its files, and
// only on a miss the plan and an evaluation. It reports problems on stderr;
// a nil Result means there is nothing to print.
func environment(ctx context.Context, c *cli, cache *evalcache.Cache, f envFlags, path string) (*evalcache.Result, evalcache.Request, int) {
	mode, err := evalcache.ParseMode(f.mode)
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return nil, evalcache.Request{}, exitUsage
	}
	res, req, err := cache.EnvironmentFor(ctx, evalcache.Query{Path: path, Component: f.component, Mode: mode, Refresh: f.refresh})
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return nil, req, exitFindings
	}
	if res.PruningOff != "" && !res.Hit {
		fmt.Fprintf(c.stderr, "monoflake: evaluated every module for %s: %s\n", req.Component, res.PruningOff)
	}
	switch res.State {
	case evalcache.Untrusted:
		fmt.Fprintf(c.stderr, "monoflake: %s is not trusted, so its devShells are not evaluated; run 'monoflake trust %s' to trust it\n", req.Root, req.Root)
		return nil, req, exitFindings
	case evalcache.Failed:
		fmt.Fprintf(c.stderr, "monoflake: %s\n", res.Err)
		return nil, req, exitFindings
	case evalcache.Stale:
		fmt.Fprintf(c.stderr, "monoflake: %s (this is the last good environment of %s)\n", res.Err, req.Component)
		return res, req, exitStale
	}
	return res, req, exitOK
}

// openCache opens the evaluation cache, reporting a failure on stderr.
func openCache(c *cli) (*evalcache.Cache, bool) {
	cache, err := evalcache.Open(cacheOptions(c, evalLog(c)))
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return nil, false
	}
	return cache, true
}

// cacheOptions are the evaluation cache's options for every command: the
// pruning check runs as this binary's hidden check-pruning command, in a
// process of its own, so no command waits for it.
func cacheOptions(c *cli, log io.Writer) evalcache.Options {
	return evalcache.Options{Getenv: c.getenv, Log: log, CheckCommand: c.checkCommand}
}

// evalLog sends evaluation messages to stderr when MONOFLAKE_LOG is set.
func evalLog(c *cli) io.Writer {
	if c.getenv("MONOFLAKE_LOG") != "" {
		return c.stderr
	}
	return nil
}

func printEnvJSON(w io.Writer, req evalcache.Request, res *evalcache.Result) {
	out := struct {
		Component string                 `json:"component"`
		Shell     string                 `json:"shell"`
		State     evalcache.State        `json:"state"`
		DrvPath   string                 `json:"drvPath,omitempty"`
		Error     *evalcache.EvalError   `json:"error,omitempty"`
		Files     []string               `json:"files"`
		Env       *evalcache.Environment `json:"environment"`
	}{req.Component, req.Shell, res.State, res.DrvPath, res.Err, res.Files, res.Env}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func runShell(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "shell")
	var f envFlags
	f.register(fs)
	// Everything after "--" is the command; the flag package would swallow
	// a leading "--" and make the command look like PATH.
	var command []string
	for i, a := range args {
		if a == "--" {
			args, command = args[:i], args[i+1:]
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	path, ok := optionalArg(c, fs, "monoflake shell [--component NAME] [--mode scoped|flake] [PATH] [-- CMD...]")
	if !ok {
		return exitUsage
	}
	if len(command) == 0 {
		sh := c.getenv("SHELL")
		if sh == "" {
			sh = "bash"
		}
		command = []string{sh}
	}
	cache, ok := openCache(c)
	if !ok {
		return exitUsage
	}
	defer cache.CloseContext(ctx)
	res, req, code := environment(ctx, c, cache, f, path)
	if res == nil {
		return code
	}
	script := renderBash(c, req, res)
	// bash applies the environment (variables, functions, shellHook) and
	// then becomes the command, which inherits what was exported.
	argv := append([]string{"bash", "-c", string(script) + "\nexec \"$@\"", "monoflake-shell"}, command...)
	if c.exec != nil {
		// This process becomes bash, so the command gets the terminal's
		// signals itself and monoflake leaves nothing to wait for.
		bash, err := exec.LookPath("bash")
		if err == nil {
			cache.CloseContext(ctx)
			err = c.exec(bash, argv, os.Environ())
		}
		fmt.Fprintf(c.stderr, "monoflake: cannot run bash: %v\n", err)
		return exitFindings
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintf(c.stderr, "monoflake: cannot run %s: %v\n", command[0], err)
		return exitFindings
	}
	return exitOK
}

func runTrust(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "trust")
	revoke := fs.Bool("revoke", false, "withdraw trust instead")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	dir, ok := optionalArg(c, fs, "monoflake trust [--revoke] [DIR]")
	if !ok {
		return exitUsage
	}
	abs, err := filepath.Abs(dir)
	if info, statErr := os.Stat(abs); err == nil && (statErr != nil || !info.IsDir()) {
		err = fmt.Errorf("%s is not a directory", dir)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	cache, err := evalcache.Open(evalcache.Options{Getenv: c.getenv})
	if err == nil {
		if *revoke {
			err = cache.Revoke(abs)
		} else {
			err = cache.Trust(abs)
		}
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	if *revoke {
		fmt.Fprintf(c.stdout, "monoflake: %s is no longer trusted by monoflake (direnv's allow list is unchanged)\n", abs)
	} else {
		fmt.Fprintf(c.stdout, "monoflake: trusted %s; its devShells may now be evaluated\n", abs)
	}
	return exitOK
}
