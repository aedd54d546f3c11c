package storage

import (
	"context"
	"strings"
	"testing"

	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/conversation/migrations"
)

// TestRecentSignalsReadsRanges: every message reads its scopes' recent and
// in-force signals; on SQLite each side of that read is a range of an
// index, not every signal a scope ever had (which grows without end for a
// busy address).
func TestRecentSignalsReadsRanges(t *testing.T) {
	s := New(storetest.SQLite(t, migrations.FS))
	rows, err := s.DB().QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+recentSignalsSQL(3), 1, 2, "a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	searches := 0
	for _, d := range plan {
		if strings.HasPrefix(d, "SCAN signals") {
			t.Errorf("the read scans the table: %q", d)
		}
		if strings.HasPrefix(d, "SEARCH signals") {
			searches++
			if !strings.Contains(d, "create_time>?") && !strings.Contains(d, "expire_time>?") {
				t.Errorf("a search of the scope's signals without a time bound: %q", d)
			}
		}
	}
	if searches == 0 {
		t.Errorf("no index search in the plan %q", plan)
	}
}
