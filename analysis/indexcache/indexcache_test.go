package indexcache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPutGet(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	key := Key("facts", "a.nix", "v1")
	_, ok := s.Get(key)
	require.False(t, ok, "nothing stored yet")
	require.NoError(t, s.Put(key, []byte("payload")))
	got, ok := s.Get(key)
	require.True(t, ok)
	require.Equal(t, "payload", string(got))
	require.NoError(t, s.Put(key, []byte("newer")))
	got, ok = s.Get(key)
	require.True(t, ok)
	require.Equal(t, "newer", string(got))
	// Keys of different parts never collide, however the parts split.
	require.NotEqual(t, Key("ab", "c"), Key("a", "bc"))
	// The hashed text is "LEN:PART;" per part, as indexes written before
	// expect.
	sum := sha256.Sum256([]byte("2:ab;1:c;0:;"))
	require.Equal(t, hex.EncodeToString(sum[:]), Key("ab", "c", ""))
}

// A damaged or foreign entry is a miss, never another answer.
func TestDamagedEntriesAreMisses(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	key, other := Key("one"), Key("two")
	require.NoError(t, s.Put(key, []byte("the payload of one")))
	require.NoError(t, s.Put(other, []byte("the payload of two")))
	good, err := os.ReadFile(s.PathOf(key))
	require.NoError(t, err)
	foreign, err := os.ReadFile(s.PathOf(other))
	require.NoError(t, err)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-2] ^= 0x20
	for name, data := range map[string][]byte{
		"empty":                      {},
		"cut short":                  good[:len(good)-3],
		"a byte flips":               flipped,
		"longer than its header":     append(append([]byte(nil), good...), 'x'),
		"an older format":            []byte("monoflake-index 1\n0 0\n"),
		"not an entry":               []byte("hello"),
		"another key's entry copied": foreign,
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(s.PathOf(key), data, 0o644))
			_, ok := s.Get(key)
			require.False(t, ok)
		})
	}
}

func TestTrim(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	payload := make([]byte, 1000)
	keys := []string{Key("oldest"), Key("old"), Key("new"), Key("newest")}
	for i, k := range keys {
		require.NoError(t, s.Put(k, payload))
		used := time.Now().Add(time.Duration(i-len(keys)) * time.Hour)
		require.NoError(t, os.Chtimes(s.PathOf(k), used, used))
	}
	stale := Key("unused for a month")
	require.NoError(t, s.Put(stale, payload))
	month := time.Now().Add(-30 * 24 * time.Hour)
	require.NoError(t, os.Chtimes(s.PathOf(stale), month, month))
	dead := filepath.Join(filepath.Dir(s.PathOf(keys[0])), ".tmp-dead")
	require.NoError(t, os.WriteFile(dead, payload, 0o644))
	require.NoError(t, os.Chtimes(dead, month, month))

	// Two entries and their headers fit in 2,500 bytes, three do not.
	require.NoError(t, s.Trim(7*24*time.Hour, 2500))
	for k, want := range map[string]bool{keys[0]: false, keys[1]: false, keys[2]: true, keys[3]: true, stale: false} {
		_, ok := s.Get(k)
		require.Equal(t, want, ok, k)
	}
	require.NoFileExists(t, dead, "a dead writer's temporary file goes")

	// TrimIfDue trims once a day.
	require.NoError(t, s.TrimIfDue(7*24*time.Hour, 0))
	_, ok := s.Get(keys[3])
	require.False(t, ok, "the first call trims")
	require.NoError(t, s.Put(keys[3], payload))
	require.NoError(t, s.TrimIfDue(7*24*time.Hour, 0))
	_, ok = s.Get(keys[3])
	require.True(t, ok, "a second call the same day does not")
}
