package genrepo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// blobChunk is how much of the blob is written at a time, between checks of
// the context.
const blobChunk = 1 << 20

// writeBlob writes size pseudo-random bytes. Random rather than zero bytes so
// that git and nix handle it like a real binary asset: compression gains
// nothing and every byte is hashed and copied.
func (t *tree) writeBlob(ctx context.Context, name string, size, seed int64) (err error) {
	full := filepath.Join(t.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("create the folder of %s: %w", name, err)
	}
	f, err := os.Create(full)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", name, cerr)
		}
	}()
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	src := rand.NewChaCha8(key)
	buf := make([]byte, blobChunk)
	for left := size; left > 0; left -= int64(len(buf)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf = buf[:min(int64(len(buf)), left)]
		_, _ = src.Read(buf) // ChaCha8 never fails
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	t.count(name)
	return nil
}
