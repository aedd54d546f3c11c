// Package migrations embeds the crmsync service's schema, one goose
// directory per SQL dialect.
package migrations

import "embed"

// FS holds sqlite/ and postgres/.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
