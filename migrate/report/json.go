package report

import (
	_ "embed"
	"encoding/json"
)

// PlanSchema is the JSON Schema (draft 2020-12) of the JSON document.
//
//go:embed plan.schema.json
var PlanSchema []byte

// JSON renders the document, indented, with a final newline.
func (d *Document) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
