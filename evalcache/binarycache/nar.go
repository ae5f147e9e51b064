package binarycache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A NAR is Nix's archive of a store path: a sequence of strings, each a
// little-endian 64-bit length, the bytes and zero padding to a multiple of
// eight. The objects written here are single regular files, the simplest
// archive there is.

// FileNAR is the NAR of a store path that is one regular, non-executable
// file holding contents.
func FileNAR(contents []byte) []byte {
	var b bytes.Buffer
	for _, s := range []string{"nix-archive-1", "(", "type", "regular", "contents"} {
		writeString(&b, []byte(s))
	}
	writeString(&b, contents)
	writeString(&b, []byte(")"))
	return b.Bytes()
}

func writeUint64(w *bytes.Buffer, n uint64) {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], n)
	w.Write(buf[:])
}

func writeString(w *bytes.Buffer, s []byte) {
	writeUint64(w, uint64(len(s)))
	w.Write(s)
	if pad := (8 - len(s)%8) % 8; pad > 0 {
		w.Write(make([]byte, pad))
	}
}

// ReadFileNAR returns the contents of a NAR that holds one regular file,
// and an error for any other archive (a folder, a link, bytes that are not
// a NAR).
func ReadFileNAR(nar []byte) ([]byte, error) {
	r := narReader{data: nar}
	for _, want := range []string{"nix-archive-1", "(", "type", "regular"} {
		if err := r.expect(want); err != nil {
			return nil, err
		}
	}
	tok, err := r.next()
	if err != nil {
		return nil, err
	}
	if string(tok) == "executable" {
		if err := r.expect(""); err != nil {
			return nil, err
		}
		if tok, err = r.next(); err != nil {
			return nil, err
		}
	}
	if string(tok) != "contents" {
		return nil, fmt.Errorf("the archive holds %q where a file's contents should be", tok)
	}
	contents, err := r.next()
	if err != nil {
		return nil, err
	}
	if err := r.expect(")"); err != nil {
		return nil, err
	}
	if len(r.data) != 0 {
		return nil, errors.New("the archive goes on after its one file")
	}
	return contents, nil
}

type narReader struct{ data []byte }

// next reads one string.
func (r *narReader) next() ([]byte, error) {
	if len(r.data) < 8 {
		return nil, io.ErrUnexpectedEOF
	}
	n := binary.LittleEndian.Uint64(r.data)
	padded := (n + 7) &^ 7
	if n > uint64(len(r.data)-8) || padded > uint64(len(r.data)-8) {
		return nil, fmt.Errorf("the archive is cut short: %w", io.ErrUnexpectedEOF)
	}
	s := r.data[8 : 8+n]
	for _, b := range r.data[8+n : 8+padded] {
		if b != 0 {
			return nil, errors.New("the archive's padding is not zero")
		}
	}
	r.data = r.data[8+padded:]
	return s, nil
}

func (r *narReader) expect(want string) error {
	got, err := r.next()
	if err != nil {
		return err
	}
	if string(got) != want {
		return fmt.Errorf("the archive holds %q where %q should be; it is not a NAR of one file", got, want)
	}
	return nil
}
