package syntax

import (
	"bytes"
	"testing"
	"time"
)

func TestSpeedProbe(t *testing.T) {
	src := append([]byte("{ "), append(bytes.Repeat([]byte("a = { b = \"x\"; c = [ 1 2 ]; }; "), 1<<20/30), '}')...)
	p := NewParser()
	for i := 0; i < 3; i++ {
		start := time.Now()
		ts := p.parse(src, nil)
		t.Logf("parse %v for %d bytes", time.Since(start), len(src))
		start = time.Now()
		p.convert(src, ts)
		t.Logf("convert %v", time.Since(start))
		ts.Close()
	}
}
