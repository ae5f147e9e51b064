package lsp

import (
	"fmt"
	"net/url"
	"path/filepath"

	"go.lsp.dev/protocol"
)

// uriToPath returns the clean absolute path of a file: URI. Other schemes
// (untitled buffers, remote files) are an error rather than a guess.
func uriToPath(u protocol.DocumentURI) (string, error) {
	parsed, err := url.Parse(string(u))
	if err != nil {
		return "", fmt.Errorf("invalid document URI %q: %w", truncate(string(u), 200), err)
	}
	if parsed.Scheme != "file" {
		return "", fmt.Errorf("only file: URIs are supported, not %q", truncate(string(u), 200))
	}
	p := filepath.FromSlash(parsed.Path)
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("document URI %q does not name an absolute path", truncate(string(u), 200))
	}
	return filepath.Clean(p), nil
}

// pathToURI returns the file: URI of an absolute path.
func pathToURI(path string) protocol.DocumentURI {
	return protocol.DocumentURI((&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String())
}
