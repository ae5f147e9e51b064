// Compiles the fetched grammar's external scanner (see grammar.go).
#include "check.h"
#include "src/scanner.c"
