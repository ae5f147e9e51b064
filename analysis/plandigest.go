package analysis

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// PlanDigest digests what a plan of any component may depend on in one
// Nix file: its facts, leaving out where in the text they are, and leaving
// out the paths the file uses without importing them (a src, a patch, a
// readFile). Those feed diagnostics, document links and navigation only:
// the model's components, module lists and evaluated files, and a
// component's closure, follow imported paths alone. Two versions of a file
// with the same digest therefore give the same components, dependencies,
// closures and module lists, and so the same plans; what derives from the
// text itself (a flake.nix rewritten by PrunedFlake) or from the other
// paths (which diagnostics there are, and where) may differ. An edit inside
// a derivation's body, a comment, a reformatting or a new src keeps the
// digest. It reads and parses the file: this is the edge.
func PlanDigest(path string) (string, error) {
	src, err := readNixFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	parser := syntax.NewParser()
	defer parser.Close()
	f := indexFile(parser, path, src, true)
	if f.facts == nil {
		return "", fmt.Errorf("read %s: %w", path, f.Err)
	}
	return planDigest(f.facts)
}

// PlanDigest is the package function's digest of a file of the snapshot,
// from the facts the snapshot already holds (read from the persistent
// index or parsed when it was loaded): a caller digesting the files a plan
// was made from right after loading need not parse them again. ok is false
// for a file the snapshot holds no facts of.
func (s *Snapshot) PlanDigest(path string) (digest string, ok bool) {
	f := s.files[filepath.Clean(path)]
	if f == nil || f.facts == nil {
		return "", false
	}
	d, err := planDigest(f.facts)
	return d, err == nil
}

// planDigest hashes a copy of facts with every span set to zero and only
// the imported paths. The copy goes through gob, as facts kept in the
// persistent index did, so facts just parsed and facts read back from the
// index digest alike (gob leaves out empty slices and zero values). JSON
// then writes map keys in order, so equal facts give equal bytes.
func planDigest(fs *facts) (string, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(fs); err != nil {
		return "", fmt.Errorf("digest facts: %w", err)
	}
	var cp facts
	if err := gob.NewDecoder(&buf).Decode(&cp); err != nil {
		return "", fmt.Errorf("digest facts: %w", err)
	}
	cp.Paths = importedPaths(cp.Paths)
	zeroSpans(reflect.ValueOf(&cp))
	data, err := json.Marshal(&cp)
	if err != nil {
		return "", fmt.Errorf("digest facts: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// importedPaths are the paths a file imports, the only ones a plan can
// depend on (see PlanDigest).
func importedPaths(paths []pathFact) []pathFact {
	var out []pathFact
	for _, p := range paths {
		if p.Import {
			out = append(out, p)
		}
	}
	return out
}

var spanType = reflect.TypeOf(syntax.Span{})

// zeroSpans sets every syntax.Span reachable from v to zero, in place.
func zeroSpans(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if v.Kind() == reflect.Interface && e.Kind() != reflect.Pointer {
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			zeroSpans(c)
			if v.CanSet() {
				v.Set(c)
			}
			return
		}
		zeroSpans(e)
	case reflect.Struct:
		if v.Type() == spanType {
			if v.CanSet() {
				v.Set(reflect.Zero(spanType))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				zeroSpans(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			zeroSpans(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(v.MapIndex(k))
			zeroSpans(c)
			v.SetMapIndex(k, c)
		}
	}
}
