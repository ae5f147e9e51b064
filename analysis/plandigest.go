package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// FactsDigest digests what the model reads in one Nix file, leaving out
// where in the text it says it. Two versions of a file with the same
// digest tell the model the same things (the same modules, imports,
// outputs, references and paths, the same errors), so everything the model
// derives from facts alone is the same for both, such as which files a
// component's evaluation needs; what derives from the text itself (a
// flake.nix rewritten by PrunedFlake, the positions of diagnostics) may
// differ. An edit inside a derivation's body, a comment or a reformatting
// keeps the digest. It reads and parses the file: this is the edge.
func FactsDigest(path string) (string, error) {
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
	return factsDigest(f.facts)
}

// factsDigest hashes facts with every span set to zero. JSON writes map
// keys in order, so equal facts give equal bytes; it sees the exported
// fields, which are all the persistent index keeps of facts too.
func factsDigest(fs *facts) (string, error) {
	zeroSpans(reflect.ValueOf(fs))
	data, err := json.Marshal(fs)
	if err != nil {
		return "", fmt.Errorf("digest facts: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
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
