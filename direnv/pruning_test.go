package direnv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Why every module was evaluated reaches the shell as MONOFLAKE_PRUNING_OFF,
// quoted like every value; nothing is exported when pruning is on.
func TestPruningOffMarker(t *testing.T) {
	tests := []struct {
		reason string
		want   string // "" when no line may mention it
	}{
		{"", ""},
		{"pruning is off for /r: the modules b needs gave $(x)", "export MONOFLAKE_PRUNING_OFF='pruning is off for /r: the modules b needs gave $(x)'\n"},
	}
	for _, tt := range tests {
		out := string(Render(Export{Component: "b", Shell: "b", PruningOff: tt.reason}))
		if tt.want == "" {
			require.NotContains(t, out, "MONOFLAKE_PRUNING_OFF")
			continue
		}
		require.Contains(t, out, tt.want)
	}
}
