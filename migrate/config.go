package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// ConfigName is the optional configuration file at the project root.
const ConfigName = ".composeopt.yaml"

// Config is the content of .composeopt.yaml. Command-line flags win over it.
type Config struct {
	// Skip lists rule IDs that must not run.
	Skip []string `yaml:"skip"`
	// UID is the id of the account created where an image has none.
	UID int `yaml:"uid"`
	// Healthcheck tunes the health-check rule.
	Healthcheck struct {
		Path        string `yaml:"path"`
		Interval    string `yaml:"interval"`
		Timeout     string `yaml:"timeout"`
		StartPeriod string `yaml:"start_period"`
		Retries     int    `yaml:"retries"`
	} `yaml:"healthcheck"`
}

// LoadConfig reads dir/.composeopt.yaml; a missing file is an empty config.
// Unknown keys are errors, reported with the file and line.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigName)
	data, err := safefs.ReadIn(safefs.Manifest, dir, ConfigName)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}
