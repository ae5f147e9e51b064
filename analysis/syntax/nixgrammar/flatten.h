#ifndef MONOFLAKE_FLATTEN_H
#define MONOFLAKE_FLATTEN_H
#include "check.h"
// Without the grammar, check.h has said what to do; stop there.
#if __has_include("tree_sitter/api.h")
#include <stdint.h>
#include "tree_sitter/api.h"

enum { MF_NAMED = 1, MF_MISSING = 2, MF_EXTRA = 4 };

// mf_node is one node of a tree in pre-order; parent is an index into the
// same array (-1 for the root).
typedef struct {
	uint32_t start;
	uint32_t end;
	int32_t parent;
	uint16_t symbol;
	uint16_t field;
	uint8_t flags;
} mf_node;

int32_t mf_flatten(TSNode root, mf_node *out, int32_t cap);
#endif
#endif
