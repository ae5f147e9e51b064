package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ConfigFile is the name of the optional repository configuration file at
// the repository root.
const ConfigFile = ".monoflake.json"

// Config is the repository's monoflake configuration:
//
//	{
//	  "disable": ["orphan-module"],          // diagnostic codes to silence
//	  "shells": {"analytics": "python"},     // devShell of a component
//	  "system": "x86_64-linux",              // system to evaluate for
//	  "cache": "https://cache.example.com"   // binary cache CI publishes environments to
//	}
type Config struct {
	Disable []string          `json:"disable,omitempty"`
	Shells  map[string]string `json:"shells,omitempty"`
	System  string            `json:"system,omitempty"`
	// Cache is the binary cache (any URL nix copies to: file://, https://,
	// s3://) where `monoflake publish` puts evaluated environments; a
	// local miss is answered from it when it has the environment.
	Cache string `json:"cache,omitempty"`
}

// LoadConfig reads root's configuration file; a missing file is an empty
// configuration.
func LoadConfig(root string) (Config, error) {
	var c Config
	data, err := os.ReadFile(filepath.Join(root, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read %s: %w", ConfigFile, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", filepath.Join(root, ConfigFile), err)
	}
	return c, nil
}

func (c Config) disabled(code string) bool {
	for _, d := range c.Disable {
		if d == code {
			return true
		}
	}
	return false
}
