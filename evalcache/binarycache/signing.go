package binarycache

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Nix signs a narinfo's fingerprint with ed25519. Keys and signatures are
// written NAME:BASE64, where NAME says which key (such as
// "cache.example.org-1"): a public key is 32 bytes, a secret key the 64
// bytes of libsodium (seed, then public key), as Go's ed25519 keeps them.

// PublicKey is a key that may sign a cache's narinfos.
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

// SecretKey signs narinfos, as `nix-store --generate-binary-cache-key`
// writes it.
type SecretKey struct {
	Name string
	Key  ed25519.PrivateKey
}

// ErrUnsigned reports a narinfo that no trusted key signed.
var ErrUnsigned = errors.New("not signed by a trusted key")

// ParsePublicKey reads NAME:BASE64 of a public key.
func ParsePublicKey(s string) (PublicKey, error) {
	name, key, err := parseNamed(s, ed25519.PublicKeySize)
	if err != nil {
		return PublicKey{}, fmt.Errorf("public key: %w", err)
	}
	return PublicKey{Name: name, Key: ed25519.PublicKey(key)}, nil
}

// ParseSecretKey reads NAME:BASE64 of a secret key (the content of the file
// nix-store --generate-binary-cache-key writes).
func ParseSecretKey(s string) (SecretKey, error) {
	name, key, err := parseNamed(strings.TrimSpace(s), ed25519.PrivateKeySize)
	if err != nil {
		return SecretKey{}, fmt.Errorf("secret key: %w", err)
	}
	return SecretKey{Name: name, Key: ed25519.PrivateKey(key)}, nil
}

func parseNamed(s string, size int) (string, []byte, error) {
	name, b64, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return "", nil, errors.New("it is not NAME:BASE64")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(key) != size {
		return "", nil, fmt.Errorf("%s: %d bytes where %d are expected", name, len(key), size)
	}
	return name, key, nil
}

// String is the key as nix.conf's trusted-public-keys lists it.
func (k PublicKey) String() string {
	return k.Name + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

// Public is the key that checks this key's signatures.
func (k SecretKey) Public() PublicKey {
	return PublicKey{Name: k.Name, Key: k.Key.Public().(ed25519.PublicKey)}
}

// Sign adds the key's signature to the narinfo.
func (k SecretKey) Sign(n *NarInfo) error {
	fp, err := n.Fingerprint()
	if err != nil {
		return err
	}
	n.Sigs = append(n.Sigs, k.Name+":"+base64.StdEncoding.EncodeToString(ed25519.Sign(k.Key, []byte(fp))))
	return nil
}

// Verify checks that one of keys signed the narinfo as it is: an edited
// path, hash, size or reference list breaks every signature. The error
// wraps ErrUnsigned.
func (n *NarInfo) Verify(keys []PublicKey) error {
	fp, err := n.Fingerprint()
	if err != nil {
		return err
	}
	var names []string
	for _, sig := range n.Sigs {
		name, b64, ok := strings.Cut(sig, ":")
		if !ok {
			continue
		}
		names = append(names, name)
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, k := range keys {
			if k.Name == name && ed25519.Verify(k.Key, []byte(fp), raw) {
				return nil
			}
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%s carries no signature: %w", n.StorePath, ErrUnsigned)
	}
	return fmt.Errorf("%s is signed by %s, and no such signature checks out with the trusted keys: %w", n.StorePath, strings.Join(names, ", "), ErrUnsigned)
}
