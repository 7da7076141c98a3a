// Package rules holds the optimizer's rules. A rule is data (Rule: a
// stable ID, a title, its documentation, the rules it runs after and the
// options it reads) plus a function that inspects one build's Dockerfile
// and the facts gathered about it (Pass.Facts for the build, Pass.Stage for
// one stage, computed once per parse), and records line edits and findings.
// Rules run one after another in the order All derives from After; the
// Dockerfile is re-parsed after every rule that changed it, so each rule
// sees the previous rules' output, and the list is run again until nothing
// changes.
//
// Each rule lives in the file named after its ID (<id>.go, with <id>_*.go
// parts for a large rule); helpers several rules need live in the facts and
// dockerfile packages, named after what they compute. README.md in this
// directory walks through adding a rule; docs/ holds a generated page per
// rule.
package rules

//go:generate go run ./internal/gendoc -docs docs -readme ../../README.md
