package lsp

import (
	"github.com/monoflake/monoflake/analysis"
)

// Environment states beyond evalcache's: the server has not evaluated the
// component (evaluation is off, or the file belongs to no component).
const stateNone = "none"

// environmentState is the state of a component's devShell environment
// as the session knows it.
func (s *Server) environmentState(snap *analysis.Snapshot, component string) string {
	return stateNone
}
