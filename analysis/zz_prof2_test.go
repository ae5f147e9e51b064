package analysis

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/monoflake/monoflake/analysis/indexcache"
)

func TestZZPhases(t *testing.T) {
	dir := os.Getenv("PROFDIR")
	if dir == "" {
		t.Skip()
	}
	st, _ := indexcache.Open(t.TempDir())
	LoadWith(context.Background(), dir, LoadOptions{Index: st})
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		root, _, _ := FindRoot(dir)
		paths, _, _ := listFiles(context.Background(), root)
		t1 := time.Now()
		known := readPack(st, root)
		t2 := time.Now()
		files, _, _, _ := indexFilesWith(context.Background(), paths, known)
		t3 := time.Now()
		s, _ := LoadWith(context.Background(), dir, LoadOptions{Index: st})
		t4 := time.Now()
		resolve(s)
		t5 := time.Now()
		t.Logf("list %v pack %v stat %v (%d) load %v resolve %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), len(files), t4.Sub(t3), t5.Sub(t4))
	}
}
