// Package binarycache reads and writes the formats of Nix binary caches, as
// Nix 2.8 defines them: store paths, the NAR archive of a single file, the
// export stream `nix-store --import` reads, narinfo files and their ed25519
// signatures, and the two layouts a cache is read from here (a folder,
// file://, and plain HTTP). It is what lets monoflake put content under a
// store path it computes from a key, and find it again without evaluating.
//
// It runs no process and knows nothing of devShells or of monoflake's own
// objects: evalcache decides what to store, this package only how.
package binarycache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// StoreDir is the store folder every path here belongs to. A cache records
// it in nix-cache-info, and Nix refuses a cache of another store folder.
const StoreDir = "/nix/store"

// maxNameLength is the longest name Nix accepts in a store path.
const maxNameLength = 211

// hashPartLength is the length of the base-32 digest at the start of a
// store path's base name.
const hashPartLength = 32

// OutputPath is the store path Nix gives the output "out" of a derivation
// whose hash (modulo fixed outputs) is digest. Nix never recomputes that
// hash for a path it imports or substitutes, only checks its signature, so
// a path computed this way from any digest can carry any content: the
// content is bound to the path by the signature over both.
func OutputPath(digest [sha256.Size]byte, name string) (string, error) {
	return makeStorePath("output:out", digest, name)
}

// makeStorePath is Nix's makeStorePath: the store path of an object of a
// type ("output:out", "text", "source") whose identifying hash is digest.
func makeStorePath(typ string, digest [sha256.Size]byte, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	s := typ + ":sha256:" + hex.EncodeToString(digest[:]) + ":" + StoreDir + ":" + name
	sum := sha256.Sum256([]byte(s))
	return StoreDir + "/" + Base32(compress(sum[:], 20)) + "-" + name, nil
}

// compress folds a hash into size bytes by xor, as Nix's compressHash does.
func compress(h []byte, size int) []byte {
	out := make([]byte, size)
	for i, b := range h {
		out[i%size] ^= b
	}
	return out
}

// CheckName reports whether Nix accepts name as the name of a store path.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("a store path name must not be empty")
	case len(name) > maxNameLength:
		return fmt.Errorf("store path name %q is longer than %d characters", name, maxNameLength)
	case name[0] == '.':
		return fmt.Errorf("store path name %q starts with a dot", name)
	}
	for _, r := range name {
		if !nameChar(r) {
			return fmt.Errorf("store path name %q holds %q, which Nix does not allow", name, r)
		}
	}
	return nil
}

func nameChar(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("+-._?=", r)
}

// Name turns any text into a store path name: characters Nix does not allow
// become '_', and the result is cut to fit with room for a prefix of
// reserve bytes.
func Name(s string, reserve int) string {
	var b strings.Builder
	for _, r := range s {
		if nameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if limit := maxNameLength - reserve; len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out
}

// ParseStorePath checks that path is a store path and returns its hash part
// and name.
func ParseStorePath(path string) (hashPart, name string, err error) {
	base, ok := strings.CutPrefix(path, StoreDir+"/")
	if !ok || strings.Contains(base, "/") {
		return "", "", fmt.Errorf("%q is not a path in %s", path, StoreDir)
	}
	if len(base) < hashPartLength+2 || base[hashPartLength] != '-' {
		return "", "", fmt.Errorf("%q is not a store path", path)
	}
	hashPart, name = base[:hashPartLength], base[hashPartLength+1:]
	if _, err := DecodeBase32(hashPart, 20); err != nil {
		return "", "", fmt.Errorf("store path %q: %w", path, err)
	}
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	return hashPart, name, nil
}
