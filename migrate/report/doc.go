// Package report renders a migration plan for people and for machines:
//
//   - Markdown, a pull-request description (title, summary, a table of the
//     services, the reason for every change, the items a person must
//     decide, and a checklist for the reviewer);
//   - a commit message with the same summary;
//   - JSON, a stable machine-readable form of the plan (schema_version 1,
//     described by the JSON Schema in plan.schema.json, see PlanSchema);
//   - the result of a CI check, as text or as SARIF 2.1.0.
//
// Everything is built from a migrate.Plan by New, which turns absolute
// paths into paths relative to the project directory. Free text that comes
// from the project (finding messages, skip reasons, warnings) passes through
// Redact, so a credential that slipped into a message is masked: rules
// report variable names, never values, and Redact is the second line of
// defence.
//
// # Verify results
//
// The pull-request table can show what building and running the images
// measured, with a Mermaid bar chart of the image sizes below it. The
// results are read (ReadVerify) from the JSON array `composeopt verify
// --json` writes: verify.Result, the one record type of a verification. A
// hand-written file may give just its flat summary fields:
//
//	[
//	  {
//	    "service": "stage-server",      // compose service name (required)
//	    "size_before": 452984832,       // image size in bytes, original Dockerfile
//	    "size_after": 181193932,        // image size in bytes, optimized Dockerfile
//	    "build_seconds_before": 200.4,  // wall-clock build time, original
//	    "build_seconds_after": 130.2,   // wall-clock build time, optimized
//	    "user": "1000 (node)",          // user the optimized container runs as ("", "0", "root" = root)
//	    "healthy": "healthy"            // or "unhealthy", "timeout", "exited", "none"; true, false, null also read
//	  }
//	]
//
// A zero or absent number means "not measured" and is shown as a dash.
// Unknown fields are ignored, so the writer may add more.
package report
