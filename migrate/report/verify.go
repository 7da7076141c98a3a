package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/composeopt/composeopt/migrate/verify"
)

// ReadVerify decodes a JSON array of verify results (verify.Result, the
// record `composeopt verify --json` writes, or its flat hand-written form).
func ReadVerify(r io.Reader) ([]verify.Result, error) {
	var out []verify.Result
	dec := json.NewDecoder(r)
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("verify results: %w", err)
	}
	for i, v := range out {
		if v.Service == "" {
			return nil, fmt.Errorf("verify results: element %d has no service", i)
		}
	}
	return out, nil
}

// ReadVerifyFile reads verify results from a file ("-" is standard input,
// passed as stdin).
func ReadVerifyFile(path string, stdin io.Reader) ([]verify.Result, error) {
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
