package nixgrammar

import (
	"testing"
	"unsafe"
)

// The Go mirror of mf_node must have the C layout, or Flatten writes garbage.
func TestFlatNodeLayout(t *testing.T) {
	if got, want := unsafe.Sizeof(FlatNode{}), cNodeSize(); got != want {
		t.Fatalf("FlatNode is %d bytes, mf_node is %d", got, want)
	}
}
