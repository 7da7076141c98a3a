package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
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

// ValidatePlanJSON checks a JSON plan (as `plan --format json` prints it)
// against PlanSchema.
func ValidatePlanJSON(data []byte) error {
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(PlanSchema))
	if err != nil {
		return fmt.Errorf("plan.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("plan.schema.json", schema); err != nil {
		return fmt.Errorf("plan.schema.json: %w", err)
	}
	sch, err := c.Compile("plan.schema.json")
	if err != nil {
		return fmt.Errorf("plan.schema.json: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("does not match plan.schema.json: %w", err)
	}
	return nil
}
