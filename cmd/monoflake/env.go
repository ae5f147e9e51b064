package main

import (
	"context"
	"encoding/json"
	"errors"
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
	shell     string
	mode      *string
	refresh   bool
}

func (f *envFlags) register(fs *flagSet) {
	fs.StringVar(&f.component, "component", "", "the component `NAME` (default: the one holding PATH)")
	fs.StringVar(&f.shell, "shell", "", "the flake's devShells.<system>.`NAME`, whatever the component")
	f.mode = fs.choice("mode", "scoped", "evaluate in place, or exactly as nix does", "scoped", "flake")
	fs.BoolVar(&f.refresh, "refresh", false, "evaluate again even when the cached environment is current")
}

// choice checks the flags and returns the devShell they choose.
func (f *envFlags) choice(fs *flagSet) (shellChoice, int, bool) {
	if f.component != "" && f.shell != "" {
		return shellChoice{}, fs.usageError("--component and --shell exclude each other"), false
	}
	return shellChoice{component: f.component, shell: f.shell, mode: evalcache.Mode(*f.mode), refresh: f.refresh}, exitOK, true
}

func runEnv(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "env")
	var f envFlags
	f.register(fs)
	format := fs.choice("format", "bash", "print bash (for eval) or JSON", "bash", "json")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	choice, code, ok := f.choice(fs)
	if !ok {
		return code
	}
	cache, ok := openCache(c)
	if !ok {
		return exitUsage
	}
	defer cache.CloseContext(ctx)
	res, req, code := environment(ctx, c, cache, choice, dirArg(fs))
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

// renderBash is the bash that applies an environment, the same that direnv
// evaluates.
func renderBash(c *cli, req evalcache.Request, res *evalcache.Result) []byte {
	return direnv.Render(direnv.Export{Env: res.Env, Component: req.Component, Shell: req.Shell,
		Stale: res.State == evalcache.Stale, OuterPath: c.getenv("PATH"), OuterXDGDataDirs: c.getenv("XDG_DATA_DIRS")})
}

// environment finds the environment of the devShell chosen for path: a
// cache lookup that reads no more than the entry and the stats of its
// files, and only on a miss the plan and an evaluation. It reports problems
// on stderr; a nil Result means there is nothing to print.
func environment(ctx context.Context, c *cli, cache *evalcache.Cache, choice shellChoice, path string) (*evalcache.Result, evalcache.Request, int) {
	res, req, err := devShellEnvironment(ctx, cache, path, choice, false)
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return nil, req, exitFindings
	}
	if res.PruningOff != "" && !res.Hit {
		fmt.Fprintf(c.stderr, "monoflake: evaluated every module for %s: %s\n", req.Component, res.PruningOff)
	}
	if res.RemoteMiss != "" {
		fmt.Fprintf(c.stderr, "monoflake: evaluated %s here: %s\n", req.Component, res.RemoteMiss)
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
		Remote    string                 `json:"remote,omitempty"`
		Error     *evalcache.EvalError   `json:"error,omitempty"`
		Files     []string               `json:"files"`
		Env       *evalcache.Environment `json:"environment"`
	}{req.Component, req.Shell, res.State, res.DrvPath, res.Remote, res.Err, res.Files, res.Env}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func runShell(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "shell")
	var f envFlags
	f.register(fs)
	if code, done := fs.parse(args, anyNumber); done {
		return code
	}
	paths, command := fs.split()
	if len(paths) > 1 {
		return fs.usageError(fmt.Sprintf("unexpected argument %q; the command comes after --", paths[1]))
	}
	path := "."
	if len(paths) == 1 {
		path = paths[0]
	}
	choice, code, ok := f.choice(fs)
	if !ok {
		return code
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
	res, req, code := environment(ctx, c, cache, choice, path)
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
	if code, done := fs.parse(args, 1); done {
		return code
	}
	dir := dirArg(fs)
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
