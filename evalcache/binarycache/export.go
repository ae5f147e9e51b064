package binarycache

import (
	"bytes"
	"fmt"
	"io"
	"sort"
)

// Object is a store path that is one file, as this package writes it.
type Object struct {
	Path       string   // the store path
	References []string // store paths its contents name; each must be valid where it is imported, or come earlier in the stream
	Contents   []byte
}

// exportMagic marks the metadata that follows a NAR in an export stream
// ("NIXE").
const exportMagic = 0x4558494e

// WriteExport writes objects as the stream `nix-store --export` writes and
// `nix-store --import` reads: for each, a one, its NAR, the magic number,
// its path, its references, an empty deriver and no signature; then a zero.
// Import trusts the stream (it is how a trusted user adds paths), hashes
// each NAR as it reads it and registers the path with these references, so
// objects must come after the objects they reference.
func WriteExport(w io.Writer, objects []Object) error {
	var b bytes.Buffer
	for _, o := range objects {
		if _, _, err := ParseStorePath(o.Path); err != nil {
			return err
		}
		refs := append([]string(nil), o.References...)
		sort.Strings(refs)
		for _, r := range refs {
			if _, _, err := ParseStorePath(r); err != nil {
				return fmt.Errorf("reference of %s: %w", o.Path, err)
			}
		}
		writeUint64(&b, 1)
		b.Write(FileNAR(o.Contents))
		writeUint64(&b, exportMagic)
		writeString(&b, []byte(o.Path))
		writeUint64(&b, uint64(len(refs)))
		for _, r := range refs {
			writeString(&b, []byte(r))
		}
		writeString(&b, nil) // deriver
		writeUint64(&b, 0)   // legacy signature: none
	}
	writeUint64(&b, 0)
	_, err := w.Write(b.Bytes())
	return err
}
