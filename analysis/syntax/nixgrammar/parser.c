// Compiles the fetched grammar (see grammar.go); kept out of git.
#include "check.h"
#include "src/parser.c"
