// Package gitsafe runs git on repositories nobody has vouched for. Opening a
// folder in the editor or running `monoflake check` on a downloaded
// repository must not run its code, yet git reads the repository's own
// configuration, hooks and attributes, and several of those name commands
// git runs: core.fsmonitor on every index read, hooks such as
// post-index-change when the index is written, clean, smudge and process
// filters when it compares or adds working-tree files, external diff and
// textconv drivers, pagers, gpg for signatures, automatic gc and maintenance.
// Every git call of the project goes through here: each runs in a process
// group of its own, killed whole when its context ends and with the calling
// process, under settings that switch all of that off.
package gitsafe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds a git call whose context has no deadline: git on a
// local repository answers in milliseconds, and one that hangs (a stuck
// network file system, a lock) must not hang monoflake.
const DefaultTimeout = 2 * time.Minute

// ErrNotFound reports that git is not on PATH.
var ErrNotFound = errors.New("git was not found on PATH")

// Command is one git invocation in Dir.
type Command struct {
	// Dir is the directory git runs in; repository discovery starts there.
	Dir string
	// Env holds extra KEY=VALUE settings, such as GIT_AUTHOR_DATE for a
	// reproducible commit. They cannot undo the settings this package adds.
	Env []string
}

// Output runs `git args...` in dir and returns what it printed on stdout.
func Output(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return Command{Dir: dir}.Output(ctx, args...)
}

// Run runs `git args...` in dir for its effect.
func Run(ctx context.Context, dir string, args ...string) error {
	_, err := Command{Dir: dir}.Output(ctx, args...)
	return err
}

// Run runs git for its effect.
func (c Command) Run(ctx context.Context, args ...string) error {
	_, err := c.Output(ctx, args...)
	return err
}

// Output runs git and returns its standard output. The error names the
// git command and ends with the line of git's stderr that says what went wrong.
func (c Command) Output(ctx context.Context, args ...string) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	settings := fixedSettings
	if sub, subArgs := subcommand(args); convertsContent(sub, subArgs) {
		filters, err := c.filterSettings(ctx)
		if err != nil {
			return nil, err
		}
		settings = append(append([]setting{}, fixedSettings...), filters...)
	}
	return c.run(ctx, settings, withFlags(args))
}

func (c Command) run(ctx context.Context, settings []setting, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--no-pager"}, args...)...)
	cmd.Dir = c.Dir
	cmd.Env = environment(os.Environ(), c.Env, settings)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		// The negative pid is the whole group: git's helpers go with it.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	name := "git"
	if sub, _ := subcommand(args); sub != "" {
		name += " " + sub
	}
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return nil, ErrNotFound
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s in %s: %w", name, c.Dir, ctx.Err())
	}
	if last := complaint(stderr.Bytes()); last != "" {
		return stdout.Bytes(), fmt.Errorf("%s in %s: %w: %s", name, c.Dir, err, last)
	}
	return stdout.Bytes(), fmt.Errorf("%s in %s: %w", name, c.Dir, err)
}

// setting is one configuration value given on git's command scope, which
// overrides every file a repository can bring.
type setting struct{ key, value string }

// fixedSettings switch off what a repository's configuration can make the
// commands this project runs execute, whatever the repository holds.
var fixedSettings = []setting{
	// Run on every read of the index (ls-files, status, diff, add).
	{"core.fsmonitor", "false"},
	// Every hook: post-index-change runs when status or add writes the
	// index, commit runs several, and hooks live inside .git where a
	// downloaded repository brings its own.
	{"core.hooksPath", "/dev/null"},
	// commit and gc may start `git maintenance` or `git gc`, which run
	// their own commands and hooks.
	{"gc.auto", "0"},
	{"maintenance.auto", "false"},
	// Signing and showing signatures run gpg.program.
	{"commit.gpgSign", "false"},
	{"tag.gpgSign", "false"},
	{"log.showSignature", "false"},
	// A partial clone fetches missing objects on demand, through
	// transports the repository configures (remote.*.uploadpack, ssh).
	{"protocol.allow", "never"},
	{"credential.helper", ""},
	// Submodules are repositories of their own, with their own hooks and
	// configuration; status and diff would run git inside them.
	{"submodule.recurse", "false"},
	{"diff.ignoreSubmodules", "all"},
	{"status.submoduleSummary", "false"},
}

