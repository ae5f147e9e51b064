package binarycache

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/stretchr/testify/require"
)

// These tests hold the formats against the real nix: what this package
// writes, nix imports and substitutes; what nix writes, this package reads
// and verifies. Every nix here works on a store in a temporary folder.

// nixIn runs nix (or nix-store) on a private store and returns stdout.
func nixIn(t *testing.T, stdin []byte, tool string, args ...string) string {
	t.Helper()
	out, err := runNix(stdin, tool, args...)
	require.NoError(t, err, "%s %s: %s", tool, strings.Join(args, " "), out)
	return out
}

func runNix(stdin []byte, tool string, args ...string) (string, error) {
	cmd := exec.Command(tool, append([]string{"--extra-experimental-features", "nix-command"}, args...)...)
	cmd.Env = append(os.Environ(), "NIX_CONFIG="+evaltest.NixConfig)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// generateKey makes a signing key with nix and returns it with its public
// half as nix wrote them.
func generateKey(t *testing.T, name string) (SecretKey, string, string) {
	t.Helper()
	dir := t.TempDir()
	sec, pub := filepath.Join(dir, "key.sec"), filepath.Join(dir, "key.pub")
	nixIn(t, nil, "nix-store", "--generate-binary-cache-key", name, sec, pub)
	data, err := os.ReadFile(sec)
	require.NoError(t, err)
	key, err := ParseSecretKey(string(data))
	require.NoError(t, err)
	pubText, err := os.ReadFile(pub)
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(string(pubText)), key.Public().String(), "the public half Go derives is nix's")
	return key, sec, strings.TrimSpace(string(pubText))
}

func TestNixImportsTheExportStream(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	store := filepath.Join(t.TempDir(), "store")
	a := testObject(t, "a file without references\n")
	b := testObject(t, "names "+a.Path+"\n", a.Path)
	var stream bytes.Buffer
	require.NoError(t, WriteExport(&stream, []Object{a, b}))
	imported := nixIn(t, stream.Bytes(), "nix-store", "--store", store, "--import")
	require.Equal(t, []string{a.Path, b.Path}, strings.Fields(imported))

	var infos []struct {
		Path       string   `json:"path"`
		NarHash    string   `json:"narHash"`
		NarSize    uint64   `json:"narSize"`
		References []string `json:"references"`
	}
	require.NoError(t, json.Unmarshal([]byte(nixIn(t, nil, "nix", "path-info", "--store", store, "--json", b.Path)), &infos))
	require.Len(t, infos, 1)
	want, _ := FileNarInfo(b)
	sum, err := want.NarSHA256()
	require.NoError(t, err)
	require.Equal(t, "sha256-"+base64.StdEncoding.EncodeToString(sum), infos[0].NarHash, "nix hashed the NAR this package wrote the same way")
	require.Equal(t, want.NarSize, infos[0].NarSize)
	require.Equal(t, []string{a.Path}, infos[0].References)
	require.Equal(t, string(b.Contents), nixIn(t, nil, "nix", "store", "cat", "--store", store, b.Path))
}

// What nix copy signs, Verify accepts; what Sign signs, nix substitutes,
// and nix refuses it under another key.
func TestSignaturesAgreeWithNix(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	ctx := context.Background()
	key, secFile, pub := generateKey(t, "monoflake-test-1")
	public, err := ParsePublicKey(pub)
	require.NoError(t, err)

	// nix signs, Go verifies and reads.
	store := filepath.Join(t.TempDir(), "store")
	obj := testObject(t, "signed by nix\n")
	var stream bytes.Buffer
	require.NoError(t, WriteExport(&stream, []Object{obj}))
	nixIn(t, stream.Bytes(), "nix-store", "--store", store, "--import")
	byNix := t.TempDir()
	nixIn(t, nil, "nix", "copy", "--from", store, "--to", "file://"+byNix+"?compression=none&secret-key="+secFile, obj.Path)
	r, err := NewReader("file://"+byNix, nil)
	require.NoError(t, err)
	contents, n, err := r.ReadFile(ctx, obj.Path, 1<<20)
	require.NoError(t, err)
	require.Equal(t, obj.Contents, contents)
	require.NoError(t, n.Verify([]PublicKey{public}))
	_, _, otherPub := generateKey(t, "monoflake-test-1")
	otherPublic, _ := ParsePublicKey(otherPub)
	require.ErrorIs(t, n.Verify([]PublicKey{otherPublic}), ErrUnsigned)

	// Go signs, nix substitutes.
	byGo := t.TempDir()
	signed := testObject(t, "signed by Go\n")
	writeCache(t, byGo, signed)
	require.NoError(t, os.WriteFile(filepath.Join(byGo, "nix-cache-info"), []byte("StoreDir: /nix/store\n"), 0o644))
	hashPart, _, _ := ParseStorePath(signed.Path)
	info, err := os.ReadFile(filepath.Join(byGo, hashPart+".narinfo"))
	require.NoError(t, err)
	sn, err := ParseNarInfo(info)
	require.NoError(t, err)
	require.NoError(t, key.Sign(sn))
	require.NoError(t, os.WriteFile(filepath.Join(byGo, hashPart+".narinfo"), sn.Format(), 0o644))

	for _, tc := range []struct {
		name    string
		trusted string
		ok      bool
	}{
		{"trusted key", pub, true},
		{"another key", otherPub, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := filepath.Join(t.TempDir(), "store")
			out, err := runNix(nil, "nix-store", "--store", dev, "--option", "substituters", "file://"+byGo,
				"--option", "trusted-public-keys", tc.trusted, "-r", signed.Path)
			if !tc.ok {
				require.Error(t, err)
				require.Contains(t, out, "is not signed by any of the keys")
				return
			}
			require.NoError(t, err, out)
			require.Equal(t, string(signed.Contents), nixIn(t, nil, "nix", "store", "cat", "--store", dev, signed.Path))
		})
	}
}
