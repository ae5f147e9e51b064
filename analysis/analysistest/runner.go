package analysistest

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The directives every back end answers, with the model's byte offsets:
//
//	@mark(ID, "needle")            ID names needle's first occurrence on this line
//	@def(FROM, TO, ...)            the definitions at FROM are exactly TO, ... (a mark, or file:PATH)
//	@nodef(FROM)                   there is no definition at FROM
//	@refs(ID, A, B, ...)           the references at ID, declarations included, are exactly A, B, ...
//	@hover(ID, "text")             the hover at ID covers ID and contains text
//	@complete(ID, L1, L2, ...)     completion at the end of ID offers exactly these labels, in order
//	@rename(ID, NEW, A, B, ...)    renaming ID to NEW replaces exactly A, B, ... with NEW
//	@renamed(ID, NEW, "file", "text")  after renaming ID to NEW, file reads text (\n for newlines)
//	@norename(ID, NEW, "text")     renaming ID to NEW is refused with a message holding text
//	@noprepare(ID, "text")         rename is refused at ID with a message holding text
//	@diag(code, "needle", severity, "message")
//	                               a diagnostic with this code and severity starts at
//	                               needle ("" for the start of the line), its message holding message
//	@action(ID, "title", "file", "text")
//	                               the code actions at ID offer title; applying it makes
//	                               file read text
//	@noaction(ID, "title")         no code action at ID is titled title
//
// Every diagnostic the back end reports must be expected by a @diag, and a
// directive not listed here fails the test: a typo must not pass silently.
var directiveArity = map[string][2]int{ // minimum and maximum argument counts; -1 for no maximum
	"mark": {2, 2}, "def": {2, -1}, "nodef": {1, 1}, "refs": {2, -1}, "hover": {2, 2},
	"complete": {1, -1}, "rename": {3, -1}, "renamed": {4, 4}, "norename": {3, 3}, "noprepare": {2, 2},
	"diag": {4, 4}, "action": {4, 4}, "noaction": {2, 2},
}

// Span is a byte range of a fixture file, the unit every back end answers in.
type Span struct {
	File       string // absolute
	Start, End int
}

func (s Span) String() string { return fmt.Sprintf("%s:%d-%d", filepath.Base(s.File), s.Start, s.End) }

// Diagnostic is one diagnostic as a back end reports it.
type Diagnostic struct {
	File     string
	Start    int
	Code     string
	Severity string // error, warning, info or hint
	Message  string
}

// Edit replaces a span of a file with text.
type Edit struct {
	Span Span
	Text string
}

// Action is a code action offered at a position, with its edits applied to
// the files it changes (their new contents, by absolute path).
type Action struct {
	Title string
	Files map[string]string
}

// Backend answers the directives for one fixture repository: the model
// directly, or the language server over the protocol.
type Backend interface {
	Definition(at Span) []Span // a file-only target has Start == End == -1
	References(at Span) []Span
	Hover(at Span) (text string, covers Span, ok bool)
	Complete(at Span) []string // labels offered with the cursor at at.End
	PrepareRename(at Span) (Span, error)
	Rename(at Span, newName string) ([]Edit, error)
	Actions(at Span) []Action
	// Diagnostics returns every diagnostic of the repository; want is what
	// the markers expect, for a back end that must wait until they arrive.
	Diagnostics(want []Diagnostic) []Diagnostic
}

// Run runs every archive matching the patterns against the back end that
// start builds for its repository (written to a temporary folder).
func Run(t *testing.T, start func(t *testing.T, root string, files map[string]string) Backend, patterns ...string) {
	var archives []string
	for _, pat := range patterns {
		m, err := filepath.Glob(pat)
		require.NoError(t, err)
		archives = append(archives, m...)
	}
	require.NotEmpty(t, archives, "no archives match %v", patterns)
	sort.Strings(archives)
	for _, archive := range archives {
		name := strings.TrimSuffix(filepath.Base(archive), ".txtar")
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(archive)))+"/"+name, func(t *testing.T) {
			root, files := WriteArchive(t, archive)
			fx := readFixture(t, root, files)
			b := start(t, root, files)
			for _, d := range fx.directives {
				if d.Name == "mark" || d.Name == "diag" {
					continue
				}
				t.Run(d.Name+"("+strings.Join(d.Args, ",")+")", func(t *testing.T) { fx.check(t, b, d) })
			}
			fx.checkDiagnostics(t, b)
		})
	}
}

