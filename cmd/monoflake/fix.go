package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/gitsafe"
)

// runFix applies the code actions the language server offers, from the
// command line: the same analysis.ActionsFor, so a fix is never written
// twice.
func runFix(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "fix")
	all := fs.Bool("all", false, "apply every fix, not only the obvious ones")
	dryRun := fs.Bool("dry-run", false, "say what would change, change nothing")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	s, ok := load(ctx, c, dirArg(fs))
	if !ok {
		return exitUsage
	}
	var actions []analysis.Action
	for _, d := range s.AllDiagnostics() {
		for _, a := range analysis.ActionsFor(s, d) {
			if a.Preferred || *all {
				actions = append(actions, a)
			}
		}
	}
	verb := "fix"
	if *dryRun {
		verb = "would fix"
	}
	edits := map[string][]analysis.TextEdit{}
	for _, a := range actions {
		fmt.Fprintf(c.stdout, "%s %s: %s\n", verb, positionOf(s, a.Fixes[0].Loc), a.Title)
		for file, es := range a.Edits {
			edits[file] = append(edits[file], es...)
		}
	}
	if *dryRun {
		return exitOK
	}
	files := make([]string, 0, len(edits))
	for file := range edits {
		files = append(files, file)
	}
	sort.Strings(files)
	for _, file := range files {
		f := s.File(file)
		if f == nil || f.Tree() == nil {
			fmt.Fprintf(c.stderr, "monoflake: %s changed since it was read; run fix again\n", display(file))
			return exitUsage
		}
		if err := os.WriteFile(file, analysis.ApplyEdits(f.Tree().Src, edits[file]), 0o644); err != nil {
			fmt.Fprintf(c.stderr, "monoflake: cannot write %s: %v\n", display(file), err)
			return exitUsage
		}
	}
	for _, a := range actions {
		if err := applyOutsideEdits(ctx, s, a); err != nil {
			fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
			return exitUsage
		}
	}
	return exitOK
}

// applyOutsideEdits carries out what an action does besides editing text:
// creating a file, adding one to git.
func applyOutsideEdits(ctx context.Context, s *analysis.Snapshot, a analysis.Action) error {
	if a.Create != nil {
		if _, err := os.Stat(a.Create.Path); err == nil {
			return nil // created meanwhile: never overwrite
		}
		if err := os.MkdirAll(filepath.Dir(a.Create.Path), 0o755); err != nil {
			return fmt.Errorf("cannot create %s: %w", display(a.Create.Path), err)
		}
		if err := os.WriteFile(a.Create.Path, []byte(a.Create.Text), 0o644); err != nil {
			return fmt.Errorf("cannot create %s: %w", display(a.Create.Path), err)
		}
	}
	if a.GitAdd != "" {
		if err := gitsafe.Run(ctx, s.Root, "add", "--", a.GitAdd); err != nil {
			return fmt.Errorf("cannot add %s to git: %w", display(a.GitAdd), err)
		}
	}
	return nil
}
