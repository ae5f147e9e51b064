package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/monoflake/monoflake/analysis"
)

// Shell completion: each shell's script is a thin adapter that hands the
// words of the command line to `monoflake __complete` and shows what it
// prints, so the commands, flags and values offered come from the command
// table and the flag sets themselves, and the three shells cannot disagree.

//go:embed completion/monoflake.bash
var bashCompletion string

//go:embed completion/_monoflake
var zshCompletion string

//go:embed completion/monoflake.fish
var fishCompletion string

func completionScripts() map[string]string {
	return map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
}

func runCompletion(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "completion")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	if code, done := fs.missing("the shell (bash, zsh or fish)"); done {
		return code
	}
	script, ok := completionScripts()[fs.Arg(0)]
	if !ok {
		return fs.usageError(fmt.Sprintf("no completion for %q; the shells are bash, zsh and fish", fs.Arg(0)))
	}
	fmt.Fprint(c.stdout, script)
	return exitOK
}

// What the shell adds to the candidates __complete prints: the first line
// of its output.
const (
	addNothing = ":none"
	addFiles   = ":files"
	addDirs    = ":dirs"
)

// runComplete prints the completions of the last of args, the word being
// completed (possibly empty), after the others: a line saying what the
// shell should add itself (file or directory names), then one candidate a
// line, with a tab and a description when there is one. It never fails: a
// completion that goes wrong offers nothing.
func runComplete(ctx context.Context, c *cli, args []string) int {
	if c.describe != nil {
		// Its arguments are words of another command line, not flags.
		c.describe(newFlagSet(c, "__complete"))
		return exitOK
	}
	add, candidates := complete(ctx, args)
	fmt.Fprintln(c.stdout, add)
	for _, cand := range candidates {
		fmt.Fprintln(c.stdout, cand)
	}
	return exitOK
}

// complete returns what to offer for the last word of words.
func complete(ctx context.Context, words []string) (add string, candidates []string) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	if len(words) == 1 {
		if strings.HasPrefix(cur, "-") {
			return addNothing, matching(cur, "--help\tprint the list of commands", "--version\tprint the version")
		}
		var names []string
		for _, cmd := range commands() {
			if !cmd.hidden {
				names = append(names, cmd.name+"\t"+cmd.summary)
			}
		}
		return addNothing, matching(cur, names...)
	}
	cmd, ok := findCommand(words[0])
	if !ok {
		return addNothing, nil
	}
	fs := describe(cmd)
	if fs == nil {
		return addNothing, nil
	}
	before := words[1 : len(words)-1]
	afterDash := false
	for _, w := range before {
		afterDash = afterDash || w == "--"
	}
	if !afterDash {
		// The value of the flag just before: --format <TAB>.
		if prev := before; len(prev) > 0 {
			if fl := lookupFlag(fs, prev[len(prev)-1]); fl != nil && takesValue(fl) && !strings.Contains(prev[len(prev)-1], "=") {
				return flagValues(ctx, fl, "", cur)
			}
		}
		if name, value, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(cur, "-") {
			if fl := lookupFlag(fs, name); fl != nil && takesValue(fl) {
				return flagValues(ctx, fl, name+"=", value)
			}
			return addNothing, nil
		}
		if strings.HasPrefix(cur, "-") {
			var names []string
			fs.VisitAll(func(fl *flag.Flag) {
				_, usage := flag.UnquoteUsage(fl)
				names = append(names, "--"+fl.Name+"\t"+usage)
			})
			names = append(names, "--help\tprint this command's help")
			return addNothing, matching(cur, names...)
		}
	}
	return positionals(ctx, cmd, cur)
}

// lookupFlag is the flag a word names: -x, --x or --x=value.
func lookupFlag(fs *flagSet, word string) *flag.Flag {
	if !strings.HasPrefix(word, "-") {
		return nil
	}
	name, _, _ := strings.Cut(strings.TrimLeft(word, "-"), "=")
	return fs.Lookup(name)
}

// flagValues offers the values of fl that start with cur, each behind
// prefix (for --flag=value words).
func flagValues(ctx context.Context, fl *flag.Flag, prefix, cur string) (string, []string) {
	var values []string
	add := addNothing
	switch {
	case isChoice(fl):
		values = fl.Value.(*choice).options
	case fl.Name == "component":
		values = componentNames(ctx)
	case fl.Name == "shell":
		values = shellNames(ctx)
	case fl.Name == "log":
		add = addFiles
	}
	out := matching(cur, values...)
	for i := range out {
		out[i] = prefix + out[i]
	}
	return add, out
}

func isChoice(fl *flag.Flag) bool {
	_, ok := fl.Value.(*choice)
	return ok
}

// positionals offers what a command takes as arguments.
func positionals(ctx context.Context, cmd command, cur string) (string, []string) {
	switch cmd.name {
	case "help":
		var names []string
		for _, c := range commands() {
			if !c.hidden {
				names = append(names, c.name+"\t"+c.summary)
			}
		}
		return addNothing, matching(cur, names...)
	case "completion":
		return addNothing, matching(cur, "bash", "fish", "zsh")
	case "direnv-export":
		return addNothing, matching(cur, componentNames(ctx)...)
	case "components":
		return addDirs, matching(cur, componentNames(ctx)...)
	case "check", "symbols", "graph", "affected", "trust", "init":
		return addDirs, nil
	case "definition", "references", "env", "shell":
		return addFiles, nil
	}
	return addNothing, nil
}

// componentNames are the components of the repository around the working
// directory, for --component and use monoflake.
func componentNames(ctx context.Context) []string {
	s, err := analysis.Load(ctx, ".")
	if err != nil || !s.HasFlake {
		return nil
	}
	return analysis.SortedComponentNames(s.Components())
}

// shellNames are the devShells the flake around the working directory
// defines, for --shell.
func shellNames(ctx context.Context) []string {
	s, err := analysis.Load(ctx, ".")
	if err != nil || !s.HasFlake {
		return nil
	}
	return flakeShells(s)
}

// matching keeps the candidates ("word" or "word\tdescription") whose word
// starts with prefix.
func matching(prefix string, candidates ...string) []string {
	var out []string
	for _, cand := range candidates {
		word, _, _ := strings.Cut(cand, "\t")
		if strings.HasPrefix(word, prefix) {
			out = append(out, cand)
		}
	}
	return out
}

// describe returns a command's flag set without running it (see
// cli.describe), or nil for a command that runs before parsing its flags.
func describe(cmd command) *flagSet {
	var fs *flagSet
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }, describe: func(f *flagSet) { fs = f }}
	// Cancelled, so that a command that did not stop at its flags would
	// stop at the first thing it waits for.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cmd.run(ctx, c, nil)
	return fs
}
