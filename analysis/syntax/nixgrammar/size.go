package nixgrammar

// #include "flatten.h"
import "C"

import "unsafe"

func cNodeSize() uintptr { return unsafe.Sizeof(C.mf_node{}) }
