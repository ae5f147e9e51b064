package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/monoflake/monoflake/analysis"
)

// This file holds the static subcommands: thin shells around package
// analysis, which the language server calls too.

// load indexes the repository containing dir and prints a warning when
// there is no flake.
func load(ctx context.Context, c *cli, dir string) (*analysis.Snapshot, bool) {
	return loadAfter(ctx, c, dir, nil)
}

// loadAfter is load reusing the listing of a proof just made (nil: none).
func loadAfter(ctx context.Context, c *cli, dir string, proof *analysis.Proof) (*analysis.Snapshot, bool) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(c.stderr, "monoflake: %s does not exist\n", dir)
		return nil, false
	}
	s, err := analysis.LoadWith(ctx, dir, analysis.LoadOptions{Index: c.index(), Proof: proof})
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return nil, false
	}
	if !s.HasFlake {
		fmt.Fprintf(c.stderr, "monoflake: warning: no flake.nix in %s or its parents; indexing its .nix files without a flake\n", dir)
	}
	if s.ConfigErr != nil {
		fmt.Fprintf(c.stderr, "monoflake: warning: ignoring the configuration: %v\n", s.ConfigErr)
	}
	return s, true
}

func dirArg(fs *flagSet) string {
	if fs.NArg() > 0 {
		return fs.Arg(0)
	}
	return "."
}

// dirAndWord reads `[DIR] [WORD]`: one argument is DIR when a directory of
// that name exists, else WORD (a name to filter by), as the user meant.
func dirAndWord(fs *flagSet) (dir, word string) {
	switch fs.NArg() {
	case 0:
		return ".", ""
	case 1:
		if info, err := os.Stat(fs.Arg(0)); err == nil && info.IsDir() {
			return fs.Arg(0), ""
		}
		return ".", fs.Arg(0)
	}
	return fs.Arg(0), fs.Arg(1)
}

