package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// TestRevealsAreBoundToTheirTenant: a reveal names the shop its caller
// works for, and a token of another shop is, to it, exactly an unknown
// token (no value, type or decision: no oracle of other shops' tokens),
// its refusal audited as TENANT_MISMATCH under the token's owner, without
// a value. So a confused deputy (conversation or crmsync handing over the
// wrong conversation's token) reveals nothing of another shop, whatever
// the workload's policy grants. A person relayed with the call must name
// their own shop (customers), or serve every shop (staff).
func TestRevealsAreBoundToTheirTenant(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		d := storeCustomers(t, v.client(t, "consent"))
		conv := v.client(t, "conversation")
		ctx := context.Background()
		const unknown = "tok_nm_doesnotexist"

		t.Run("detokenize", func(t *testing.T) {
			before := v.rec.count()
			resp, err := conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tenant: "othershop", Purpose: "order_support",
				Tokens: []string{d.aliceName, d.otherShopAlice, unknown}})
			if err != nil {
				t.Fatal(err)
			}
			rs := resp.GetResults()
			if len(rs) != 3 || rs[1].GetValue() != "Other Alice" || !rs[1].GetDecision().GetAllowed() {
				t.Fatalf("results %v; want the other shop's own token revealed", rs)
			}
			foreign, none := proto.Clone(rs[0]).(*tokenvaultv1.DetokenizeResult), proto.Clone(rs[2]).(*tokenvaultv1.DetokenizeResult)
			foreign.Token, none.Token = "", ""
			if !proto.Equal(foreign, none) || rs[0].GetError().GetReason() != "UNKNOWN_TOKEN" || rs[0].GetValue() != "" {
				t.Errorf("another shop's token: %v; want exactly the answer for an unknown token (%v)", rs[0], rs[2])
			}
			var refused int
			for _, ev := range v.rec.since(before) {
				if ev.ResourceID == d.aliceName {
					refused++
					if ev.Outcome != auditclient.Denied || ev.Reason != "TENANT_MISMATCH" || ev.Subject != "acc_alice" || ev.Purpose != "order_support" {
						t.Errorf("refusal recorded as %+v; want denied TENANT_MISMATCH under its owner", ev)
					}
				}
			}
			if refused != 1 {
				t.Errorf("%d audit events for the other shop's token; want its refusal recorded once", refused)
			}
			// Empty is the default shop: the other shop's token is unknown there.
			resp, err = conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Purpose: "order_support", Tokens: []string{d.otherShopAlice, d.aliceName}})
			if err != nil || resp.GetResults()[0].GetError().GetReason() != "UNKNOWN_TOKEN" || resp.GetResults()[1].GetValue() != "Alice Example" {
				t.Errorf("default shop: %v, %v; want the other shop's token unknown and its own revealed", resp, err)
			}
		})

		t.Run("masked views", func(t *testing.T) {
			before := len(outboxEvents(t, db, engine.ActionRevealMasked))
			resp, err := conv.RevealMasked(ctx, &tokenvaultv1.RevealMaskedRequest{Tenant: "othershop", Tokens: []string{d.aliceCard, d.otherShopAlice, unknown}})
			if err != nil {
				t.Fatal(err)
			}
			rs := resp.GetResults()
			if len(rs) != 3 || rs[1].GetMasked() == "" {
				t.Fatalf("results %v; want the other shop's own token masked", rs)
			}
			foreign, none := proto.Clone(rs[0]).(*tokenvaultv1.MaskedResult), proto.Clone(rs[2]).(*tokenvaultv1.MaskedResult)
			foreign.Token, none.Token = "", ""
			if !proto.Equal(foreign, none) || rs[0].GetError().GetReason() != "UNKNOWN_TOKEN" {
				t.Errorf("another shop's token: %v; want exactly the answer for an unknown token (%v)", rs[0], rs[2])
			}
			var refused int
			for _, ev := range outboxEvents(t, db, engine.ActionRevealMasked)[before:] {
				if ev.GetResourceId() == d.aliceCard {
					refused++
					if ev.GetOutcome() != auditv1.Outcome_OUTCOME_DENIED || ev.GetReason() != "TENANT_MISMATCH" {
						t.Errorf("refusal recorded as %v; want denied TENANT_MISMATCH", ev)
					}
				}
			}
			if refused != 1 {
				t.Errorf("%d audit events for the other shop's token; want its refusal recorded once", refused)
			}
		})

		t.Run("metadata", func(t *testing.T) {
			c := v.client(t, "consent")
			_, err := c.GetTokenMetadata(ctx, &tokenvaultv1.GetTokenMetadataRequest{Token: d.aliceName, Tenant: "othershop"})
			wantCode(t, err, codes.NotFound, "UNKNOWN_TOKEN")
			if m, err := c.GetTokenMetadata(ctx, &tokenvaultv1.GetTokenMetadataRequest{Token: d.aliceName}); err != nil || m.GetTenant() != "default" {
				t.Errorf("own shop's token: %v, %v", m, err)
			}
		})

		t.Run("a shop the vault does not serve", func(t *testing.T) {
			_, err := conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tenant: "nosuchshop", Purpose: "order_support", Tokens: []string{d.aliceName}})
			wantCode(t, err, codes.NotFound, "UNKNOWN_TENANT")
		})

		t.Run("a relayed person works in their own shop", func(t *testing.T) {
			alice := v.people.token(t, person(accesstoken.KindCustomer, "acc_alice", 1, time.Minute))
			_, err := conv.Detokenize(as(alice), &tokenvaultv1.DetokenizeRequest{Tenant: "othershop", Purpose: "self_service", Tokens: []string{d.otherShopAlice}})
			wantCode(t, err, codes.PermissionDenied, "TENANT_MISMATCH")
			_, err = conv.RevealMasked(as(alice), &tokenvaultv1.RevealMaskedRequest{Tenant: "othershop", Tokens: []string{d.otherShopAlice}})
			wantCode(t, err, codes.PermissionDenied, "TENANT_MISMATCH")

			other := person(accesstoken.KindCustomer, "acc_alice", 1, time.Minute)
			other.Tenant = "othershop"
			otherAlice := v.people.token(t, other)
			_, err = conv.Detokenize(as(otherAlice), &tokenvaultv1.DetokenizeRequest{Purpose: "self_service", Tokens: []string{d.aliceName}})
			wantCode(t, err, codes.PermissionDenied, "TENANT_MISMATCH")
			resp, err := conv.Detokenize(as(otherAlice), &tokenvaultv1.DetokenizeRequest{Tenant: "othershop", Purpose: "self_service", Tokens: []string{d.otherShopAlice, d.aliceName}})
			if err != nil || resp.GetResults()[0].GetValue() != "Other Alice" || resp.GetResults()[1].GetError().GetReason() != "UNKNOWN_TOKEN" {
				t.Errorf("the other shop's alice: %v, %v; want her own value and the default shop's alice unknown", resp, err)
			}

			// Staff serve every shop: an agent's masked view in the shop the
			// conversation is in.
			agent := v.people.token(t, person(accesstoken.KindStaff, "acc_agent", 2, time.Minute, accesstoken.RoleSupportAgent))
			masked, err := conv.RevealMasked(as(agent), &tokenvaultv1.RevealMaskedRequest{Tenant: "othershop", Tokens: []string{d.otherShopAlice, d.aliceName}})
			if err != nil || masked.GetResults()[0].GetMasked() == "" || masked.GetResults()[1].GetError().GetReason() != "UNKNOWN_TOKEN" {
				t.Errorf("agent in the other shop: %v, %v", masked, err)
			}
		})
	})
}

// outboxEvents are the outbox's events of action, in order.
func outboxEvents(t *testing.T, db *store.DB, action auditclient.Action) []*auditv1.EventInput {
	t.Helper()
	rows, err := db.Query(`SELECT payload FROM audit_outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*auditv1.EventInput
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		in := &auditv1.EventInput{}
		if err := proto.Unmarshal(payload, in); err != nil {
			t.Fatal(err)
		}
		if in.GetAction() == string(action) {
			out = append(out, in)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
