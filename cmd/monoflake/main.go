// Command monoflake is a language server and command-line tool for Nix flake
// monorepos. This package parses flags and dispatches to subcommands; every
// subcommand is a thin shell around functions of analysis, evalcache, direnv
// or lsp, so the server and the command line never implement a feature twice.
//
// monoflake is free software under the MIT license: see the LICENSE file at
// the root of the module (github.com/monoflake/monoflake).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/monoflake/monoflake/analysis/indexcache"
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
	// describe, when set, receives a command's flag set instead of the
	// command running: help and completion learn a command's flags from the
	// command itself, so they cannot drift apart. Every command parses its
	// flags before it does anything else.
	describe func(*flagSet)
	// indexStore is the persistent index, opened on first use.
	indexOnce  sync.Once
	indexStore *indexcache.Store
}

// index is the persistent index in the cache folder, or nil when there is
// no cache folder to keep it in (every file is then read).
func (c *cli) index() *indexcache.Store {
	c.indexOnce.Do(func() {
		dir, err := indexcache.DefaultCacheDir(c.getenv)
		if err != nil {
			return
		}
		if store, err := indexcache.Open(indexcache.Dir(dir)); err == nil {
			c.indexStore = store
			// Trimming is housekeeping: its failure costs disk, not answers.
			_ = store.TrimIfDue(30*24*time.Hour, 256<<20)
		}
	})
	return c.indexStore
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string // its arguments and flags, e.g. "[--json] [DIR]"
	summary  string // one line: what it does, lower case, no full stop
	doc      string // more paragraphs for its help, or ""
	group    string // the heading it is listed under in the general help
	hidden   bool   // left out of help (used by the shell completion scripts)
	// invokedAs is how users call the command when not as "monoflake
	// NAME": direnv-export is run by `use monoflake` in an .envrc.
	invokedAs string
	run       func(ctx context.Context, c *cli, args []string) int
}

// invocation is how users call the command.
func (cmd command) invocation() string {
	if cmd.invokedAs != "" {
		return cmd.invokedAs
	}
	return "monoflake " + cmd.name
}

func (cmd command) synopsisLine() string {
	return strings.TrimSpace(cmd.invocation() + " " + cmd.synopsis)
}

// summaryLine is the summary as a sentence.
func (cmd command) summaryLine() string {
	if cmd.summary == "" {
		return ""
	}
	return strings.ToUpper(cmd.summary[:1]) + cmd.summary[1:] + "."
}

const (
	groupQueries = "Static queries (nix never runs)"
	groupEnv     = "devShell environments (evaluated by nix, cached)"
	groupTools   = "Editors, direnv and shells"
	groupAbout   = "About monoflake"
)