// convertsContent reports whether a git command may pass working-tree or
// index content through the filters named in .gitattributes: comparing the
// working tree (status, diff, ls-files -m), adding, committing, checking
// out. The commands that only read the index, refs or ignore rules cannot,
// and skip the extra git call that finds the filters.
func convertsContent(sub string, args []string) bool {
	switch sub {
	case "rev-parse", "check-ignore", "config", "init", "version", "ls-tree", "cat-file", "rev-list", "show-ref", "symbolic-ref":
		return sub == "cat-file" && hasAny(args, "--filters", "--textconv")
	case "ls-files":
		return hasAny(args, "-m", "--modified", "--eol")
	}
	return true
}

// filterSettings empties every filter driver the configuration defines, in
// any scope and through any include: a .gitattributes line
// `* filter=x` makes git run filter.x.clean for each file it compares or
// adds. An empty command is no filter at all, and required=false keeps git
// from refusing to work without it.
func (c Command) filterSettings(ctx context.Context) ([]setting, error) {
	out, err := c.run(ctx, fixedSettings, []string{"config", "-z", "--name-only", "--get-regexp", `^filter\.`})
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return nil, nil // no filter configured
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var settings []setting
	for _, key := range strings.Split(string(out), "\x00") {
		// filter.<driver>.<name>; the driver may itself hold dots.
		first, last := strings.Index(key, "."), strings.LastIndex(key, ".")
		if first < 0 || last <= first {
			continue
		}
		driver := key[first+1 : last]
		if seen[driver] {
			continue
		}
		seen[driver] = true
		for _, name := range []string{"clean", "smudge", "process"} {
			settings = append(settings, setting{"filter." + driver + "." + name, ""})
		}
		settings = append(settings, setting{"filter." + driver + ".required", "false"})
	}
	return settings, nil
}

// withFlags adds the options that keep the diff family from starting
// external diff or textconv programs the repository's configuration or
// attributes name.
func withFlags(args []string) []string {
	i := subcommandIndex(args)
	if i < 0 {
		return args
	}
	switch args[i] {
	case "diff", "log", "show", "diff-tree", "diff-index", "diff-files", "whatchanged":
	default:
		return args
	}
	out := append(append([]string{}, args[:i+1]...), "--no-ext-diff", "--no-textconv")
	return append(out, args[i+1:]...)
}

// subcommand finds git's subcommand after the global options, and the
// arguments after it.
func subcommand(args []string) (string, []string) {
	i := subcommandIndex(args)
	if i < 0 {
		return "", nil
	}
	return args[i], args[i+1:]
}

func subcommandIndex(args []string) int {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-c" || a == "-C" || a == "--git-dir" || a == "--work-tree" || a == "--namespace":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return i
		}
	}
	return -1
}

func hasAny(args []string, flags ...string) bool {
	for _, a := range args {
		for _, f := range flags {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

// environment is the caller's environment without what would point git
// at another repository (a hook's GIT_DIR or GIT_INDEX_FILE, when monoflake
// itself runs from a hook), plus settings given on the command scope.
func environment(base, extra []string, settings []setting) []string {
	env := make([]string, 0, len(base)+len(extra)+2*len(settings)+4)
	count := 0
	for _, kv := range base {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
			"GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
			"GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_OPTIONAL_LOCKS", "GIT_TERMINAL_PROMPT":
			continue
		case "GIT_CONFIG_COUNT":
			// The user's own command-scope settings stay; ours follow them
			// and win.
			count, _ = strconv.Atoi(value)
		}
		env = append(env, kv)
	}
	env = append(env, extra...)
	// status would otherwise write a refreshed index (and run the hooks
	// that writing it triggers) behind the user's back.
	env = append(env, "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0")
	for _, s := range settings {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", count, s.key), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", count, s.value))
		count++
	}
	return append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(count))
}

// complaint picks the line of git's stderr that says what went wrong: the
// last "fatal:" or "error:" line, else the first line that is not a hint
// (git add of an ignored file says why first, then lists paths and hints).
func complaint(b []byte) string {
	var first string
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.TrimSpace(lines[i])
		for _, prefix := range []string{"fatal: ", "error: "} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest
			}
		}
		if line != "" && !strings.HasPrefix(line, "hint:") {
			first = line
		}
	}
	return first
}
