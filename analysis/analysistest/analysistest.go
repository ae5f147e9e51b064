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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// Directive is one `@name(arg, ...)` found in a comment.
type Directive struct {
	Name string
	Args []string // trimmed; quoted arguments unquoted
	// Code is the line's text before its comment, and LineStart the byte
	// offset of the line in the file.
	Code      string
	LineStart int
}

// ParseDirectives returns the directives of a file's comments, in order.
// An argument is a bare word (up to the next comma or parenthesis) or a
// double-quoted string in which \" and \\ stand for themselves, so
// messages with commas and parentheses can be expected.
func ParseDirectives(src string) ([]Directive, error) {
	var out []Directive
	lineStart := 0
	for i, line := range strings.SplitAfter(src, "\n") {
		cut := commentStart(line)
		code, comment := line[:cut], line[cut:]
		for {
			at := strings.IndexByte(comment, '@')
			if at < 0 {
				break
			}
			comment = comment[at+1:]
			name := 0
			for name < len(comment) && comment[name] >= 'a' && comment[name] <= 'z' {
				name++
			}
			if name == 0 || name >= len(comment) || comment[name] != '(' {
				continue
			}
			args, rest, err := parseArgs(comment[name+1:])
			if err != nil {
				return nil, fmt.Errorf("line %d: @%s: %w", i+1, comment[:name], err)
			}
			out = append(out, Directive{Name: comment[:name], Args: args, Code: code, LineStart: lineStart})
			comment = rest
		}
		lineStart += len(line)
	}
	return out, nil
}

// Directives is ParseDirectives for sources known to be well formed.
func Directives(src string) []Directive {
	ds, _ := ParseDirectives(src)
	return ds
}

// commentStart returns where the line's # comment starts (len(line) if it
// has none), skipping # inside double-quoted strings.
func commentStart(line string) int {
	inString := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && inString:
			i++
		case c == '"':
			inString = !inString
		case c == '#' && !inString:
			return i
		}
	}
	return len(line)
}

// parseArgs reads arguments up to the closing parenthesis and returns them
// with the text after it.
func parseArgs(s string) ([]string, string, error) {
	var args []string
	for {
		s = strings.TrimLeft(s, " \t")
		var arg string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, "", errors.New("unterminated string")
			}
			arg, s = b.String(), strings.TrimLeft(s[i+1:], " \t")
		} else {
			j := strings.IndexAny(s, ",)")
			if j < 0 {
				return nil, "", errors.New("missing )")
			}
			arg, s = strings.TrimSpace(s[:j]), s[j:]
		}
		if s == "" {
			return nil, "", errors.New("missing )")
		}
		if arg != "" || s[0] == ',' || len(args) > 0 {
			args = append(args, arg)
		}
		switch s[0] {
		case ')':
			return args, s[1:], nil
		case ',':
			s = s[1:]
		default:
			return nil, "", fmt.Errorf("unexpected %q after an argument", s[0])
		}
	}
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

// Age sets back the times of everything below root by a minute. A test
// that has just written files and expects a second load to prove them
// unchanged needs it: the persistent index compares a file written within
// a clock tick of being read by content, not by its stats, as git does
// with racily clean entries.
func Age(t testing.TB, root string) {
	t.Helper()
	past := time.Now().Add(-time.Minute)
	err := filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, past, past)
	})
	if err != nil {
		t.Fatalf("age %s: %v", root, err)
	}
}
