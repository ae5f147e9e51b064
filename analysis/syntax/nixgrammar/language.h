#ifndef MONOFLAKE_NIXGRAMMAR_H
#define MONOFLAKE_NIXGRAMMAR_H
#include "check.h"
const void *tree_sitter_nix(void);
#endif
