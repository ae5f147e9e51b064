package syntax

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinesPositions(t *testing.T) {
	// "é" is 2 bytes/1 unit, "中" 3 bytes/1 unit, "😀" 4 bytes/2 units.
	src := "a = \"é中😀\"; # 😀 x\r\nb\rc\n"
	l := NewLines([]byte(src))
	require.Equal(t, 4, l.Count())
	tests := []struct {
		name             string
		offset           int
		line, col, col16 int
	}{
		{"start", 0, 0, 0, 0},
		{"before non-ASCII", 5, 0, 5, 5},
		{"after é", 7, 0, 7, 6},
		{"after 中", 10, 0, 10, 7},
		{"after emoji", 14, 0, 14, 9},
		{"after second emoji", 23, 0, 23, 16},
		{"CRLF line", 27, 1, 0, 0},
		{"after lone CR", 29, 2, 0, 0},
		{"past the end", 1000, 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, col := l.Position(tt.offset)
			require.Equal(t, [2]int{tt.line, tt.col}, [2]int{line, col})
			line16, col16 := l.UTF16Position(tt.offset)
			require.Equal(t, [2]int{tt.line, tt.col16}, [2]int{line16, col16})
			if tt.offset <= len(src) {
				require.Equal(t, tt.offset, l.UTF16Offset(tt.line, tt.col16))
				require.Equal(t, tt.offset, l.Offset(tt.line, tt.col))
			}
		})
	}
}

func TestLinesClamp(t *testing.T) {
	l := NewLines([]byte("ab\n😀\n"))
	require.Equal(t, 2, l.UTF16Offset(0, 99), "a column past the line end clamps to the line end")
	require.Equal(t, 3, l.UTF16Offset(1, 1), "a column inside a surrogate pair lands before the character")
	require.Equal(t, 7, l.UTF16Offset(1, 2))
	require.Equal(t, 8, l.UTF16Offset(9, 0), "a line past the end clamps to the end")
	require.Equal(t, 0, l.UTF16Offset(-1, 0))
}
