package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// flagSet is one command's flags: the standard flag package, read the way
// GNU tools read arguments. Flags may come before, between or after the
// positional arguments, "--" ends them, they are written --name, and -h or
// --help prints the command's usage on stdout and exits 0. Every problem is
// one sentence on stderr and exit 2.
type flagSet struct {
	*flag.FlagSet
	c    *cli
	cmd  command
	args []string // positional arguments, those after "--" included
	dash int      // index in args of the first one after "--"; -1 without "--"
}

func newFlagSet(c *cli, name string) *flagSet {
	fs := flag.NewFlagSet("monoflake "+name, flag.ContinueOnError)
	// Errors are reworded by parse and usage is printed by printUsage, both
	// in the --flag style; the package's own output would say -flag.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	cmd, _ := findCommand(name)
	return &flagSet{FlagSet: fs, c: c, cmd: cmd, dash: -1}
}

// anyNumber is parse's most for commands that check their positional
// arguments themselves.
const anyNumber = -1

// parse reads args, which may hold at most most positional arguments. done
// says the command must return code at once: it printed its usage (--help,
// exit 0) or a usage error (exit 2). A cli that describes commands (see
// cli.describe) receives the flag set instead, and the command stops before
// doing anything.
func (f *flagSet) parse(args []string, most int) (code int, done bool) {
	if f.c.describe != nil {
		f.c.describe(f)
		return exitOK, true
	}
	var afterDash []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, afterDash = args[:i], args[i+1:]
	}
	all := args
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage(f.c.stdout)
				return exitOK, true
			}
			return f.usageError(f.explain(err, all)), true
		}
		// The flag package stops at the first positional argument; take it
		// and read on.
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			break
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
	if afterDash != nil {
		f.dash = len(f.args)
		f.args = append(f.args, afterDash...)
	}
	if most != anyNumber && f.NArg() > most {
		return f.usageError(fmt.Sprintf("unexpected argument %q", f.Arg(most))), true
	}
	return exitOK, false
}

// Args, NArg and Arg are the positional arguments, as the flag package's
// methods of the same names would give them without interspersed flags.
func (f *flagSet) Args() []string { return f.args }
func (f *flagSet) NArg() int      { return len(f.args) }
func (f *flagSet) Arg(i int) string {
	if i < 0 || i >= len(f.args) {
		return ""
	}
	return f.args[i]
}

// split returns the positional arguments before "--" and those after it
// (nil without "--").
func (f *flagSet) split() (before, after []string) {
	if f.dash < 0 {
		return f.args, nil
	}
	return f.args[:f.dash], f.args[f.dash:]
}

// usageError prints msg as a usage error of the command and returns
// exitUsage.
func (f *flagSet) usageError(msg string) int {
	fmt.Fprintf(f.c.stderr, "%s: %s (usage: %s)\n", f.cmd.invocation(), msg, f.cmd.synopsisLine())
	return exitUsage
}

// missing reports a usage error when there is no positional argument, the
// one the command needs, called what.
func (f *flagSet) missing(what string) (code int, done bool) {
	if f.NArg() == 0 {
		return f.usageError(what + " is missing"), true
	}
	return exitOK, false
}

// explain rewords an error of the flag package in the --flag style, naming
// the flag the way the user wrote it.
func (f *flagSet) explain(err error, args []string) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + asWritten(name, args)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		if ch, isChoice := f.choiceOf(name); isChoice {
			return fmt.Sprintf("--%s needs a value: %s", name, orList(ch.options))
		}
		return fmt.Sprintf("--%s needs a value", name)
	}
	// invalid [boolean ]value "V" for [flag ]-NAME: REASON
	if rest, ok := strings.CutPrefix(msg, "invalid "); ok {
		boolean := strings.HasPrefix(rest, "boolean ")
		_, rest, _ = strings.Cut(rest, "value ")
		if quoted, err := strconv.QuotedPrefix(rest); err == nil {
			value, _ := strconv.Unquote(quoted)
			name := strings.TrimPrefix(strings.TrimPrefix(rest[len(quoted):], " for "), "flag ")
			name, _, _ = strings.Cut(strings.TrimPrefix(name, "-"), ":")
			if ch, isChoice := f.choiceOf(name); isChoice {
				return fmt.Sprintf("--%s must be %s, not %q", name, orList(ch.options), value)
			}
			if boolean {
				return fmt.Sprintf("--%s is a switch: give it no value, or true or false, not %q", name, value)
			}
			return fmt.Sprintf("invalid value %q for --%s", value, name)
		}
	}
	return msg
}

// asWritten is the argument that named flag name, as the user typed it
// (-x, --x or --x=value), without a value.
func asWritten(name string, args []string) string {
	for _, a := range args {
		flagPart, _, _ := strings.Cut(a, "=")
		if strings.TrimLeft(flagPart, "-") == name && strings.HasPrefix(flagPart, "-") {
			return flagPart
		}
	}
	return "--" + name
}

func (f *flagSet) choiceOf(name string) (*choice, bool) {
	fl := f.Lookup(name)
	if fl == nil {
		return nil, false
	}
	ch, ok := fl.Value.(*choice)
	return ch, ok
}

// choice is a flag with a fixed set of values; usage and completion list
// them.
type choice struct {
	value   string
	options []string
}

func (c *choice) String() string { return c.value }

func (c *choice) Set(s string) error {
	if !slices.Contains(c.options, s) {
		return fmt.Errorf("want %s", orList(c.options))
	}
	c.value = s
	return nil
}

// choice defines a flag taking one of options, def by default.
func (f *flagSet) choice(name, def, usage string, options ...string) *string {
	ch := &choice{value: def, options: options}
	f.Var(ch, name, usage)
	return &ch.value
}

// orList joins words as "a or b", "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// printUsage prints the command's help: synopsis, description and flags.
func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n", f.cmd.synopsisLine())
	fmt.Fprintln(w, f.cmd.summaryLine())
	if f.cmd.doc != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(f.cmd.doc))
	}
	type row struct{ name, usage string }
	var rows []row
	f.VisitAll(func(fl *flag.Flag) {
		rows = append(rows, row{flagName(fl), flagUsage(fl)})
	})
	rows = append(rows, row{"-h, --help", "print this help"})
	width := 0
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	fmt.Fprintln(w, "\nFlags:")
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.name, r.usage)
	}
}

// flagName is how usage shows a flag: --name and its value, if it takes
// one: the word quoted in its usage (`NAME`), or the choices.
func flagName(fl *flag.Flag) string {
	if ch, ok := fl.Value.(*choice); ok {
		return "--" + fl.Name + " " + strings.Join(ch.options, "|")
	}
	value, _ := flag.UnquoteUsage(fl)
	if value == "" {
		return "--" + fl.Name
	}
	return "--" + fl.Name + " " + value
}

// flagUsage is a flag's description with its default, unless it has none
// worth saying or names it already.
func flagUsage(fl *flag.Flag) string {
	_, usage := flag.UnquoteUsage(fl)
	if fl.DefValue != "" && fl.DefValue != "false" && !strings.Contains(usage, "(default") {
		usage += " (default: " + fl.DefValue + ")"
	}
	return usage
}

// takesValue reports whether a flag reads a value (every flag but a
// switch).
func takesValue(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}