type fixture struct {
	root       string
	files      map[string]string
	marks      map[string]Span
	directives []located
	diags      []Diagnostic
}

// located is a directive with the file it is in.
type located struct {
	Directive
	file string
}

func readFixture(t *testing.T, root string, files map[string]string) *fixture {
	fx := &fixture{root: root, files: files, marks: map[string]Span{}}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		ds, err := ParseDirectives(files[p])
		require.NoError(t, err, "%s", p)
		for _, d := range ds {
			require.NoError(t, validate(d), "%s", p)
			switch d.Name {
			case "mark":
				_, dup := fx.marks[d.Args[0]]
				require.False(t, dup, "%s: mark %s defined twice", p, d.Args[0])
				fx.marks[d.Args[0]] = fx.find(t, p, d, d.Args[1])
			case "diag":
				at := Span{File: p, Start: d.LineStart}
				if d.Args[1] != "" {
					at = fx.find(t, p, d, d.Args[1])
				}
				fx.diags = append(fx.diags, Diagnostic{File: p, Start: at.Start, Code: d.Args[0], Severity: d.Args[2], Message: d.Args[3]})
			}
			fx.directives = append(fx.directives, located{d, p})
		}
	}
	return fx
}

// validate refuses a directive the runner does not know, or one with the
// wrong number of arguments.
func validate(d Directive) error {
	arity, known := directiveArity[d.Name]
	if !known {
		return fmt.Errorf("unknown directive @%s on the line %q", d.Name, strings.TrimSpace(d.Code))
	}
	if len(d.Args) < arity[0] || arity[1] >= 0 && len(d.Args) > arity[1] {
		want := fmt.Sprintf("%d to %d", arity[0], arity[1])
		switch {
		case arity[1] < 0:
			want = fmt.Sprintf("at least %d", arity[0])
		case arity[0] == arity[1]:
			want = fmt.Sprint(arity[0])
		}
		return fmt.Errorf("@%s takes %s arguments, got %q", d.Name, want, d.Args)
	}
	if d.Name == "diag" {
		switch d.Args[2] {
		case "error", "warning", "info", "hint":
		default:
			return fmt.Errorf("@diag severity %q is none of error, warning, info, hint", d.Args[2])
		}
		if d.Args[3] == "" {
			return errors.New("@diag needs the message it expects")
		}
	}
	return nil
}

func (fx *fixture) find(t *testing.T, file string, d Directive, needle string) Span {
	start, end, ok := d.Find(needle)
	require.True(t, ok, "%s: %q is not on the line %q", file, needle, d.Code)
	return Span{File: file, Start: start, End: end}
}

func (fx *fixture) mark(t *testing.T, id string) Span {
	t.Helper()
	m, ok := fx.marks[id]
	require.True(t, ok, "unknown mark %s", id)
	return m
}

// target is a mark, or file:PATH for a whole file.
func (fx *fixture) target(t *testing.T, id string) Span {
	if rel, ok := strings.CutPrefix(id, "file:"); ok {
		return Span{File: filepath.Join(fx.root, rel), Start: -1, End: -1}
	}
	return fx.mark(t, id)
}

func (fx *fixture) path(rel string) string { return filepath.Join(fx.root, rel) }

func sortSpans(s []Span) []Span {
	sort.Slice(s, func(i, j int) bool {
		if s[i].File != s[j].File {
			return s[i].File < s[j].File
		}
		return s[i].Start < s[j].Start
	})
	return s
}

