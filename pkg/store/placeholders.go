package store

import (
	"fmt"
	"strings"
)

// Placeholders returns n bind parameters numbered from `from`, for
// statements with many rows (multi-row INSERTs, long IN lists). SQLite
// resolves "$N" names with a linear search per parameter, which makes a
// statement of a few thousand parameters quadratic (it dominated the audit
// log's append profile), so SQLite gets anonymous "?" parameters, bound in
// order; PostgreSQL gets "$N".
func (db *DB) Placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if db.Dialect == SQLite {
			b.WriteByte('?')
		} else {
			fmt.Fprintf(&b, "$%d", from+i)
		}
	}
	return b.String()
}
