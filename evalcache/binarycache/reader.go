package binarycache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound reports a file the cache does not have.
var ErrNotFound = errors.New("not in the cache")

// ErrUnsupported reports a cache this package cannot read itself: another
// URL scheme (s3://, ssh://) or a compressed NAR.
var ErrUnsupported = errors.New("not readable without nix")

// Reader reads files of a binary cache: a folder (file://) or a web server
// (http://, https://), which is how every cache server (nix-serve,
// Harmonia, Cachix, Attic) and a static bucket serve one. What it reads is
// not checked against any key: it is for hints and probes, and what must be
// trusted is placed in the store by nix, which checks signatures.
type Reader struct {
	url    string // without query or trailing slash
	dir    string // the folder of a file:// cache
	client *http.Client
}

// NewReader reads the cache at rawURL; its query (nix's store settings,
// such as ?priority=) is ignored. client serves http(s) caches.
func NewReader(rawURL string, client *http.Client) (*Reader, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache URL %q: %w", rawURL, err)
	}
	u.RawQuery, u.Fragment = "", ""
	r := &Reader{url: strings.TrimSuffix(u.String(), "/"), client: client}
	switch u.Scheme {
	case "file":
		if u.Host != "" || !filepath.IsAbs(u.Path) {
			return nil, fmt.Errorf("cache URL %q does not name an absolute folder (file:///path)", rawURL)
		}
		r.dir = filepath.Clean(u.Path)
	case "http", "https":
	default:
		return nil, fmt.Errorf("cache URL %q: %s caches are %w", rawURL, u.Scheme, ErrUnsupported)
	}
	return r, nil
}

// URL is the cache's address without its settings.
func (r *Reader) URL() string { return r.url }

// get reads one file of the cache, at most limit bytes.
func (r *Reader) get(ctx context.Context, name string, limit int64) ([]byte, error) {
	if r.dir != "" {
		f, err := os.Open(filepath.Join(r.dir, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s/%s: %w", r.url, name, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f, limit, r.url+"/"+name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/"+name, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
		// S3 answers 403 for a missing key of a bucket it will not list;
		// nix reads both as "not there".
		return nil, fmt.Errorf("%s/%s: %w", r.url, name, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s/%s answered %s", r.url, name, resp.Status)
	}
	return readLimited(resp.Body, limit, r.url+"/"+name)
}

func readLimited(rd io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", what, limit)
	}
	return data, nil
}

// maxNarInfo bounds a narinfo, which is a few hundred bytes unless it
// lists thousands of references.
const maxNarInfo = 4 << 20

// NarInfo reads the narinfo of a store path; the error wraps ErrNotFound
// when the cache does not have the path.
func (r *Reader) NarInfo(ctx context.Context, storePath string) (*NarInfo, error) {
	hashPart, _, err := ParseStorePath(storePath)
	if err != nil {
		return nil, err
	}
	data, err := r.get(ctx, hashPart+".narinfo", maxNarInfo)
	if err != nil {
		return nil, err
	}
	n, err := ParseNarInfo(data)
	if err != nil {
		return nil, fmt.Errorf("%s/%s.narinfo: %w", r.url, hashPart, err)
	}
	if n.StorePath != storePath {
		return nil, fmt.Errorf("%s/%s.narinfo describes %s, not %s", r.url, hashPart, n.StorePath, storePath)
	}
	return n, nil
}

// ReadFile reads the contents of a store path that is one file, at most
// limit bytes, checking its NAR against the narinfo's hash and size (not
// against any key). A compressed NAR is ErrUnsupported.
func (r *Reader) ReadFile(ctx context.Context, storePath string, limit int64) ([]byte, *NarInfo, error) {
	n, err := r.NarInfo(ctx, storePath)
	if err != nil {
		return nil, nil, err
	}
	if n.Compression != "none" {
		return nil, n, fmt.Errorf("the NAR of %s is compressed with %s, which is %w", storePath, n.Compression, ErrUnsupported)
	}
	if n.NarSize > uint64(limit)+4096 {
		return nil, n, fmt.Errorf("%s is larger than %d bytes", storePath, limit)
	}
	if strings.Contains(n.URL, "..") || strings.HasPrefix(n.URL, "/") {
		return nil, n, fmt.Errorf("the narinfo of %s names the NAR %q outside the cache", storePath, n.URL)
	}
	nar, err := r.get(ctx, n.URL, int64(n.NarSize))
	if err != nil {
		return nil, n, err
	}
	want, err := n.NarSHA256()
	if err != nil {
		return nil, n, err
	}
	if sum := sha256.Sum256(nar); uint64(len(nar)) != n.NarSize || !bytes.Equal(sum[:], want) {
		return nil, n, fmt.Errorf("the NAR of %s in %s does not have the hash and size its narinfo gives", storePath, r.url)
	}
	contents, err := ReadFileNAR(nar)
	if err != nil {
		return nil, n, fmt.Errorf("%s: %w", storePath, err)
	}
	return contents, n, nil
}
