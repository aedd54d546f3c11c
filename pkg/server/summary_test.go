package server

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// TestSummaryNamesTheFieldWhenThereIsOne: a violation of a field's rule
// reads "field: description"; one of a whole message's rule (no path)
// reads as its description alone, not ": description" (outside probe).
func TestSummaryNamesTheFieldWhenThereIsOne(t *testing.T) {
	for _, c := range []struct {
		fields []*errdetails.BadRequest_FieldViolation
		want   string
	}{
		{[]*errdetails.BadRequest_FieldViolation{{Field: "page_size", Description: "must be at most 100"}}, "page_size: must be at most 100"},
		{[]*errdetails.BadRequest_FieldViolation{{Description: "exactly one of text and sealed is required"}}, "exactly one of text and sealed is required"},
		{[]*errdetails.BadRequest_FieldViolation{{Field: "a", Description: "x"}, {Field: "b", Description: "y"}}, "a: x (and more)"},
		{nil, "validation failed"},
		{[]*errdetails.BadRequest_FieldViolation{{Reason: "string.max_len"}}, "violates string.max_len"},
		{[]*errdetails.BadRequest_FieldViolation{{Field: "x"}}, "x: validation failed"},
	} {
		if got := summary(c.fields); got != c.want {
			t.Errorf("summary = %q, want %q", got, c.want)
		}
	}
}
