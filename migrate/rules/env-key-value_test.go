package rules

import "testing"

func TestEnvKeyValue(t *testing.T) {
	runCases(t, EnvKeyValue, []ruleCase{
		{name: "legacy", in: "FROM alpine:3\nENV PORT 3000\n", want: "FROM alpine:3\nENV PORT=3000\n"},
		{name: "legacy with spaces", in: "FROM alpine:3\nENV GREETING hello world\n", want: "FROM alpine:3\nENV GREETING=\"hello world\"\n"},
		{name: "legacy with variable", in: "FROM alpine:3\nENV FLASK_ENV $APP_ENV\n", want: "FROM alpine:3\nENV FLASK_ENV=$APP_ENV\n"},
		{name: "modern", in: "FROM alpine:3\nENV PORT=3000 HOST=0.0.0.0\n"},
		{name: "single modern", in: "FROM alpine:3\nENV PORT=3000\n"},
		{name: "lower case", in: "from alpine:3\nenv PORT 3000\n", want: "from alpine:3\nenv PORT=3000\n"},
	})
}
