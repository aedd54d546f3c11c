package engine_test

import (
	"context"
	"testing"
	"time"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	"github.com/sottohq/sotto/services/tokenvault/internal/tokens"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestPageTokensOutliveReplicasRestartsAndKEKEpochs: an export page token
// issued by one replica pages on at another, at a replica started after a
// KEK epoch rotated the KEK, rewrapped every key and retired the version
// the token's key was wrapped under; and it does not verify for another
// tenant.
func TestPageTokensOutliveReplicasRestartsAndKEKEpochs(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, time.Hour)
		f.tokenize(t, "cus_1", engine.Item{Value: "Jane Doe", Type: tokens.Name})
		// Another process over the same database and key backend, on the same
		// clock (page tokens expire by it).
		replica := func() *engine.Engine {
			pol, err := policy.Parse(tokenvault.DefaultPolicy)
			if err != nil {
				t.Fatal(err)
			}
			return engine.New(f.st, f.km, f.audit, auditclient.NewOutbox(db, nil, nil), pol, nil, engine.Options{
				Now: func() time.Time { return f.now }, Tenants: []string{"default", "othershop"},
			})
		}
		req := &tokenvaultv1.ExportSubjectRequest{Subject: "cus_1", RequestId: "dsr_1", PageSize: 1}
		cursor := "tok_after_this_one"
		issuer, err := f.eng.PageTokens(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := issuer.Encode(req, []byte(cursor))
		if err != nil {
			t.Fatal(err)
		}
		accepted := func(e *engine.Engine, tenant, when string) {
			t.Helper()
			pages, err := e.PageTokens(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pages.Decode(req, tok)
			if err != nil || string(got) != cursor {
				t.Fatalf("%s: cursor %q, %v; want %q", when, got, err, cursor)
			}
		}
		accepted(replica(), "", "at another replica")
		accepted(f.eng, "default", "for the tenant named")

		if _, err := f.eng.RotateKeys(ctx, conversation, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.KEKEpochOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if v := describe(t, f.km); v.Latest != 2 || v.MinDecryption != 2 {
			t.Fatalf("KEK versions after the epoch: latest %d, min decryption %d; want version 1 retired", v.Latest, v.MinDecryption)
		}
		accepted(replica(), "", "at a replica started after the KEK epoch")

		other, err := replica().PageTokens(ctx, "othershop")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Decode(req, tok); err == nil {
			t.Fatal("another tenant's key accepts the token")
		}
	})
}
