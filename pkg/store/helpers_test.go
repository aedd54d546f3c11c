package store_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
)

func TestMicros(t *testing.T) {
	if store.Micros(time.Time{}) != 0 || !store.FromMicros(0).IsZero() {
		t.Fatal("the zero time is not stored as 0")
	}
	at := time.Date(2026, 11, 29, 12, 0, 0, 123456000, time.FixedZone("x", 3600))
	if got := store.FromMicros(store.Micros(at)); !got.Equal(at) || got.Location() != time.UTC {
		t.Fatalf("round trip: %v", got)
	}
}

func TestNotFoundFromNoRows(t *testing.T) {
	err := store.NotFound(sql.ErrNoRows, "THING_NOT_FOUND", "thing")
	if errs.KindOf(err) != errs.NotFound || errs.ReasonOf(err) != "THING_NOT_FOUND" {
		t.Fatalf("no rows: %v", err)
	}
}
