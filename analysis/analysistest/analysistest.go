// Package analysistest holds what monoflake's marker tests share: fixture
// repositories kept as text archives ("-- path --" headers, as in Go's
// txtar), and the directives their Nix comments carry:
//
//	x = self'.packages.api; # @mark(apiref, "api") @def(apiref, apidef)
//
// A new test case is then a few lines of data, read by one table-driven
// runner per package.
package analysistest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ReadArchive parses an archive into its files, by relative path. Text
// before the first header is a comment and is dropped.
func ReadArchive(data []byte) map[string]string {
	files := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			files[name] = body.String()
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		header := strings.TrimRight(line, "\n")
		if strings.HasPrefix(header, "-- ") && strings.HasSuffix(header, " --") {
			flush()
			name = strings.TrimSuffix(strings.TrimPrefix(header, "-- "), " --")
			continue
		}
		if name != "" {
			body.WriteString(line)
		}
	}
	flush()
	return files
}

// WriteArchive writes the archive at path into a new temporary directory
// and returns that directory (symbolic links resolved, so paths compare
// equal to what the code under test computes) and the files by absolute
// path.
func WriteArchive(t testing.TB, path string) (root string, files map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read archive: %v", err)
	}
	root, err = filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	files = map[string]string{}
	for rel, text := range ReadArchive(data) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files[p] = text
	}
	return root, files
}

var directiveRe = regexp.MustCompile(`@([a-z]+)\(([^)]*)\)`)

// Directive is one `@name(arg, ...)` found in a comment.
type Directive struct {
	Name string
	Args []string // trimmed, quotes removed
	// Code is the line's text before its comment, and LineStart the byte
	// offset of the line in the file.
	Code      string
	LineStart int
}

// Directives returns the directives of a file's comments, in order.
func Directives(src string) []Directive {
	var out []Directive
	lineStart := 0
	for _, line := range strings.SplitAfter(src, "\n") {
		code, comment, _ := strings.Cut(line, "#")
		for _, m := range directiveRe.FindAllStringSubmatch(comment, -1) {
			var args []string
			for _, a := range strings.Split(m[2], ",") {
				args = append(args, strings.Trim(strings.TrimSpace(a), `"`))
			}
			out = append(out, Directive{Name: m[1], Args: args, Code: code, LineStart: lineStart})
		}
		lineStart += len(line)
	}
	return out
}

// Find returns the byte range in the file of needle's first occurrence on
// the directive's line. A needle starting like a name marks that whole
// name ("api;" marks api), any other needle marks itself (paths, " ;").
func (d Directive) Find(needle string) (start, end int, ok bool) {
	i := strings.Index(d.Code, needle)
	if i < 0 || needle == "" {
		return 0, 0, false
	}
	n := len(needle)
	if isNameByte(needle[0]) {
		n = 0
		for i+n < len(d.Code) && isNameByte(d.Code[i+n]) {
			n++
		}
	}
	return d.LineStart + i, d.LineStart + i + n, true
}

func isNameByte(b byte) bool {
	return b == '_' || b == '\'' || b == '-' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}
