package binarycache

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Vectors from nix 2.8 itself: `nix hash to-base32` of sha256("hello\n"),
// and the path of `builtins.toFile "monoflake-test" "hello\n"`, a text
// object without references.
const (
	helloSHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	helloBase32 = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"
	helloText   = "/nix/store/mmb8ay84livdj96gb3cpy1s787nvnvbg-monoflake-test"
)

func TestBase32(t *testing.T) {
	raw, err := hex.DecodeString(helloSHA256)
	require.NoError(t, err)
	require.Equal(t, helloBase32, Base32(raw))
	back, err := DecodeBase32(helloBase32, sha256.Size)
	require.NoError(t, err)
	require.Equal(t, raw, back)

	bad := []struct{ name, s string }{
		{"a letter Nix leaves out", strings.Replace(helloBase32, "0", "e", 1)},
		{"too short", helloBase32[1:]},
		{"a digit past the last byte", "z" + helloBase32[1:]},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBase32(tc.s, sha256.Size)
			require.Error(t, err)
		})
	}
}

func TestStorePaths(t *testing.T) {
	raw, _ := hex.DecodeString(helloSHA256)
	var digest [sha256.Size]byte
	copy(digest[:], raw)
	p, err := makeStorePath("text", digest, "monoflake-test")
	require.NoError(t, err)
	require.Equal(t, helloText, p)

	out, err := OutputPath(digest, "monoflake-test")
	require.NoError(t, err)
	require.NotEqual(t, helloText, out, "the type is part of the path")
	hashPart, name, err := ParseStorePath(out)
	require.NoError(t, err)
	require.Len(t, hashPart, 32)
	require.Equal(t, "monoflake-test", name)

	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"monoflake-env-backend", true},
		{"a+b-c.d_e?f=g", true},
		{"", false},
		{".hidden", false},
		{"with space", false},
		{"slash/inside", false},
		{strings.Repeat("x", 212), false},
	} {
		require.Equal(t, tc.ok, CheckName(tc.name) == nil, "%q", tc.name)
	}
	require.Equal(t, "apps_web_", Name("apps/web:", 0))
	require.NoError(t, CheckName(Name("..ünïcode name/"+strings.Repeat("y", 300), 20)))
	require.Len(t, Name(strings.Repeat("y", 300), 20), 191)

	for _, bad := range []string{"/nix/store", "/var/lib/x-y", helloText + "/sub", "/nix/store/short-x", "/nix/store/" + strings.Repeat("e", 32) + "-x"} {
		_, _, err := ParseStorePath(bad)
		require.Error(t, err, bad)
	}
}

func TestFileNAR(t *testing.T) {
	for _, contents := range [][]byte{nil, []byte("x"), []byte("exactly8"), bytes.Repeat([]byte("ab"), 1000)} {
		nar := FileNAR(contents)
		require.Zero(t, len(nar)%8)
		back, err := ReadFileNAR(nar)
		require.NoError(t, err)
		require.Equal(t, string(contents), string(back))
	}
	nar := FileNAR([]byte("hello\n"))
	bad := []struct {
		name string
		nar  []byte
	}{
		{"cut short", nar[:len(nar)-8]},
		{"trailing bytes", append(append([]byte{}, nar...), make([]byte, 8)...)},
		{"not a NAR", []byte("nix-archive-1 but not really")},
		{"a folder", bytes.Replace(nar, []byte("regular\x00"), []byte("director"), 1)},
		{"padding that is not zero", func() []byte { b := append([]byte{}, nar...); b[len(b)-25] = 'x'; return b }()},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFileNAR(tc.nar)
			require.Error(t, err)
		})
	}
}

func testObject(t *testing.T, contents string, refs ...string) Object {
	t.Helper()
	p, err := OutputPath(sha256.Sum256([]byte(contents)), "monoflake-test")
	require.NoError(t, err)
	return Object{Path: p, Contents: []byte(contents), References: refs}
}

func TestNarInfoSignatures(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	key := SecretKey{Name: "test-1", Key: priv}
	require.Equal(t, PublicKey{Name: "test-1", Key: pub}, key.Public())
	parsedPub, err := ParsePublicKey(key.Public().String())
	require.NoError(t, err)
	other := testObject(t, "other")
	n, _ := FileNarInfo(testObject(t, "hello\n", other.Path))
	require.NoError(t, key.Sign(n))

	back, err := ParseNarInfo(n.Format())
	require.NoError(t, err)
	require.Equal(t, n, back)
	require.NoError(t, back.Verify([]PublicKey{parsedPub}))

	_, otherPriv, _ := ed25519.GenerateKey(nil)
	otherKey := SecretKey{Name: "test-1", Key: otherPriv}.Public()
	edits := []struct {
		name string
		edit func(n *NarInfo)
		keys []PublicKey
	}{
		{"another key of the same name", func(*NarInfo) {}, []PublicKey{otherKey}},
		{"no key", func(*NarInfo) {}, nil},
		{"an edited reference list", func(n *NarInfo) { n.References = nil }, []PublicKey{parsedPub}},
		{"an edited NAR hash", func(n *NarInfo) { n.NarHash = "sha256:" + helloBase32 }, []PublicKey{parsedPub}},
		{"an edited size", func(n *NarInfo) { n.NarSize++ }, []PublicKey{parsedPub}},
		{"no signature", func(n *NarInfo) { n.Sigs = nil }, []PublicKey{parsedPub}},
	}
	for _, tc := range edits {
		t.Run(tc.name, func(t *testing.T) {
			edited, err := ParseNarInfo(n.Format())
			require.NoError(t, err)
			tc.edit(edited)
			require.ErrorIs(t, edited.Verify(tc.keys), ErrUnsigned)
		})
	}
	unsigned := *n
	unsigned.URL, unsigned.Compression, unsigned.Deriver = "nar/elsewhere.nar.xz", "xz", "x.drv"
	require.NoError(t, unsigned.Verify([]PublicKey{parsedPub}), "what the signature does not cover may change")

	for _, bad := range []string{"nokey", "name:not base64!", "name:" + strings.Repeat("A", 8)} {
		_, err := ParsePublicKey(bad)
		require.Error(t, err, bad)
	}
}

