package binarycache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// NarInfo is what a binary cache says about one store path: where its NAR
// is, the NAR's hash and size, its references and signatures. Only the
// path, the NAR's hash and size and the references are signed; the rest
// (URL, compression, file hash, deriver) a cache may change at will.
type NarInfo struct {
	StorePath   string
	URL         string
	Compression string
	FileHash    string
	FileSize    uint64
	NarHash     string // as the file wrote it; see NarSHA256
	NarSize     uint64
	References  []string // full store paths
	Deriver     string
	Sigs        []string
	CA          string
}

// ParseNarInfo reads a .narinfo file, which must name the path, its NAR and
// the NAR's hash and size.
func ParseNarInfo(data []byte) (*NarInfo, error) {
	n := &NarInfo{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			// "References:" with no reference has no space after the colon.
			key, value, ok = strings.Cut(sc.Text(), ":")
			if !ok || strings.TrimSpace(value) != "" {
				return nil, fmt.Errorf("narinfo line %q is not KEY: VALUE", sc.Text())
			}
		}
		var err error
		switch key {
		case "StorePath":
			n.StorePath = value
		case "URL":
			n.URL = value
		case "Compression":
			n.Compression = value
		case "FileHash":
			n.FileHash = value
		case "FileSize":
			n.FileSize, err = strconv.ParseUint(value, 10, 64)
		case "NarHash":
			n.NarHash = value
		case "NarSize":
			n.NarSize, err = strconv.ParseUint(value, 10, 64)
		case "References":
			for _, r := range strings.Fields(value) {
				n.References = append(n.References, StoreDir+"/"+r)
			}
		case "Deriver":
			if value != "unknown-deriver" {
				n.Deriver = value
			}
		case "Sig":
			n.Sigs = append(n.Sigs, value)
		case "CA":
			n.CA = value
		}
		if err != nil {
			return nil, fmt.Errorf("narinfo %s: %w", key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if _, _, err := ParseStorePath(n.StorePath); err != nil {
		return nil, fmt.Errorf("narinfo: %w", err)
	}
	if n.URL == "" || n.NarHash == "" || n.NarSize == 0 {
		return nil, fmt.Errorf("narinfo of %s lacks its NAR's URL, hash or size", n.StorePath)
	}
	if n.Compression == "" {
		n.Compression = "bzip2" // what Nix assumes of a narinfo that does not say
	}
	return n, nil
}

// NarSHA256 is the NAR's SHA-256, whichever of Nix's three notations the
// narinfo used (base-32, base-16 or SRI base-64).
func (n *NarInfo) NarSHA256() ([]byte, error) {
	return parseSHA256(n.NarHash)
}

func parseSHA256(s string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(s, "sha256-"); ok {
		h, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("hash %q is not an SRI SHA-256", s)
		}
		return h, nil
	}
	rest, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return nil, fmt.Errorf("hash %q is not a SHA-256", s)
	}
	if len(rest) == 2*sha256.Size {
		return hex.DecodeString(rest)
	}
	return DecodeBase32(rest, sha256.Size)
}

// Fingerprint is the text a signature of the narinfo covers:
// 1;PATH;sha256:NARHASH;NARSIZE;REF,REF,... with the hash in base-32 and
// the references sorted.
func (n *NarInfo) Fingerprint() (string, error) {
	h, err := n.NarSHA256()
	if err != nil {
		return "", err
	}
	return fingerprint(n.StorePath, h, n.NarSize, n.References), nil
}

func fingerprint(path string, narHash []byte, narSize uint64, refs []string) string {
	sorted := append([]string(nil), refs...)
	sort.Strings(sorted)
	return "1;" + path + ";sha256:" + Base32(narHash) + ";" + strconv.FormatUint(narSize, 10) + ";" + strings.Join(sorted, ",")
}

// Format writes the narinfo as Nix does.
func (n *NarInfo) Format() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "StorePath: %s\nURL: %s\nCompression: %s\n", n.StorePath, n.URL, n.Compression)
	if n.FileHash != "" {
		fmt.Fprintf(&b, "FileHash: %s\nFileSize: %d\n", n.FileHash, n.FileSize)
	}
	fmt.Fprintf(&b, "NarHash: %s\nNarSize: %d\n", n.NarHash, n.NarSize)
	refs := make([]string, len(n.References))
	for i, r := range n.References {
		refs[i] = strings.TrimPrefix(r, StoreDir+"/")
	}
	sort.Strings(refs)
	fmt.Fprintf(&b, "References: %s\n", strings.Join(refs, " "))
	if n.Deriver != "" {
		fmt.Fprintf(&b, "Deriver: %s\n", n.Deriver)
	}
	for _, s := range n.Sigs {
		fmt.Fprintf(&b, "Sig: %s\n", s)
	}
	if n.CA != "" {
		fmt.Fprintf(&b, "CA: %s\n", n.CA)
	}
	return []byte(b.String())
}

// FileNarInfo describes an object as an uncompressed entry of a cache: its
// NAR at nar/<hash>.nar. It carries no signature yet.
func FileNarInfo(o Object) (*NarInfo, []byte) {
	nar := FileNAR(o.Contents)
	sum := sha256.Sum256(nar)
	h := "sha256:" + Base32(sum[:])
	return &NarInfo{StorePath: o.Path, URL: "nar/" + Base32(sum[:]) + ".nar", Compression: "none", FileHash: h,
		FileSize: uint64(len(nar)), NarHash: h, NarSize: uint64(len(nar)), References: append([]string(nil), o.References...)}, nar
}
