package direnv

import (
	_ "embed"
	"strings"
)

//go:embed direnvrc.bash
var direnvrcTemplate string

// Direnvrc returns the use_monoflake function for direnv's stdlib. bin is the
// absolute path of the monoflake binary to run; when it is empty or no longer
// executable at load time, the function falls back to monoflake on PATH.
func Direnvrc(bin string) string {
	return strings.Replace(direnvrcTemplate, "@MONOFLAKE_BIN@", Quote(bin), 1)
}