func TestNarHashNotations(t *testing.T) {
	raw, _ := hex.DecodeString(helloSHA256)
	for _, s := range []string{"sha256:" + helloBase32, "sha256:" + helloSHA256, "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="} {
		h, err := parseSHA256(s)
		require.NoError(t, err, s)
		require.Equal(t, raw, h, s)
	}
	_, err := parseSHA256("md5:abc")
	require.Error(t, err)
}

// writeCache writes objects as an uncompressed cache folder.
func writeCache(t *testing.T, dir string, objects ...Object) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nar"), 0o755))
	for _, o := range objects {
		n, nar := FileNarInfo(o)
		hashPart, _, err := ParseStorePath(o.Path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, hashPart+".narinfo"), n.Format(), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(n.URL)), nar, 0o644))
	}
}

func TestReader(t *testing.T) {
	dir := t.TempDir()
	present := testObject(t, "present\n")
	absent := testObject(t, "absent\n")
	writeCache(t, dir, present)
	server := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer server.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer failing.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	ctx := context.Background()
	for _, url := range []string{"file://" + dir, server.URL + "?priority=30", server.URL + "/"} {
		r, err := NewReader(url, server.Client())
		require.NoError(t, err, url)
		contents, n, err := r.ReadFile(ctx, present.Path, 1<<20)
		require.NoError(t, err, url)
		require.Equal(t, "present\n", string(contents))
		require.Equal(t, present.Path, n.StorePath)
		_, err = r.NarInfo(ctx, absent.Path)
		require.ErrorIs(t, err, ErrNotFound, url)
	}
	for _, url := range []string{failing.URL, downURL} {
		r, err := NewReader(url, http.DefaultClient)
		require.NoError(t, err)
		_, err = r.NarInfo(ctx, present.Path)
		require.Error(t, err)
		require.False(t, errors.Is(err, ErrNotFound), "a cache that fails is not a cache without the path: %v", err)
	}
	for _, url := range []string{"s3://bucket", "ssh://host", "file://relative/x"} {
		_, err := NewReader(url, nil)
		require.Error(t, err, url)
	}
	_, err := NewReader("s3://bucket?region=x", nil)
	require.ErrorIs(t, err, ErrUnsupported)
}

// The reader checks what it reads against the narinfo, so a NAR that was
// changed, or a narinfo that describes another path, is an error and not
// content.
func TestReaderRefusesWhatDoesNotMatch(t *testing.T) {
	obj := testObject(t, "contents\n")
	hashPart, _, _ := ParseStorePath(obj.Path)
	n, _ := FileNarInfo(obj)
	cases := []struct {
		name   string
		damage func(dir string)
	}{
		{"a corrupted NAR", func(dir string) {
			p := filepath.Join(dir, filepath.FromSlash(n.URL))
			data, _ := os.ReadFile(p)
			data[len(data)-20] ^= 1
			require.NoError(t, os.WriteFile(p, data, 0o644))
		}},
		{"a NAR cut short", func(dir string) {
			p := filepath.Join(dir, filepath.FromSlash(n.URL))
			data, _ := os.ReadFile(p)
			require.NoError(t, os.WriteFile(p, data[:len(data)-8], 0o644))
		}},
		{"a narinfo of another path", func(dir string) {
			other := testObject(t, "other\n")
			on, _ := FileNarInfo(other)
			require.NoError(t, os.WriteFile(filepath.Join(dir, hashPart+".narinfo"), on.Format(), 0o644))
		}},
		{"a compressed NAR", func(dir string) {
			xz := *n
			xz.Compression = "xz"
			require.NoError(t, os.WriteFile(filepath.Join(dir, hashPart+".narinfo"), xz.Format(), 0o644))
		}},
		{"a NAR outside the cache", func(dir string) {
			out := *n
			out.URL = "../../etc/passwd"
			require.NoError(t, os.WriteFile(filepath.Join(dir, hashPart+".narinfo"), out.Format(), 0o644))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCache(t, dir, obj)
			tc.damage(dir)
			r, err := NewReader("file://"+dir, nil)
			require.NoError(t, err)
			_, _, err = r.ReadFile(context.Background(), obj.Path, 1<<20)
			require.Error(t, err)
		})
	}
}
