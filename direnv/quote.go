package direnv

import "strings"

// Quote returns s as one bash word that evaluates to exactly the bytes of s.
// Single quotes keep everything literal (newlines, `$`, backslashes, bytes
// that are not UTF-8); only the single quote itself needs the '\” dance.
// Plain words are left bare so the output stays readable.
func Quote(s string) string {
	if isPlainWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isPlainWord reports whether bash reads s back unchanged without quotes:
// no globbing, expansion, splitting, tilde, brace or assignment characters.
func isPlainWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune("_@%+,./:-", rune(c)) {
			return false
		}
	}
	return true
}

// isVariableName reports whether name is a bash variable name. Anything else
// is rejected rather than rendered into code.
func isVariableName(name string) bool {
	if name == "" || isDigit(name[0]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isAlnum(name[i]) && name[i] != '_' {
			return false
		}
	}
	return true
}

// isFunctionName reports whether name is rendered as a function. Bash accepts
// more, but a name with quotes, spaces or expansion characters would be code.
func isFunctionName(name string) bool {
	if name == "" || isDigit(name[0]) || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isAlnum(name[i]) && !strings.ContainsRune("_:.+@-", rune(name[i])) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
