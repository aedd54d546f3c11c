package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

const conversationID = "spiffe://" + "sotto.test" + "/conversation"

// TestConversationRelaysPeople: conversation reads values back either on
// its own (the assistant's order support, under its workload rule) or for
// the person its RPC serves, whose access token it relays and tokenvault
// verifies itself (a bad token is refused, not ignored). A relayed person
// gets their own rules only: a customer their own values (another
// customer's tokens are unknown to them, exactly as tokens that do not
// exist), a support agent masked views and, for delivery, an address or
// phone number within 15 minutes of a second factor; neither gets the
// workload's grant. Every decision is audited naming conversation and the
// person.
func TestConversationRelaysPeople(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		d := storeCustomers(t, v.client(t, "consent"))
		addr, err := v.client(t, "consent").Tokenize(context.Background(), &tokenvaultv1.TokenizeRequest{Subject: "acc_bob",
			Items: []*tokenvaultv1.TokenizeItem{{Value: "1 Canary Wharf, London E14 5AB", DataType: tokenvaultv1.DataType_DATA_TYPE_POSTAL_ADDRESS}}})
		if err != nil {
			t.Fatal(err)
		}
		bobAddress := addr.GetResults()[0].GetToken()
		conv := v.client(t, "conversation")
		ppl := v.people
		alice := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 1, time.Minute))
		aliceAAL2 := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 2, time.Minute))
		agent := ppl.token(t, person(accesstoken.KindStaff, "acc_agent", 2, time.Minute, accesstoken.RoleSupportAgent))
		staleAgent := ppl.token(t, person(accesstoken.KindStaff, "acc_agent", 2, 20*time.Minute, accesstoken.RoleSupportAgent))
		detok := func(ctx context.Context, purpose string, toks ...string) (*tokenvaultv1.DetokenizeResponse, error) {
			return conv.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: toks, Purpose: purpose})
		}

		t.Run("a relayed customer sees their own values", func(t *testing.T) {
			before := v.rec.count()
			resp, err := detok(as(alice), "self_service", d.aliceName, d.aliceEmail)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{"Alice Example", "alice@example.com"} {
				if r := resp.GetResults()[i]; r.GetValue() != want || r.GetDecision().GetRule() != "customer-own-details" {
					t.Errorf("value %d: %v; want %q by customer-own-details", i, r, want)
				}
			}
			for _, ev := range v.rec.since(before) {
				if ev.ActorSubject != "acc_alice" || ev.CallerWorkload != conversationID || ev.Outcome != auditclient.Success {
					t.Errorf("audit event %+v; want alice's reveal through conversation", ev)
				}
			}
			// Her card only after a step-up, which the call asks for.
			_, err = detok(as(alice), "self_service", d.aliceName, d.aliceCard)
			wantStepUp(t, err, "2", "300")
			resp, err = detok(as(aliceAAL2), "self_service", d.aliceCard)
			if err != nil || resp.GetResults()[0].GetValue() != "4242424242424242" {
				t.Fatalf("own card at a fresh aal2: %v, %v", resp, err)
			}
		})

		t.Run("another customer's tokens are unknown", func(t *testing.T) {
			resp, err := detok(as(aliceAAL2), "self_service", d.bobName, d.bobCard, d.otherShopAlice, "tok_nm_doesnotexist")
			if err != nil {
				t.Fatal(err)
			}
			unknown := resp.GetResults()[3]
			if unknown.GetError().GetReason() != "UNKNOWN_TOKEN" {
				t.Fatalf("a token that does not exist: %v", unknown)
			}
			for i, r := range resp.GetResults()[:3] {
				got := &tokenvaultv1.DetokenizeResult{Value: r.GetValue(), DataType: r.GetDataType(), Decision: r.GetDecision(), Error: r.GetError()}
				if !proto.Equal(got, &tokenvaultv1.DetokenizeResult{Error: unknown.GetError()}) {
					t.Errorf("someone else's token %d relayed for alice: %v; want it answered as unknown", i, r)
				}
			}
			masked, err := conv.RevealMasked(as(aliceAAL2), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard, d.aliceCard}})
			if err != nil {
				t.Fatal(err)
			}
			if r := masked.GetResults()[0]; r.GetMasked() != "" || r.GetError().GetReason() != "UNKNOWN_TOKEN" {
				t.Errorf("masked view of bob's card for alice: %v", r)
			}
			if r := masked.GetResults()[1]; !strings.HasSuffix(r.GetMasked(), "4242") {
				t.Errorf("masked view of her own card: %v", r)
			}
		})

		t.Run("a relayed token is verified", func(t *testing.T) {
			before := v.rec.count()
			parts := strings.Split(alice, ".")
			tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
			expired := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 1, 30*time.Minute), time.Now().Add(-20*time.Minute))
			for _, tc := range []struct{ tok, reason string }{
				{tampered, accesstoken.ReasonTokenInvalid},
				{expired, accesstoken.ReasonTokenExpired},
			} {
				_, err := detok(as(tc.tok), "order_support", d.aliceName)
				wantCode(t, err, codes.Unauthenticated, tc.reason)
				_, err = conv.RevealMasked(as(tc.tok), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.aliceName}})
				wantCode(t, err, codes.Unauthenticated, tc.reason)
			}
			if v.rec.count() != before {
				t.Error("a refused relayed token reached the engine")
			}
		})

		t.Run("conversation on its own keeps its workload rule", func(t *testing.T) {
			resp, err := detok(context.Background(), "order_support", d.aliceName, d.aliceCard)
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetResults()[0]; r.GetValue() != "Alice Example" || r.GetDecision().GetRule() != "conversation-order-support" {
				t.Errorf("order support, name: %v", r)
			}
			if r := resp.GetResults()[1]; r.GetValue() != "" || r.GetDecision().GetAllowed() {
				t.Errorf("order support, card: %v", r)
			}
			// And a relayed person does not get it.
			resp, err = detok(as(agent), "order_support", d.aliceName)
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetResults()[0]; r.GetValue() != "" || r.GetDecision().GetAllowed() {
				t.Errorf("order support for a relayed support agent: %v", r)
			}
		})

		t.Run("a relayed support agent", func(t *testing.T) {
			masked, err := conv.RevealMasked(as(agent), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard}})
			if err != nil || !strings.HasSuffix(masked.GetResults()[0].GetMasked(), "4444") {
				t.Fatalf("agent, masked card: %v, %v", masked, err)
			}
			resp, err := detok(as(agent), "delivery", bobAddress, d.bobName, d.bobCard)
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetResults()[0]; r.GetValue() != "1 Canary Wharf, London E14 5AB" || r.GetDecision().GetRule() != "support-agent-delivery" {
				t.Errorf("agent, delivery address: %v", r)
			}
			for _, r := range resp.GetResults()[1:] {
				if r.GetValue() != "" || r.GetDecision().GetAllowed() {
					t.Errorf("agent, not an address or phone: %v", r)
				}
			}
			_, err = detok(as(staleAgent), "delivery", bobAddress)
			wantStepUp(t, err, "2", "900")
			// Not through the gateway.
			resp, err = v.client(t, "gateway").Detokenize(as(agent), &tokenvaultv1.DetokenizeRequest{Tokens: []string{bobAddress}, Purpose: "delivery"})
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetResults()[0]; r.GetValue() != "" || r.GetDecision().GetAllowed() {
				t.Errorf("agent through the gateway, delivery address: %v", r)
			}
		})

		t.Run("another workload does not relay", func(t *testing.T) {
			// crmsync's calls are its own: alice's token is not read there.
			resp, err := v.client(t, "crmsync").Detokenize(as(aliceAAL2), &tokenvaultv1.DetokenizeRequest{Tokens: []string{d.aliceName}, Purpose: "self_service"})
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetResults()[0]; r.GetValue() != "" || r.GetDecision().GetAllowed() {
				t.Errorf("crmsync with alice's token: %v", r)
			}
		})
	})
}
