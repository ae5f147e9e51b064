package syntax

import (
	"sort"
	"unicode/utf8"
)

// Lines converts between byte offsets and line/column positions of one
// file's text. Lines end at "\n", "\r\n" or a lone "\r", as the LSP
// specification counts them. Columns come in two units: bytes (what the
// command line prints, like the Go tools) and UTF-16 code units (what LSP
// clients send).
type Lines struct {
	src    []byte
	starts []int // byte offset where each line starts
}

// NewLines indexes the line starts of src.
func NewLines(src []byte) *Lines {
	starts := make([]int, 1, 1+len(src)/32)
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			starts = append(starts, i+1)
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		}
	}
	return &Lines{src: src, starts: starts}
}

// Count returns the number of lines; an empty file has one.
func (l *Lines) Count() int { return len(l.starts) }

// lineEnd returns the offset of the line break ending line (or the end of
// the text).
func (l *Lines) lineEnd(line int) int {
	if line+1 >= len(l.starts) {
		return len(l.src)
	}
	end := l.starts[line+1] - 1
	if end > l.starts[line] && l.src[end] == '\n' && l.src[end-1] == '\r' {
		end--
	}
	return end
}

// line returns the 0-based line holding offset, clamping offset into the text.
func (l *Lines) line(offset int) (int, int) {
	offset = max(0, min(offset, len(l.src)))
	line := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > offset }) - 1
	return line, offset
}

// Position returns the 0-based line and byte column of offset.
func (l *Lines) Position(offset int) (line, col int) {
	line, offset = l.line(offset)
	return line, offset - l.starts[line]
}

// Offset returns the byte offset of a 0-based line and byte column,
// clamped to the text and to the end of that line.
func (l *Lines) Offset(line, col int) int {
	if line < 0 {
		return 0
	}
	if line >= len(l.starts) {
		return len(l.src)
	}
	return l.starts[line] + max(0, min(col, l.lineEnd(line)-l.starts[line]))
}

// UTF16Position returns the 0-based line and UTF-16 column of offset. An
// offset inside a multi-byte character counts as the character's start.
func (l *Lines) UTF16Position(offset int) (line, col int) {
	line, offset = l.line(offset)
	for i := l.starts[line]; i < offset; {
		r, size := utf8.DecodeRune(l.src[i:])
		if i+size > offset {
			break
		}
		col += utf16Len(r)
		i += size
	}
	return line, col
}

// UTF16Offset returns the byte offset of a 0-based line and UTF-16 column,
// clamped to the text and to the end of that line. A column inside a
// surrogate pair lands before the character.
func (l *Lines) UTF16Offset(line, col int) int {
	if line < 0 {
		return 0
	}
	if line >= len(l.starts) {
		return len(l.src)
	}
	i, end := l.starts[line], l.lineEnd(line)
	for units := 0; i < end; {
		r, size := utf8.DecodeRune(l.src[i:end])
		units += utf16Len(r)
		if units > col {
			break
		}
		i += size
	}
	return i
}

// utf16Len counts the UTF-16 code units of r; invalid bytes decode as
// U+FFFD, one unit, as editors show them.
func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
