// Flattening a tree in one cgo call: walking a tree node by node from Go
// costs several cgo calls per node, more than parsing itself; this loop
// copies what analysis needs into a caller-provided array instead.
#include "check.h"
#include "flatten.h"

int32_t mf_flatten(TSNode root, mf_node *out, int32_t cap) {
	if (cap <= 0) {
		return 0;
	}
	TSTreeCursor c = ts_tree_cursor_new(root);
	int32_t n = 0, cur = 0;
	for (;;) {
		TSNode node = ts_tree_cursor_current_node(&c);
		mf_node *m = &out[n];
		m->symbol = ts_node_symbol(node);
		m->field = ts_tree_cursor_current_field_id(&c);
		m->flags = (ts_node_is_named(node) ? MF_NAMED : 0) |
			(ts_node_is_missing(node) ? MF_MISSING : 0) |
			(ts_node_is_extra(node) ? MF_EXTRA : 0);
		m->start = ts_node_start_byte(node);
		m->end = ts_node_end_byte(node);
		m->parent = n == 0 ? -1 : (m->parent);
		cur = n++;
		if (n >= cap) {
			break;
		}
		if (ts_tree_cursor_goto_first_child(&c)) {
			out[n].parent = cur;
			continue;
		}
		int done = 0;
		while (!ts_tree_cursor_goto_next_sibling(&c)) {
			if (!ts_tree_cursor_goto_parent(&c)) {
				done = 1;
				break;
			}
			cur = out[cur].parent;
		}
		if (done) {
			break;
		}
		out[n].parent = out[cur].parent;
	}
	ts_tree_cursor_delete(&c);
	return n;
}
