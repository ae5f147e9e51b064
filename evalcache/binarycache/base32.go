package binarycache

import (
	"fmt"
	"strings"
)

// Nix writes hashes in a base-32 of its own: an alphabet without e, o, u
// and t, and the bits taken from the end of the hash first, so the text is
// not the RFC 4648 encoding of the same bytes.
const base32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz"

// Base32 writes h in Nix's base-32.
func Base32(h []byte) string {
	n := (len(h)*8-1)/5 + 1
	var b strings.Builder
	b.Grow(n)
	for k := n - 1; k >= 0; k-- {
		bit := k * 5
		i, j := bit/8, uint(bit%8)
		c := h[i] >> j
		if i+1 < len(h) {
			c |= h[i+1] << (8 - j)
		}
		b.WriteByte(base32Alphabet[c&0x1f])
	}
	return b.String()
}

// DecodeBase32 reads size bytes written in Nix's base-32.
func DecodeBase32(s string, size int) ([]byte, error) {
	if len(s) != (size*8-1)/5+1 {
		return nil, fmt.Errorf("%q is not a base-32 hash of %d bytes", s, size)
	}
	out := make([]byte, size)
	for n := 0; n < len(s); n++ {
		digit := strings.IndexByte(base32Alphabet, s[len(s)-n-1])
		if digit < 0 {
			return nil, fmt.Errorf("%q holds %q, which is not a base-32 digit", s, s[len(s)-n-1])
		}
		bit := n * 5
		i, j := bit/8, uint(bit%8)
		out[i] |= byte(digit << j)
		if carry := byte(digit >> (8 - j)); i+1 < size {
			out[i+1] |= carry
		} else if carry != 0 {
			return nil, fmt.Errorf("%q does not fit in %d bytes", s, size)
		}
	}
	return out, nil
}
