package assistant

import (
	"context"
	"testing"

	"github.com/sottohq/sotto/services/conversation/fixtures"
)

// TestEmbeddedDefaultShop: the fixtures embedded for `make run` load, and
// a customer of the default shop ("" or "default") gets answers from them.
func TestEmbeddedDefaultShop(t *testing.T) {
	f, err := Load(fixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuiltin(f, nil)
	demo := Caller{Kind: "customer", Subject: "cus_demo", AAL: 1, Linked: true}
	if got, want := b.Reply(context.Background(), Request{Caller: demo, Language: "en", Text: "where is my order 100234?"}).Text,
		"Order 100234 was shipped with DHL on 2026-11-27."; got != want {
		t.Errorf("demo's order: %q, want %q", got, want)
	}
	demo.Tenant = "default"
	if got, want := b.Reply(context.Background(), Request{Caller: demo, Language: "en", Text: "how much are the wool socks?"}).Text,
		"Wool Socks costs €15.00 and is in stock."; got != want {
		t.Errorf("product: %q, want %q", got, want)
	}
}