func commands() []command {
	return []command{
		{name: "components", synopsis: "[--json] [DIR] [NAME]", group: groupQueries,
			summary: "list components, their files, outputs and dependencies",
			doc: `DIR is any directory of the repository (default: the current one). NAME keeps
the components whose name contains it; a single argument that is not a
directory is NAME.`,
			run: runComponents},
		{name: "check", synopsis: "[--json] [DIR]", group: groupQueries,
			summary: "report static diagnostics; exit 1 when there are errors",
			doc: `Positions are FILE:LINE:COL, with a 1-based line and byte column. Exit status:
0 without errors, 1 with errors, 2 when the command could not run.`,
			run: runCheck},
		{name: "fix", synopsis: "[--all] [--dry-run] [DIR]", group: groupQueries,
			summary: "apply the quick fixes of the diagnostics",
			doc: `Without --all, only the one obvious fix of a diagnostic is applied: an unknown
output becomes the close match the diagnostic names. --all also adds orphan
modules to an imports list, creates missing modules from a template and adds
untracked files to git. --dry-run says what would change and changes nothing.`,
			run: runFix},
		{name: "definition", synopsis: "[--json] FILE:LINE:COL", group: groupQueries,
			summary: "print where the reference at a position is defined",
			doc:     `LINE is 1-based and COL is a 1-based byte column, as the Go tools print them.`,
			run:     runDefinition},
		{name: "references", synopsis: "[--json] [--declaration] FILE:LINE:COL", group: groupQueries,
			summary: "print every reference to the output at a position",
			run:     runReferences},
		{name: "symbols", synopsis: "[--json] [DIR] [QUERY]", group: groupQueries,
			summary: "list outputs across the workspace, fuzzy-matched",
			doc: `A single argument that is not a directory is the QUERY, matched against
category.name (packages.backend) the way editors match workspace symbols.`,
			run: runSymbols},
		{name: "graph", synopsis: "[--format dot|json] [DIR]", group: groupQueries,
			summary: "print the component dependency graph",
			run:     runGraph},
		{name: "affected", synopsis: "[--json] [--explain] --since REV [DIR]", group: groupQueries,
			summary: "list components changed since a git revision",
			doc: `A component is affected when a file it reads changed since REV, or a
component it depends on is affected; for CI, to test only those. When a
changed Nix file belongs to no component and the model could not read all
of the flake's wiring, every component is listed: --explain says why.`,
			run: runAffected},
		{name: "env", synopsis: "[--format bash|json] [--component NAME | --shell NAME] [--mode scoped|flake] [--refresh] [PATH]", group: groupEnv,
			summary: "print the devShell environment of a component",
			doc: `PATH (default: the current directory) names the component that holds it;
--component names one instead, and --shell names the flake's
devShells.<system>.NAME directly, whatever the component. The answer comes
from the cache when nothing it depends on changed, and is evaluated
otherwise (or with --refresh), in a trusted repository only (see 'monoflake
help trust').

Exit status: 0 fresh; 1 nothing to print; 2 bad usage; 3 evaluation failed
and the last good environment was printed.`,
			run: runEnv},
		{name: "shell", synopsis: "[--component NAME | --shell NAME] [--mode scoped|flake] [--refresh] [PATH] [-- CMD...]", group: groupEnv,
			summary: "run a command (default: $SHELL) in a component's devShell environment",
			doc:     `The devShell is chosen as for 'monoflake env'. The exit status is the command's.`,
			run:     runShell},
		{name: "trust", synopsis: "[--revoke] [DIR]", group: groupEnv,
			summary: "allow monoflake to evaluate a repository",
			doc: `Evaluating a flake runs code from the repository, so monoflake evaluates
only repositories you trusted: with this command, by allowing an .envrc
with direnv, or in an editor that trusts its workspace. Trust is kept by
path, like an editor's workspace trust: it covers DIR and every folder
below it, whatever they hold later, so DIR must hold a flake.nix.`,
			run: runTrust},
		{name: "publish", synopsis: "--to URL --secret-key-file FILE [PATH...]", group: groupEnv,
			summary: "evaluate devShells and publish them to a team binary cache (for CI)",
			doc: `Each PATH's devShell (default: every component's) is evaluated, or its
cached entry reused, and copied with its closure to the binary cache URL,
signed with FILE (made by nix-store --generate-binary-cache-key), together
with the index of HEAD that tells developers which files to hash. A
repository whose .monoflake.json names the cache ("cache": "URL") fetches
from it on a local miss, when nix trusts the key (trusted-public-keys).

Whoever holds FILE decides what runs in every developer's shell: publish
only from CI on a trusted branch. It needs root or a trusted nix user.
Exit status: 0 everything published; 1 something was skipped.`,
			run: runPublish},
		{name: "init", synopsis: "[--dry-run] [--all] [DIR]", group: groupTools,
			summary: "write `use monoflake` .envrc files into components that lack one",
			doc: `It prints what it writes, never touches an existing .envrc and never runs
direnv allow. Sub-flakes that no input of the root flake reaches (test
fixtures, templates) are skipped unless --all is given.`,
			run: runInit},
		{name: "direnvrc", group: groupTools,
			summary: "print the use_monoflake function for direnv",
			doc:     `Install it with: monoflake direnvrc > ~/.config/direnv/lib/monoflake.sh`,
			run:     runDirenvrc},
		{name: "direnv-export", invokedAs: "use monoflake", synopsis: "[--mode scoped|flake] [--shell NAME] [COMPONENT]", group: groupTools,
			summary: "print the bash that use_monoflake evaluates (run by direnv)",
			doc: `In an .envrc: use monoflake [--mode scoped|flake] [--shell NAME] [COMPONENT].
Without COMPONENT it is the one holding the .envrc's directory; --shell
names the flake's devShells.<system>.NAME directly.`,
			run: runDirenvExport},
		{name: "serve", synopsis: "[--listen ADDR] [--log FILE]", group: groupTools,
			summary: "run the language server on stdio",
			run:     runServe},
		{name: "completion", synopsis: "bash|zsh|fish", group: groupTools,
			summary: "print the shell completion script for bash, zsh or fish",
			doc: `bash: source <(monoflake completion bash), e.g. in ~/.bashrc
zsh:  monoflake completion zsh > "${fpath[1]}/_monoflake" (then restart zsh)
fish: monoflake completion fish > ~/.config/fish/completions/monoflake.fish`,
			run: runCompletion},
		{name: "__complete", hidden: true, synopsis: "WORD...",
			summary: "print the completions of a command line (used by the completion scripts)",
			run:     runComplete},
		{name: "help", synopsis: "[COMMAND]", group: groupAbout,
			summary: "print the list of commands, or a command's usage",
			run:     runHelp},
		{name: "version", group: groupAbout,
			summary: "print the version",
			run:     runVersion},
	}
}

// checkPruning is the hidden command a pruning check runs as.
const checkPruning = "check-pruning"

// exitGrace is how long an interrupted process may take to stop on its
// own before it exits anyway.
const exitGrace = 500 * time.Millisecond

// findCommand returns the command called name.
func findCommand(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

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
	if len(args) == 0 {
		args = []string{"help"}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(c.stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(ctx, c, nil)
	}
	cmd, ok := findCommand(args[0])
	switch {
	case ok:
		return cmd.run(ctx, c, args[1:])
	case strings.HasPrefix(args[0], "-"):
		fmt.Fprintf(c.stderr, "monoflake: unknown flag %s; a command comes first (run 'monoflake help' for the list)\n", args[0])
	default:
		fmt.Fprintf(c.stderr, "monoflake: unknown command %q; run 'monoflake help' for the list\n", args[0])
	}
	return exitUsage
}

// printUsage prints the general help: the commands, by group.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "monoflake: a language server and command-line tool for Nix flake monorepos")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: monoflake COMMAND [ARGUMENTS]")
	group := ""
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		if cmd.group != group {
			group = cmd.group
			fmt.Fprintf(w, "\n%s:\n", group)
		}
		fmt.Fprintf(w, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'monoflake help COMMAND' or 'monoflake COMMAND --help' for its arguments and flags,")
	fmt.Fprintln(w, "and 'monoflake --version' for the version.")
}

func runHelp(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "help")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	if fs.NArg() == 0 {
		printUsage(c.stdout)
		return exitOK
	}
	cmd, ok := findCommand(fs.Arg(0))
	if !ok || cmd.hidden {
		return fs.usageError(fmt.Sprintf("unknown command %q", fs.Arg(0)))
	}
	return cmd.run(ctx, c, []string{"--help"})
}
