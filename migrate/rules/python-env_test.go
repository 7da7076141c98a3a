package rules

import (
	"testing"
)

func TestPythonEnvLint(t *testing.T) {
	applyGated(t, []*Rule{PythonEnv}, "FROM python:3.11-alpine\nARG APP_ENV=development\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nENV FLASK_ENV=$APP_ENV\nEXPOSE 5000\nCMD [\"python\", \"-m\", \"backend.app\"]\n", factsWith(nil))
}
