package verify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Result is the one record of a verification, in Go and in JSON: verify
// --json writes an array of them and plan --verify-json reads it back.
//
// Besides the nested fields, the JSON form carries flat summary fields,
// which is what a hand-written file may give instead:
//
//	size_before, size_after                  image sizes in bytes
//	build_seconds_before, build_seconds_after cold build times in seconds
//
// "healthy" is one of "healthy", "unhealthy", "timeout", "exited", "none"
// or "" (not run); when reading, true, false and null are accepted too
// (true is "healthy", false "unhealthy", null "none").

// recordSummary is the flat part of Result's JSON form.
type recordSummary struct {
	SizeBefore         int64   `json:"size_before"`
	SizeAfter          int64   `json:"size_after"`
	BuildSecondsBefore float64 `json:"build_seconds_before"`
	BuildSecondsAfter  float64 `json:"build_seconds_after"`
}

// MarshalJSON writes the result with its flat summary fields.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		recordSummary
	}{plain(r), recordSummary{
		SizeBefore:         r.Original.Size,
		SizeAfter:          r.Optimized.Size,
		BuildSecondsBefore: r.Original.ColdBuild.Seconds(),
		BuildSecondsAfter:  r.Optimized.ColdBuild.Seconds(),
	}})
}

// UnmarshalJSON reads what MarshalJSON writes, and also the flat form: a
// flat field fills the nested one it summarises when that one is absent.
func (r *Result) UnmarshalJSON(data []byte) error {
	type plain Result
	var raw struct {
		plain
		Healthy            json.RawMessage `json:"healthy"`
		SizeBefore         *int64          `json:"size_before"`
		SizeAfter          *int64          `json:"size_after"`
		BuildSecondsBefore *float64        `json:"build_seconds_before"`
		BuildSecondsAfter  *float64        `json:"build_seconds_after"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*r = Result(raw.plain)
	switch h := strings.TrimSpace(string(raw.Healthy)); h {
	case "", "null":
		r.Healthy = ""
		if len(raw.Healthy) > 0 {
			r.Healthy = "none"
		}
	case "true":
		r.Healthy = "healthy"
	case "false":
		r.Healthy = "unhealthy"
	default:
		var s string
		if err := json.Unmarshal(raw.Healthy, &s); err != nil {
			return fmt.Errorf("service %s: healthy: want a string, true, false or null, got %s", r.Service, h)
		}
		switch s {
		case "", "healthy", "unhealthy", "timeout", "starting", "exited", "none":
			r.Healthy = s
		default:
			return fmt.Errorf("service %s: healthy: unknown value %q", r.Service, s)
		}
	}
	flat := []struct {
		size *int64
		secs *float64
		ir   *ImageResult
	}{{raw.SizeBefore, raw.BuildSecondsBefore, &r.Original}, {raw.SizeAfter, raw.BuildSecondsAfter, &r.Optimized}}
	for _, f := range flat {
		if f.size != nil && f.ir.Size == 0 {
			f.ir.Size = *f.size
		}
		if f.secs != nil && f.ir.ColdBuild == 0 {
			f.ir.ColdBuild = time.Duration(*f.secs * float64(time.Second))
		}
		if f.ir.Size > 0 {
			f.ir.Built = true
		}
		if f.ir.Size < 0 || f.ir.ColdBuild < 0 {
			return fmt.Errorf("service %s: negative size or build time", r.Service)
		}
	}
	return nil
}

// HealthOK reports whether the health check passed: true for "healthy",
// false for a failed one, and ok=false when there was none or none ran.
func (r Result) HealthOK() (passed, ok bool) {
	switch r.Healthy {
	case "", "none":
		return false, false
	case "healthy":
		return true, true
	}
	return false, true
}
