package direnv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// EnvrcContent is the `.envrc` that `monoflake init` writes: the component is
// found from the directory, so the file never needs editing when components
// are renamed.
const EnvrcContent = "use monoflake\n"

// WriteEnvrcs writes EnvrcContent to the `.envrc` of each directory that has
// none. An existing file (or symlink, even a dangling one) is never touched:
// it is reported in kept. It never runs `direnv allow`; trusting a file stays
// the user's decision. On error, written lists what was created before it.
func WriteEnvrcs(dirs []string) (written, kept []string, err error) {
	for _, dir := range dirs {
		path := filepath.Join(dir, ".envrc")
		// O_EXCL makes "exists" and "create" one step, so a file that
		// appears concurrently is not overwritten either.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			kept = append(kept, path)
			continue
		}
		if err != nil {
			return written, kept, fmt.Errorf("create %s: %w", path, err)
		}
		_, err = f.WriteString(EnvrcContent)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, kept, fmt.Errorf("write %s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, kept, nil
}

// PendingEnvrcs says what WriteEnvrcs(dirs) would do now, writing nothing:
// the .envrc paths it would write and those it would keep because they
// exist (a file or a symlink, even a dangling one).
func PendingEnvrcs(dirs []string) (write, kept []string) {
	for _, dir := range dirs {
		path := filepath.Join(dir, ".envrc")
		if _, err := os.Lstat(path); err == nil {
			kept = append(kept, path)
		} else {
			write = append(write, path)
		}
	}
	return write, kept
}
