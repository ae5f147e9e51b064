package syntax

import "strings"

// Writing Nix: the one place the project turns a Go string into Nix source.
// Nix's lexer gives meaning to \, " and ${ inside "…" only; every other
// byte, control characters and invalid UTF-8 included, stands for itself,
// so those three (and the line breaks and tab, for readability) are all
// that is escaped. Go's strconv.Quote would be wrong: Nix knows no \x or
// \u escapes.
var nixEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `${`, `\${`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

// QuoteString returns s as a Nix string literal that reads back as s,
// byte for byte.
func QuoteString(s string) string {
	return `"` + nixEscaper.Replace(s) + `"`
}

// PathExpr returns an absolute path as a Nix expression whose value is that
// path, whatever characters it holds.
func PathExpr(p string) string {
	return "(/. + " + QuoteString(p) + ")"
}
