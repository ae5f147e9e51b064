package analysis

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// CompletionKind says what a completion item is.
type CompletionKind uint8

// Completion kinds.
const (
	CompleteOutput CompletionKind = iota + 1
	CompleteFile
	CompleteFolder
)

// CompletionItem is one proposal; Replace is the text it replaces (the
// partial word before the cursor).
type CompletionItem struct {
	Label   string
	Detail  string
	Kind    CompletionKind
	Replace syntax.Span
}

// The contexts completion understands, matched against the text before the
// cursor on its line. The text is read rather than the tree because the
// tree of a half-typed expression is full of errors.
var (
	categoryNames = `(packages|devShells|apps|checks|legacyPackages)`
	word          = `([A-Za-z0-9_'-]*)$`
	reSelfPrime   = regexp.MustCompile(`(?:self'|config)\.` + categoryNames + `\.` + word)
	reSelfSystem  = regexp.MustCompile(`(?:inputs\.)?self\.` + categoryNames + `\.(?:\$\{[^}]*\}|[A-Za-z0-9_-]+)\.` + word)
	reInputPrime  = regexp.MustCompile(`inputs'\.([A-Za-z0-9_-]+)\.` + categoryNames + `\.` + word)
	reInherit     = regexp.MustCompile(`inherit\s*\(\s*(?:self'|config)\.` + categoryNames + `\s*\)[A-Za-z0-9_'\s-]*?` + word)
	rePathLiteral = regexp.MustCompile(`(?:^|[\s\[(=:])(\.{1,2}/[A-Za-z0-9._+/-]*)$`)
)

// Complete proposes output names after self'.packages., config.packages.,
// self.packages.${system}., inputs'.NAME.packages. and inside
// inherit (self'.packages) ...; and files after ./ or ../ in a path.
func Complete(s *Snapshot, file string, offset int) []CompletionItem {
	f := s.files[filepath.Clean(file)]
	if f == nil || f.Tree() == nil {
		return nil
	}
	src := f.Tree().Src
	offset = max(0, min(offset, len(src)))
	lineStart := strings.LastIndexAny(string(src[:offset]), "\n\r") + 1
	before := string(src[lineStart:offset])
	replace := func(partial string) syntax.Span { return syntax.Span{Start: offset - len(partial), End: offset} }

	fl := s.model.flakeOfFile(s, f)
	if fl == nil {
		return nil
	}
	if m := reInputPrime.FindStringSubmatch(before); m != nil {
		if target := fl.pathInputs[m[1]]; target != nil {
			return s.outputItems(target.id, m[2], m[3], replace(m[3]))
		}
		return nil
	}
	for _, re := range []*regexp.Regexp{reSelfPrime, reSelfSystem, reInherit} {
		if m := re.FindStringSubmatch(before); m != nil {
			return s.outputItems(fl.id, m[1], m[2], replace(m[2]))
		}
	}
	if m := rePathLiteral.FindStringSubmatch(before); m != nil {
		return s.pathItems(filepath.Dir(file), m[1], replace)
	}
	return nil
}

func (s *Snapshot) outputItems(flakeID int, category, partial string, span syntax.Span) []CompletionItem {
	var out []CompletionItem
	seen := map[string]bool{}
	for k, defs := range s.model.defs {
		if k.flake != flakeID || !k.perSys || k.category != category || k.name == "" || seen[k.name] || !strings.HasPrefix(k.name, partial) {
			continue
		}
		seen[k.name] = true
		out = append(out, CompletionItem{Label: k.name, Detail: category + " · " + defs[0].Component, Kind: CompleteOutput, Replace: span})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// pathItems lists the directory named by the typed path's folder part.
func (s *Snapshot) pathItems(dir, typed string, replace func(string) syntax.Span) []CompletionItem {
	folder, partial := typed[:strings.LastIndex(typed, "/")+1], typed[strings.LastIndex(typed, "/")+1:]
	listed := filepath.Join(dir, folder)
	var out []CompletionItem
	for _, name := range s.fs.Entries(listed) {
		if !strings.HasPrefix(name, partial) || strings.HasPrefix(name, ".") && !strings.HasPrefix(partial, ".") || SkippedDir(name) {
			continue
		}
		item := CompletionItem{Label: name, Kind: CompleteFile, Replace: replace(partial)}
		if s.fs.IsDir(filepath.Join(listed, name)) {
			item.Kind = CompleteFolder
			item.Detail = "folder"
		}
		out = append(out, item)
	}
	return out
}
