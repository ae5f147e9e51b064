// Command monoflake is a language server and command-line tool for Nix flake
// monorepos. This package parses flags and dispatches to subcommands; every
// subcommand is a thin shell around functions of analysis, evalcache, direnv
// or lsp, so the server and the command line never implement a feature twice.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/monoflake/monoflake/evalcache"
)

// Exit codes shared by all subcommands.
const (
	exitOK       = 0
	exitFindings = 1 // the command ran and found errors (check) or failed
	exitUsage    = 2 // bad usage or I/O failure
	exitStale    = 3 // an environment was printed, but it is stale
)

// cli is what a subcommand may touch of the process: its streams and
// environment. Tests build one with buffers instead of the real process.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// checkCommand runs a pruning check in a process of its own (this
	// binary's hidden check-pruning command); nil runs it in this process.
	checkCommand []string
	// exec replaces the process with a program (syscall.Exec); nil runs
	// it as a child and waits.
	exec func(argv0 string, argv, env []string) error
}

// command is one subcommand.
type command struct {
	name    string
	usage   string // one line: arguments
	summary string // one line: what it does
	run     func(ctx context.Context, c *cli, args []string) int
}

func commands() []command {
	return []command{
		{"components", "[--json] [DIR]", "list components, their files, outputs and dependencies", runComponents},
		{"check", "[--json] [DIR]", "report static diagnostics; exit 1 when there are errors", runCheck},
		{"definition", "[--json] FILE:LINE:COL", "print where the reference at a position is defined", runDefinition},
		{"references", "[--json] [--declaration] FILE:LINE:COL", "print every reference to the output at a position", runReferences},
		{"symbols", "[--json] [DIR] [QUERY]", "list outputs across the workspace, fuzzy-matched", runSymbols},
		{"graph", "[--format dot|json] [DIR]", "print the component dependency graph", runGraph},
		{"affected", "--since REV [DIR]", "list components changed since a git revision", runAffected},
		{"serve", "[--listen ADDR] [--log FILE]", "run the language server on stdio", runServe},
		{"env", "[--format json|bash] [--component NAME] [--mode scoped|flake] PATH", "print the devShell environment of a component", runEnv},
		{"shell", "[PATH] [-- CMD...]", "run a command in a component's devShell environment", runShell},
		{"trust", "[--revoke] [DIR]", "allow monoflake to evaluate a repository", runTrust},
		{"direnvrc", "", "print the use_monoflake function for direnv", runDirenvrc},
		{"direnv-export", "[--mode scoped|flake] [COMPONENT]", "print the bash that use_monoflake evaluates (used by direnv)", runDirenvExport},
		{"init", "[DIR]", "write `use monoflake` .envrc files into components that lack one", runInit},
		{"version", "", "print the version", runVersion},
	}
}

// checkPruning is the hidden command a pruning check runs as.
const checkPruning = "check-pruning"

// exitGrace is how long an interrupted process may take to stop on its
// own before it exits anyway.
const exitGrace = 500 * time.Millisecond

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go exitOnSignal(signals, cancel)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, exec: syscall.Exec}
	if exe, err := os.Executable(); err == nil {
		c.checkCommand = []string{exe, checkPruning}
	}
	os.Exit(run(ctx, c, os.Args[1:]))
}

// exitOnSignal ends the process within a second of SIGINT or SIGTERM.
// The first signal cancels ctx, which kills every nix and git with its
// process group; work that does not watch ctx (a long static analysis)
// must not keep the process alive, so it exits after exitGrace, or at a
// second signal. Children still running die with it: each has a
// parent-death signal.
func exitOnSignal(signals <-chan os.Signal, cancel context.CancelFunc) {
	sig := <-signals
	cancel()
	select {
	case <-signals:
	case <-time.After(exitGrace):
	}
	code := 128 + int(syscall.SIGTERM)
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	os.Exit(code)
}

func run(ctx context.Context, c *cli, args []string) int {
	if len(args) == 2 && args[0] == checkPruning {
		// Not listed: only evaluations start it, with a job file.
		if err := evalcache.RunCheck(ctx, args[1]); err != nil {
			fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
			return exitFindings
		}
		return exitOK
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(c.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(ctx, c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "monoflake: unknown command %q; run 'monoflake help' for the list\n", args[0])
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "monoflake: a language server and command-line tool for Nix flake monorepos")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: monoflake COMMAND [ARGS]")
	fmt.Fprintln(w)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n  %-11s   %s\n", cmd.name, cmd.usage, "", cmd.summary)
	}
}
