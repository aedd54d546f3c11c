package dsr_test

import (
	"testing"

	"github.com/sottohq/sotto/services/consent/internal/dsr"
)

// TestDefuseCell: every cell a spreadsheet would read as a formula is
// prefixed with a quote (OWASP CSV injection), including after leading
// blanks or a line break; other cells are left as they are.
func TestDefuseCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":            "'=1+1",
		"+49 30 1234567":  "'+49 30 1234567",
		"-2":              "'-2",
		"@SUM(A1)":        "'@SUM(A1)",
		"\t=cmd":          "'\t=cmd",
		"\r=cmd":          "'\r=cmd",
		"\n=cmd":          "'\n=cmd",
		"  =HYPERLINK(1)": "'  =HYPERLINK(1)",
		"\u00a0+1":        "'\u00a0+1",
		"plain":           "plain",
		"a=b":             "a=b",
		"  spaces only":   "  spaces only",
		"":                "",
	} {
		if got := dsr.DefuseCell(in); got != want {
			t.Errorf("DefuseCell(%q) = %q, want %q", in, got, want)
		}
	}
}
