// Package evalcache evaluates a component's devShell with nix and caches the
// resulting environment. It is the only package that runs nix.
package evalcache

import (
	"encoding/json"
	"fmt"
)

// VarType is the kind of a shell variable in a devShell environment, as
// `nix print-dev-env --json` names it.
type VarType string

// The variable kinds of `nix print-dev-env --json`.
const (
	Exported    VarType = "exported"
	Var         VarType = "var"
	Array       VarType = "array"
	Associative VarType = "associative"
)

// Variable is one shell variable of a devShell environment. Value holds
// exported and plain variables, Array indexed arrays and Assoc associative
// arrays. Values are Go strings holding the bytes nix printed.
type Variable struct {
	Type  VarType
	Value string
	Array []string
	Assoc map[string]string
}

// Environment is a devShell environment: what `nix print-dev-env --json`
// prints.
type Environment struct {
	Variables     map[string]Variable
	BashFunctions map[string]string
}

type rawEnvironment struct {
	Variables map[string]struct {
		Type  VarType         `json:"type"`
		Value json.RawMessage `json:"value"`
	} `json:"variables"`
	BashFunctions map[string]string `json:"bashFunctions"`
}

// ParseEnvironment reads the output of `nix print-dev-env --json`.
func ParseEnvironment(data []byte) (*Environment, error) {
	var raw rawEnvironment
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("read nix print-dev-env output: %w", err)
	}
	env := &Environment{Variables: make(map[string]Variable, len(raw.Variables)), BashFunctions: raw.BashFunctions}
	for name, v := range raw.Variables {
		out := Variable{Type: v.Type}
		var err error
		switch v.Type {
		case Exported, Var:
			err = json.Unmarshal(v.Value, &out.Value)
		case Array:
			err = json.Unmarshal(v.Value, &out.Array)
		case Associative:
			err = json.Unmarshal(v.Value, &out.Assoc)
		default:
			// Unknown kinds from newer nix are kept as their JSON text so
			// nothing is silently lost.
			out.Value = string(v.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("read variable %s of nix print-dev-env output: %w", name, err)
		}
		env.Variables[name] = out
	}
	return env, nil
}

// MarshalJSON writes the environment in the format of `nix print-dev-env
// --json`, so that ParseEnvironment reads it back unchanged.
func (e *Environment) MarshalJSON() ([]byte, error) {
	type variable struct {
		Type  VarType `json:"type"`
		Value any     `json:"value"`
	}
	out := struct {
		BashFunctions map[string]string   `json:"bashFunctions"`
		Variables     map[string]variable `json:"variables"`
	}{BashFunctions: e.BashFunctions, Variables: make(map[string]variable, len(e.Variables))}
	if out.BashFunctions == nil {
		out.BashFunctions = map[string]string{}
	}
	for name, v := range e.Variables {
		var value any = v.Value
		switch v.Type {
		case Array:
			value = v.Array
		case Associative:
			value = v.Assoc
		case Exported, Var:
		default:
			value = json.RawMessage(v.Value)
		}
		out.Variables[name] = variable{Type: v.Type, Value: value}
	}
	return json.Marshal(out)
}
