package syntax

import (
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Nix itself reads every quoted string back byte for byte: its sha256 in
// Nix equals the Go string's.
func TestQuoteStringReadsBack(t *testing.T) {
	nix, err := exec.LookPath("nix-instantiate")
	if err != nil {
		t.Skip("nix-instantiate is not on PATH")
	}
	for _, s := range []string{
		"plain", `back\slash`, `"quoted"`, "${interpolated}", "$${not}", "line\nbreak\r\ttab",
		"\x01\x7f control", "invalid \xff\xfe utf-8", "é and 日本", "ends with \\", "''",
	} {
		expr := "builtins.hashString \"sha256\" " + QuoteString(s)
		out, err := exec.Command(nix, "--eval", "--strict", "-E", expr).CombinedOutput()
		require.NoError(t, err, "%q: %s", s, out)
		sum := sha256.Sum256([]byte(s))
		require.Equal(t, `"`+hex.EncodeToString(sum[:])+`"`, strings.TrimSpace(string(out)), "%q", s)
	}
}

func TestPathExpr(t *testing.T) {
	require.Equal(t, `(/. + "/a b/c\${d}")`, PathExpr("/a b/c${d}"))
}
