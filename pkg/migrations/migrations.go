// Package migrations is the platform's schema: tables every service with a
// database gets from pkg, applied by pkg/service before the service's own
// migrations and versioned in their own goose table (sotto_platform_version).
// A service never copies these into its own migrations.
package migrations

import "embed"

// VersionTable is the goose version table of the platform schema.
const VersionTable = "sotto_platform_version"

// FS holds sqlite/ and postgres/.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
