package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// VerifyResult is what building and running one service's images measured
// (see the package documentation for the JSON form).
type VerifyResult struct {
	Service            string  `json:"service"`
	SizeBefore         int64   `json:"size_before,omitempty"`
	SizeAfter          int64   `json:"size_after,omitempty"`
	BuildSecondsBefore float64 `json:"build_seconds_before,omitempty"`
	BuildSecondsAfter  float64 `json:"build_seconds_after,omitempty"`
	// User is the user the optimized container runs as ("" or "root" = root).
	User string `json:"user,omitempty"`
	// Healthy is the health-check outcome; nil when there is none.
	Healthy *bool `json:"healthy,omitempty"`
}

// UnmarshalJSON accepts "healthy" as a boolean or null, and also as the
// strings "healthy", "unhealthy", "timeout", "starting" and "none" (or "").
func (v *VerifyResult) UnmarshalJSON(data []byte) error {
	type plain VerifyResult
	var raw struct {
		plain
		Healthy json.RawMessage `json:"healthy"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*v = VerifyResult(raw.plain)
	v.Healthy = nil
	h := strings.TrimSpace(string(raw.Healthy))
	switch h {
	case "", "null", `""`, `"none"`:
	case "true", `"healthy"`:
		t := true
		v.Healthy = &t
	case "false", `"unhealthy"`, `"timeout"`, `"starting"`:
		f := false
		v.Healthy = &f
	default:
		return fmt.Errorf("service %s: healthy: want true, false or null, got %s", v.Service, h)
	}
	return nil
}

// ReadVerify decodes a JSON array of verify results.
func ReadVerify(r io.Reader) ([]VerifyResult, error) {
	var out []VerifyResult
	dec := json.NewDecoder(r)
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("verify results: %w", err)
	}
	for i, v := range out {
		if v.Service == "" {
			return nil, fmt.Errorf("verify results: element %d has no service", i)
		}
		if v.SizeBefore < 0 || v.SizeAfter < 0 || v.BuildSecondsBefore < 0 || v.BuildSecondsAfter < 0 {
			return nil, fmt.Errorf("verify results: service %s: negative size or build time", v.Service)
		}
	}
	return out, nil
}

// ReadVerifyFile reads verify results from a file ("-" is standard input,
// passed as stdin).
func ReadVerifyFile(path string, stdin io.Reader) ([]VerifyResult, error) {
	if path == "-" {
		if stdin == nil {
			return nil, errors.New("verify results: no standard input")
		}
		return ReadVerify(stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading verify results: %w", err)
	}
	defer f.Close()
	res, err := ReadVerify(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}
