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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := run(ctx, c, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, c *cli, args []string) int {
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
