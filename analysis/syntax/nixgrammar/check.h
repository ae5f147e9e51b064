#ifndef MONOFLAKE_NIXGRAMMAR_CHECK_H
#define MONOFLAKE_NIXGRAMMAR_CHECK_H
#if !__has_include("src/parser.c")
#error "the Nix grammar is missing: run 'make grammar' first"
#endif
#endif