func (fx *fixture) check(t *testing.T, b Backend, d located) {
	args := d.Args
	switch d.Name {
	case "def":
		var want []Span
		for _, id := range args[1:] {
			want = append(want, fx.target(t, id))
		}
		require.Equal(t, sortSpans(want), sortSpans(b.Definition(fx.mark(t, args[0]))))
	case "nodef":
		require.Empty(t, b.Definition(fx.mark(t, args[0])))
	case "refs":
		var want []Span
		for _, id := range args[1:] {
			want = append(want, fx.mark(t, id))
		}
		require.Equal(t, sortSpans(want), sortSpans(b.References(fx.mark(t, args[0]))))
	case "hover":
		at := fx.mark(t, args[0])
		text, covers, ok := b.Hover(at)
		require.True(t, ok, "no hover")
		require.Contains(t, text, args[1])
		require.Equal(t, at, covers, "the hover covers the name")
	case "complete":
		got := b.Complete(fx.mark(t, args[0]))
		require.Equal(t, args[1:], got)
	case "rename":
		at := fx.mark(t, args[0])
		prep, err := b.PrepareRename(at)
		require.NoError(t, err)
		require.Equal(t, at, prep)
		edits, err := b.Rename(at, args[1])
		require.NoError(t, err)
		var got, want []Span
		for _, e := range edits {
			require.Equal(t, args[1], e.Text)
			got = append(got, e.Span)
		}
		for _, id := range args[2:] {
			want = append(want, fx.mark(t, id))
		}
		require.Equal(t, sortSpans(want), sortSpans(got))
	case "renamed":
		edits, err := b.Rename(fx.mark(t, args[0]), args[1])
		require.NoError(t, err)
		file := fx.path(args[2])
		require.Equal(t, unquote(args[3]), ApplyEdits(fx.files[file], file, edits))
	case "norename":
		_, err := b.Rename(fx.mark(t, args[0]), args[1])
		require.Error(t, err)
		require.Contains(t, err.Error(), args[2])
	case "noprepare":
		_, err := b.PrepareRename(fx.mark(t, args[0]))
		require.Error(t, err)
		require.Contains(t, err.Error(), args[1])
	case "action":
		actions := b.Actions(fx.mark(t, args[0]))
		var titles []string
		for _, a := range actions {
			titles = append(titles, a.Title)
			if a.Title == args[1] {
				file := fx.path(args[2])
				text, ok := a.Files[file]
				require.True(t, ok, "action %q does not change %s", a.Title, args[2])
				require.Equal(t, unquote(args[3]), text)
				return
			}
		}
		t.Fatalf("no action %q at %s; offered %q", args[1], args[0], titles)
	case "noaction":
		for _, a := range b.Actions(fx.mark(t, args[0])) {
			require.NotEqual(t, args[1], a.Title)
		}
	}
}

// unquote reads the \n escapes of an expected text.
func unquote(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }

// ApplyEdits applies the edits that concern file to its text. Edits must
// not overlap.
func ApplyEdits(text, file string, edits []Edit) string {
	var mine []Edit
	for _, e := range edits {
		if e.Span.File == file {
			mine = append(mine, e)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Span.Start > mine[j].Span.Start })
	for _, e := range mine {
		text = text[:e.Span.Start] + e.Text + text[e.Span.End:]
	}
	return text
}

func (fx *fixture) checkDiagnostics(t *testing.T, b Backend) {
	key := func(d Diagnostic) string {
		rel, _ := filepath.Rel(fx.root, d.File)
		return fmt.Sprintf("%s:%d %s %s", rel, d.Start, d.Severity, d.Code)
	}
	want := map[string]Diagnostic{}
	for _, d := range fx.diags {
		want[key(d)] = d
	}
	got := b.Diagnostics(fx.diags)
	var unexpected []string
	for _, g := range got {
		w, ok := want[key(g)]
		if !ok {
			unexpected = append(unexpected, key(g)+": "+g.Message)
			continue
		}
		require.Contains(t, g.Message, w.Message, "message of %s", key(g))
		delete(want, key(g))
	}
	var missing []string
	for k, w := range want {
		missing = append(missing, k+": "+w.Message)
	}
	sort.Strings(missing)
	require.Empty(t, unexpected, "unexpected diagnostics")
	require.Empty(t, missing, "expected diagnostics that did not come")
}