// display shortens a path for people: relative to the working directory
// when it lies below it.
func display(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// position is a 1-based line and byte column, as the command line shows.
type position struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"endLine"`
	EndColumn int    `json:"endColumn"`
}

func positionOf(s *analysis.Snapshot, loc analysis.Location) position {
	p := position{File: display(loc.File), Line: 1, Column: 1, EndLine: 1, EndColumn: 1}
	if f := s.File(loc.File); f != nil && f.Lines() != nil {
		l, col := f.Lines().Position(loc.Span.Start)
		el, ecol := f.Lines().Position(loc.Span.End)
		p.Line, p.Column, p.EndLine, p.EndColumn = l+1, col+1, el+1, ecol+1
	}
	return p
}

func (p position) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column) }

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type componentJSON struct {
	Name     string       `json:"name"`
	Dir      string       `json:"dir"`
	SubFlake bool         `json:"subFlake"`
	Files    []string     `json:"files"`
	Outputs  []outputJSON `json:"outputs"`
	Deps     []string     `json:"dependsOn"`
}

type outputJSON struct {
	Category string `json:"category"`
	Name     string `json:"name"`
	System   string `json:"system,omitempty"`
	position
}

func runComponents(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "components")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, done := fs.parse(args, 2); done {
		return code
	}
	dir, name := dirAndWord(fs)
	s, ok := load(ctx, c, dir)
	if !ok {
		return exitUsage
	}
	out := []componentJSON{}
	for _, comp := range s.Components() {
		if !strings.Contains(strings.ToLower(comp.Name), strings.ToLower(name)) {
			continue
		}
		cj := componentJSON{Name: comp.Name, Dir: display(comp.Dir), SubFlake: comp.SubFlake, Deps: comp.Deps, Files: []string{}, Outputs: []outputJSON{}}
		if cj.Deps == nil {
			cj.Deps = []string{}
		}
		for _, f := range comp.Files {
			cj.Files = append(cj.Files, display(f))
		}
		for _, o := range comp.Outputs {
			cj.Outputs = append(cj.Outputs, outputJSON{Category: o.Category, Name: o.Name, System: o.System, position: positionOf(s, o.Def)})
		}
		out = append(out, cj)
	}
	if *asJSON {
		writeJSON(c.stdout, out)
		return exitOK
	}
	for _, cj := range out {
		kind := ""
		if cj.SubFlake {
			kind = " (sub-flake)"
		}
		fmt.Fprintf(c.stdout, "%s%s  %s\n", cj.Name, kind, cj.Dir)
		if len(cj.Deps) > 0 {
			fmt.Fprintf(c.stdout, "  depends on: %s\n", strings.Join(cj.Deps, ", "))
		}
		fmt.Fprintf(c.stdout, "  files: %s\n", strings.Join(cj.Files, " "))
		for _, o := range cj.Outputs {
			name := o.Category + "." + o.Name
			if o.System != "" {
				name = o.Category + "." + o.System + "." + o.Name
			}
			fmt.Fprintf(c.stdout, "  %-32s %s\n", name, o.position)
		}
	}
	switch {
	case len(out) > 0:
		unreadNotes(c, s)
	case len(s.Components()) == 0:
		return noComponents(c, s)
	default:
		fmt.Fprintf(c.stderr, "monoflake: no component name contains %q (components: %s)\n", name,
			strings.Join(analysis.SortedComponentNames(s.Components()), ", "))
		return exitFindings
	}
	return exitOK
}

type diagnosticJSON struct {
	position
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

func runCheck(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "check")
	jsonFlag := fs.Bool("json", false, "print JSON")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	asJSON := *jsonFlag
	out, ok := checkResults(ctx, c, dirArg(fs))
	if !ok {
		return exitUsage
	}
	errors := 0
	for i := range out {
		if out[i].Severity == analysis.SeverityError.String() {
			errors++
		}
		out[i].File = display(out[i].File)
	}
	if asJSON {
		writeJSON(c.stdout, out)
	} else {
		for _, d := range out {
			fmt.Fprintf(c.stdout, "%s: %s: %s [%s]\n", d.position, d.Severity, d.Message, d.Code)
		}
	}
	if errors > 0 {
		return exitFindings
	}
	return exitOK
}

// checkResults are the diagnostics of the repository holding dir, file
// paths absolute. An unchanged repository is answered from the
// persistent index, at the cost of a stat per file.
func checkResults(ctx context.Context, c *cli, dir string) ([]diagnosticJSON, bool) {
	index := c.index()
	proof := analysis.Prove(ctx, dir, index)
	stored, ok := analysis.StoredDiagnostics(index, proof)
	if !ok {
		s, loaded := loadAfter(ctx, c, dir, &proof)
		if !loaded {
			return nil, false
		}
		stored = s.StoreDiagnostics(index)
	}
	out := make([]diagnosticJSON, 0, len(stored))
	for _, d := range stored {
		pos := position{File: d.Loc.File, Line: d.Start.Line + 1, Column: d.Start.Column + 1, EndLine: d.End.Line + 1, EndColumn: d.End.Column + 1}
		out = append(out, diagnosticJSON{position: pos, Severity: d.Severity.String(), Code: d.Code, Message: d.Message})
	}
	return out, true
}

// parsePosition reads FILE:LINE:COL (1-based line, 1-based byte column).
func parsePosition(arg string) (file string, line, col int, err error) {
	parts := strings.Split(arg, ":")
	if len(parts) < 3 {
		return "", 0, 0, fmt.Errorf("want FILE:LINE:COL, got %q", arg)
	}
	n := len(parts)
	line, err1 := strconv.Atoi(parts[n-2])
	col, err2 := strconv.Atoi(parts[n-1])
	if err1 != nil || err2 != nil || line < 1 || col < 1 {
		return "", 0, 0, fmt.Errorf("want FILE:LINE:COL with positive numbers, got %q", arg)
	}
	file, err = filepath.Abs(strings.Join(parts[:n-2], ":"))
	return file, line, col, err
}

// positionQuery loads the repository of a FILE:LINE:COL argument and
// returns the byte offset it names.
func positionQuery(ctx context.Context, c *cli, arg string) (*analysis.Snapshot, string, int, bool) {
	file, line, col, err := parsePosition(arg)
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return nil, "", 0, false
	}
	s, ok := load(ctx, c, filepath.Dir(file))
	if !ok {
		return nil, "", 0, false
	}
	f := s.File(file)
	if f == nil || f.Lines() == nil {
		fmt.Fprintf(c.stderr, "monoflake: %s is not an indexed Nix file of %s\n", display(file), display(s.Root))
		return nil, "", 0, false
	}
	return s, file, f.Lines().Offset(line-1, col-1), true
}

func printLocations(c *cli, s *analysis.Snapshot, locs []analysis.Location, asJSON bool) {
	out := []position{}
	for _, l := range locs {
		out = append(out, positionOf(s, l))
	}
	if asJSON {
		writeJSON(c.stdout, out)
		return
	}
	for _, p := range out {
		fmt.Fprintln(c.stdout, p)
	}
}

func runDefinition(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "definition")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	if code, done := fs.missing("FILE:LINE:COL"); done {
		return code
	}
	s, file, offset, ok := positionQuery(ctx, c, fs.Arg(0))
	if !ok {
		return exitUsage
	}
	locs := analysis.Definition(s, file, offset)
	if len(locs) == 0 && !*asJSON {
		fmt.Fprintln(c.stderr, "monoflake: no definition found at this position")
		return exitFindings
	}
	printLocations(c, s, locs, *asJSON)
	return exitOK
}

func runReferences(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "references")
	asJSON := fs.Bool("json", false, "print JSON")
	decl := fs.Bool("declaration", false, "include the definitions")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	if code, done := fs.missing("FILE:LINE:COL"); done {
		return code
	}
	s, file, offset, ok := positionQuery(ctx, c, fs.Arg(0))
	if !ok {
		return exitUsage
	}
	printLocations(c, s, analysis.References(s, file, offset, *decl), *asJSON)
	return exitOK
}

func runSymbols(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "symbols")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, done := fs.parse(args, 2); done {
		return code
	}
	dir, query := dirAndWord(fs)
	s, ok := load(ctx, c, dir)
	if !ok {
		return exitUsage
	}
	type symbolJSON struct {
		Name      string `json:"name"`
		Category  string `json:"category"`
		Component string `json:"component"`
		position
	}
	out := []symbolJSON{}
	for _, sym := range analysis.WorkspaceSymbols(s, query, 0) {
		o := symbolJSON{Name: sym.Name, Category: sym.Category, position: positionOf(s, sym.Loc)}
		if comp := s.ComponentOf(sym.Loc.File); comp != nil {
			o.Component = comp.Name
		}
		out = append(out, o)
	}
	if *asJSON {
		writeJSON(c.stdout, out)
		return exitOK
	}
	for _, o := range out {
		fmt.Fprintf(c.stdout, "%-40s %-12s %s\n", o.Category+"."+o.Name, o.Component, o.position)
	}
	return exitOK
}

func runGraph(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "graph")
	format := fs.choice("format", "dot", "print Graphviz dot or JSON", "dot", "json")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	s, ok := load(ctx, c, dirArg(fs))
	if !ok {
		return exitUsage
	}
	if len(s.Components()) == 0 {
		return noComponents(c, s)
	}
	unreadNotes(c, s)
	edges := analysis.Graph(s)
	if *format == "json" {
		type node struct {
			Name      string   `json:"name"`
			DependsOn []string `json:"dependsOn"`
		}
		nodes := []node{}
		for _, comp := range s.Components() {
			deps := comp.Deps
			if deps == nil {
				deps = []string{}
			}
			nodes = append(nodes, node{comp.Name, deps})
		}
		writeJSON(c.stdout, map[string]any{"components": nodes})
		return exitOK
	}
	fmt.Fprintln(c.stdout, "digraph components {")
	for _, comp := range s.Components() {
		fmt.Fprintf(c.stdout, "  %s;\n", strconv.Quote(comp.Name))
	}
	for _, e := range edges {
		fmt.Fprintf(c.stdout, "  %s -> %s;\n", strconv.Quote(e.From), strconv.Quote(e.To))
	}
	fmt.Fprintln(c.stdout, "}")
	return exitOK
}

func runAffected(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "affected")
	since := fs.String("since", "", "the git `REV` to compare with (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	explain := fs.Bool("explain", false, "say why each component is affected, and what the model could not read")
	if code, done := fs.parse(args, 1); done {
		return code
	}
	if *since == "" {
		return fs.usageError("--since REV is required")
	}
	s, ok := load(ctx, c, dirArg(fs))
	if !ok {
		return exitUsage
	}
	if len(s.Components()) == 0 {
		// An empty answer would tell CI that nothing needs building.
		return noComponents(c, s)
	}
	comps, err := analysis.Affected(ctx, s, *since)
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].Name < comps[j].Name })
	if *asJSON {
		type affectedJSON struct {
			Name    string   `json:"name"`
			Dir     string   `json:"dir"`
			Reasons []string `json:"reasons"`
		}
		out := []affectedJSON{}
		for _, comp := range comps {
			out = append(out, affectedJSON{comp.Name, display(comp.Dir), comp.Reasons})
		}
		writeJSON(c.stdout, out)
		return exitOK
	}
	for _, comp := range comps {
		if *explain {
			fmt.Fprintf(c.stdout, "%s: %s\n", comp.Name, strings.Join(comp.Reasons, "; "))
		} else {
			fmt.Fprintln(c.stdout, comp.Name)
		}
	}
	if *explain {
		unreadNotes(c, s)
	}
	return exitOK
}

// maxNotes bounds the lines unreadNotes prints.
const maxNotes = 10

// unreadNotes says, on stderr, what the model could not read, one line a
// cause: what it contributes is not in the answer.
func unreadNotes(c *cli, s *analysis.Snapshot) {
	unread := s.Unread()
	for i, u := range unread {
		if i == maxNotes {
			fmt.Fprintf(c.stderr, "monoflake: note: and %d more the model could not read\n", len(unread)-maxNotes)
			break
		}
		where := display(u.File)
		if u.Line > 0 {
			where += ":" + strconv.Itoa(u.Line)
		}
		fmt.Fprintf(c.stderr, "monoflake: note: could not read %s: %s\n", where, u.Why)
	}
}

// noComponents refuses to answer for a repository in which the model found
// no component, saying what it could not read.
func noComponents(c *cli, s *analysis.Snapshot) int {
	fmt.Fprintf(c.stderr, "monoflake: no components found in %s\n", display(s.Root))
	unreadNotes(c, s)
	return exitFindings
}
