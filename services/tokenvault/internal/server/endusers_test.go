package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	tvserver "github.com/sottohq/sotto/services/tokenvault/internal/server"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

const gatewayID = "spiffe://" + "sotto.test" + "/gateway"

// customerData is what the tests store: two customers of the default shop,
// and alice's account id reused by another shop's customer.
type customerData struct {
	aliceName, aliceEmail, aliceCard, aliceNationalID, aliceShared string
	bobName, bobCard, bobShared                                    string
	otherShopAlice                                                 string
}

func storeCustomers(t *testing.T, c tokenvaultv1.TokenVaultServiceClient) customerData {
	t.Helper()
	put := func(tenant, subject string, items ...*tokenvaultv1.TokenizeItem) []string {
		t.Helper()
		resp, err := c.Tokenize(context.Background(), &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject, Items: items})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, r := range resp.GetResults() {
			if r.GetError() != nil {
				t.Fatalf("%s item %d: %v", subject, i, r.GetError())
			}
			out = append(out, r.GetToken())
		}
		return out
	}
	item := func(v string, dt tokenvaultv1.DataType, f tokenvaultv1.TokenFormat) *tokenvaultv1.TokenizeItem {
		return &tokenvaultv1.TokenizeItem{Value: v, DataType: dt, Format: f}
	}
	a := put("", "acc_alice",
		item("Alice Example", tokenvaultv1.DataType_DATA_TYPE_NAME, 0),
		item("alice@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, 0),
		item("4242 4242 4242 4242", tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER, tokenvaultv1.TokenFormat_TOKEN_FORMAT_CARD),
		item("123-45-6789", tokenvaultv1.DataType_DATA_TYPE_NATIONAL_ID, 0),
		item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
	b := put("", "acc_bob",
		item("Bob Example", tokenvaultv1.DataType_DATA_TYPE_NAME, 0),
		item("5555 5555 5555 4444", tokenvaultv1.DataType_DATA_TYPE_CARD_NUMBER, tokenvaultv1.TokenFormat_TOKEN_FORMAT_CARD),
		item("family@example.com", tokenvaultv1.DataType_DATA_TYPE_EMAIL, tokenvaultv1.TokenFormat_TOKEN_FORMAT_DETERMINISTIC))
	o := put("othershop", "acc_alice", item("Other Alice", tokenvaultv1.DataType_DATA_TYPE_NAME, 0))
	if a[4] != b[2] {
		t.Fatal("equal addresses of one shop must share a deterministic token")
	}
	return customerData{aliceName: a[0], aliceEmail: a[1], aliceCard: a[2], aliceNationalID: a[3], aliceShared: a[4],
		bobName: b[0], bobCard: b[1], bobShared: b[2], otherShopAlice: o[0]}
}

func wantCode(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	info := errorInfo(err)
	if status.Code(err) != code || info.GetReason() != reason {
		t.Fatalf("got %v (reason %q); want %s %s", err, info.GetReason(), code, reason)
	}
}

// wantStepUp: FailedPrecondition STEP_UP_REQUIRED with what to reach, as
// pkg/enduser reports it, so that a client can ask the person for it.
func wantStepUp(t *testing.T, err error, aal, maxAge string) {
	t.Helper()
	wantCode(t, err, codes.FailedPrecondition, enduser.ReasonStepUpRequired)
	md := errorInfo(err).GetMetadata()
	if md[enduser.MetadataRequiredAAL] != aal || md[enduser.MetadataMaxAgeSeconds] != maxAge {
		t.Fatalf("step-up metadata %v; want required_aal %s, max_age_seconds %s", md, aal, maxAge)
	}
}

func (r *recorder) since(n int) []auditclient.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]auditclient.Event(nil), r.events[n:]...)
}

// TestCustomersSeeTheirOwnData: through the gateway, a customer sees masked
// views of their own values, their details in full when signed in, and
// their card and national ID only within 5 minutes of a second factor;
// someone else's tokens are unknown to them. Every reveal and every refusal
// is audited, naming the gateway and the customer.
func TestCustomersSeeTheirOwnData(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		v := newVault(t, db)
		d := storeCustomers(t, v.client(t, "consent"))
		gw := v.client(t, "gateway")
		ppl := v.people
		aliceAAL1 := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 1, time.Minute))
		aliceAAL2 := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 2, time.Minute))
		aliceStale := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 2, 6*time.Minute))
		bob := ppl.token(t, person(accesstoken.KindCustomer, "acc_bob", 2, time.Minute))

		detok := func(tok, purpose string, toks ...string) (*tokenvaultv1.DetokenizeResponse, error) {
			return gw.Detokenize(as(tok), &tokenvaultv1.DetokenizeRequest{Tokens: toks, Purpose: purpose})
		}

		t.Run("masked by default", func(t *testing.T) {
			resp, err := gw.RevealMasked(as(aliceAAL1), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.aliceCard, d.aliceName, d.aliceShared}})
			if err != nil {
				t.Fatal(err)
			}
			card := resp.GetResults()[0]
			if card.GetError() != nil || !strings.HasSuffix(card.GetMasked(), "4242") || strings.Contains(card.GetMasked(), "4242 4242") {
				t.Fatalf("own card, masked: %v", card)
			}
			if resp.GetResults()[1].GetMasked() == "" || resp.GetResults()[2].GetMasked() == "" {
				t.Fatalf("own name and address, masked: %v", resp.GetResults())
			}
		})

		t.Run("details in full when signed in", func(t *testing.T) {
			before := v.rec.count()
			resp, err := detok(aliceAAL1, "self_service", d.aliceName, d.aliceEmail, d.aliceShared)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{"Alice Example", "alice@example.com", "family@example.com"} {
				if r := resp.GetResults()[i]; r.GetValue() != want || r.GetDecision().GetRule() != "customer-own-details" {
					t.Errorf("value %d: %v; want %q by customer-own-details", i, r, want)
				}
			}
			evs := v.rec.since(before)
			if len(evs) != 3 {
				t.Fatalf("%d audit events, want 3", len(evs))
			}
			for _, ev := range evs {
				if ev.ActorSubject != "acc_alice" || ev.CallerWorkload != gatewayID || ev.Subject != "acc_alice" ||
					ev.Outcome != auditclient.Success || ev.Purpose != "self_service" {
					t.Errorf("audit event %+v; want alice's own value, revealed to alice through the gateway", ev)
				}
			}
		})

		t.Run("card and national ID need a recent second factor", func(t *testing.T) {
			for name, tok := range map[string]string{"aal1": aliceAAL1, "aal2 six minutes ago": aliceStale} {
				t.Run(name, func(t *testing.T) {
					before := v.rec.count()
					resp, err := detok(tok, "self_service", d.aliceName, d.aliceCard, d.aliceNationalID)
					wantStepUp(t, err, "2", "300")
					if resp != nil {
						t.Fatalf("a step-up refusal returned values: %v", resp)
					}
					// The refusals are recorded; the name, allowed on its
					// own, was not revealed and is not recorded as revealed.
					evs := v.rec.since(before)
					if len(evs) != 2 {
						t.Fatalf("%d audit events, want the 2 refusals: %+v", len(evs), evs)
					}
					for _, ev := range evs {
						if ev.Outcome != auditclient.Denied || ev.Reason != enduser.ReasonStepUpRequired || ev.ActorSubject != "acc_alice" {
							t.Errorf("audit event %+v; want alice's refusal for a step-up", ev)
						}
					}
				})
			}
			resp, err := detok(aliceAAL2, "self_service", d.aliceCard, d.aliceNationalID)
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetResults()[0].GetValue() != "4242424242424242" || resp.GetResults()[1].GetValue() != "123456789" {
				t.Fatalf("fresh aal2, own card and national ID: %v", resp.GetResults())
			}
			if rule := resp.GetResults()[0].GetDecision().GetRule(); rule != "customer-own-sensitive" {
				t.Errorf("decided by %q", rule)
			}
		})

		t.Run("someone else's tokens are unknown", func(t *testing.T) {
			before := v.rec.count()
			resp, err := detok(aliceAAL2, "self_service", d.bobCard, d.bobName, d.otherShopAlice, "tok_nm_doesnotexist")
			if err != nil {
				t.Fatal(err)
			}
			unknown := resp.GetResults()[3]
			if unknown.GetError().GetReason() != "UNKNOWN_TOKEN" {
				t.Fatalf("a token that does not exist: %v", unknown)
			}
			for i, r := range resp.GetResults()[:3] {
				// Indistinguishable from a token that does not exist: no
				// value, no type, no decision, the same error.
				got := &tokenvaultv1.DetokenizeResult{Value: r.GetValue(), DataType: r.GetDataType(), Decision: r.GetDecision(), Error: r.GetError()}
				want := &tokenvaultv1.DetokenizeResult{Error: unknown.GetError()}
				if !proto.Equal(got, want) {
					t.Errorf("someone else's token %d: %v; want it answered as unknown", i, r)
				}
			}
			// The owners' audit trails show the attempt: bob's tokens are not
			// alice's, the other shop's alice is not of this reveal's shop.
			evs := v.rec.since(before)
			owners := map[string]int{}
			for _, ev := range evs {
				reason := "NOT_DATA_SUBJECT"
				if ev.Subject == "acc_alice" {
					reason = "TENANT_MISMATCH"
				}
				if ev.Outcome != auditclient.Denied || ev.Reason != reason || ev.ActorSubject != "acc_alice" {
					t.Errorf("audit event %+v; want a refusal naming alice", ev)
				}
				owners[ev.Subject]++
			}
			if owners["acc_bob"] != 2 || owners["acc_alice"] != 1 || len(evs) != 3 {
				t.Errorf("refusals recorded for %v; want bob's two and the other shop's alice", owners)
			}

			masked, err := gw.RevealMasked(as(aliceAAL2), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard, d.otherShopAlice, "tok_nm_doesnotexist"}})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range masked.GetResults() {
				if r.GetMasked() != "" || r.GetDataType() != 0 || r.GetError().GetReason() != "UNKNOWN_TOKEN" {
					t.Errorf("masked view of someone else's token %d: %v", i, r)
				}
			}
			// Bob sees his own row of the address he shares with alice.
			resp, err = detok(bob, "self_service", d.bobShared)
			if err != nil || resp.GetResults()[0].GetValue() != "family@example.com" {
				t.Fatalf("bob's shared address: %v, %v", resp, err)
			}
		})

		t.Run("another purpose is not self-service", func(t *testing.T) {
			resp, err := detok(aliceAAL2, "order_support", d.aliceName)
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetResults()[0]; r.GetValue() != "" || r.GetDecision().GetReason() != "PURPOSE_NOT_ALLOWED" {
				t.Fatalf("own name for order_support: %v", r)
			}
		})

		t.Run("a person does not inherit the workload's rights", func(t *testing.T) {
			// conversation relays alice's token (relay_test.go): tokenvault
			// reads it, and conversation's own order-support grant, a
			// workload rule, is not alice's.
			resp, err := v.client(t, "conversation").Detokenize(as(aliceAAL2), &tokenvaultv1.DetokenizeRequest{
				Tokens: []string{d.aliceCard, d.aliceName}, Purpose: "order_support"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.GetResults() {
				if r.GetValue() != "" || r.GetDecision().GetAllowed() {
					t.Errorf("conversation with alice's token: %v", r)
				}
			}
		})
	})
}

// TestStaffThroughTheGateway: staff get masked views with a second factor
// and no values (policy.yaml has no staff reveal); storing values through
// the edge is for administrators at aal2 and for integrators with the scope
// in their own shop, and records who did it.
func TestStaffThroughTheGateway(t *testing.T) {
	v := newVault(t, storetest.SQLite(t, migrations.FS))
	d := storeCustomers(t, v.client(t, "consent"))
	gw := v.client(t, "gateway")
	ppl := v.people
	agent := ppl.token(t, person(accesstoken.KindStaff, "acc_agent", 2, time.Hour, accesstoken.RoleSupportAgent))
	agentAAL1 := ppl.token(t, person(accesstoken.KindStaff, "acc_agent", 1, 0, accesstoken.RoleSupportAgent))
	admin := ppl.token(t, person(accesstoken.KindStaff, "acc_admin", 2, time.Hour, accesstoken.RoleAdmin))
	adminAAL1 := ppl.token(t, person(accesstoken.KindStaff, "acc_admin", 1, 0, accesstoken.RoleAdmin))
	roleless := ppl.token(t, person(accesstoken.KindStaff, "acc_new", 2, 0))
	customer := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 2, 0))

	masked, err := gw.RevealMasked(as(agent), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard, d.aliceName}})
	if err != nil {
		t.Fatal(err)
	}
	if r := masked.GetResults()[0]; r.GetError() != nil || !strings.HasSuffix(r.GetMasked(), "4444") {
		t.Fatalf("support agent, masked card: %v", r)
	}
	_, err = gw.RevealMasked(as(agentAAL1), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard}})
	wantStepUp(t, err, "2", "0")
	masked, err = gw.RevealMasked(as(roleless), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard}})
	if err != nil || masked.GetResults()[0].GetMasked() != "" || masked.GetResults()[0].GetError().GetReason() != "CALLER_NOT_ALLOWED" {
		t.Fatalf("staff without a role: %v, %v", masked, err)
	}

	for name, tok := range map[string]string{"support agent": agent, "admin": admin} {
		resp, err := gw.Detokenize(as(tok), &tokenvaultv1.DetokenizeRequest{Tokens: []string{d.bobCard, d.bobName}, Purpose: "self_service"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetResults() {
			// Staff are not customers: refused with the reason, not hidden.
			if r.GetValue() != "" || r.GetDecision().GetReason() != "CALLER_NOT_ALLOWED" {
				t.Errorf("%s detokenizes: %v", name, r)
			}
		}
	}

	tokenize := func(tok string) (*tokenvaultv1.TokenizeResponse, error) {
		return gw.Tokenize(as(tok), &tokenvaultv1.TokenizeRequest{Subject: "acc_carol", Items: []*tokenvaultv1.TokenizeItem{
			{Value: "Carol Example", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}})
	}
	_, err = tokenize(customer)
	wantCode(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)
	_, err = tokenize(agent)
	wantCode(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)
	_, err = tokenize(adminAAL1)
	wantStepUp(t, err, "2", "0")
	if _, err := tokenize(admin); err != nil {
		t.Fatalf("admin at aal2: %v", err)
	}
	outbox := outboxActors(t, v.db, "tokenvault.tokenize")
	if got := outbox[len(outbox)-1]; got != "acc_admin" {
		t.Errorf("tokenize through the gateway recorded actor %q; want the admin", got)
	}
	// Integrators (the gateway's gRPC edge): with the scope, in their own
	// shop only.
	integrator := func(tenant, scope string) string {
		return ppl.token(t, accesstoken.Claims{Subject: "cli_crm", Kind: accesstoken.KindClient, Tenant: tenant, SessionID: "grant_crm", Scope: scope})
	}
	store := func(tok, tenant string) error {
		_, err := gw.Tokenize(as(tok), &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: "acc_dave", Items: []*tokenvaultv1.TokenizeItem{
			{Value: "Dave Example", DataType: tokenvaultv1.DataType_DATA_TYPE_NAME}}})
		return err
	}
	if err := store(integrator("othershop", "crm.read "+tvserver.ScopeTokenize), "othershop"); err != nil {
		t.Errorf("integrator in its own shop: %v", err)
	}
	if err := store(integrator("", tvserver.ScopeTokenize), ""); err != nil {
		t.Errorf("integrator of the default shop: %v", err)
	}
	wantCode(t, store(integrator("othershop", tvserver.ScopeTokenize), ""), codes.PermissionDenied, "TENANT_MISMATCH")
	wantCode(t, store(integrator("", tvserver.ScopeTokenize), "othershop"), codes.PermissionDenied, "TENANT_MISMATCH")
	wantCode(t, store(integrator("othershop", "crm.read"), "othershop"), codes.PermissionDenied, enduser.ReasonEndUserForbidden)
	if err := store(admin, "othershop"); err != nil {
		t.Errorf("an administrator stores in any shop: %v", err)
	}
	if got := outboxActors(t, v.db, "tokenvault.tokenize"); got[len(got)-1] != "acc_admin" || !slices.Contains(got, "cli_crm") {
		t.Errorf("tokenize actors %v; want the integrator and the admin", got)
	}
	// Integrators reveal nothing through the gateway.
	_, err = gw.RevealMasked(as(integrator("", tvserver.ScopeTokenize)), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.bobCard}})
	wantCode(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)

	_, err = gw.GetTokenMetadata(as(agent), &tokenvaultv1.GetTokenMetadataRequest{Token: d.bobCard})
	wantCode(t, err, codes.PermissionDenied, enduser.ReasonEndUserForbidden)
	if _, err := gw.GetTokenMetadata(as(admin), &tokenvaultv1.GetTokenMetadataRequest{Token: d.bobCard}); err != nil {
		t.Errorf("admin reads token metadata: %v", err)
	}
}

// TestGatewayCallsNeedAValidToken: the gateway calls only for a person, so
// a call without a token, or with a token that is tampered with, unsigned,
// expired or revoked, is refused here even if the gateway let it through;
// the services that call on their own need none.
func TestGatewayCallsNeedAValidToken(t *testing.T) {
	v := newVault(t, storetest.SQLite(t, migrations.FS))
	d := storeCustomers(t, v.client(t, "consent"))
	gw := v.client(t, "gateway")
	ppl := v.people
	good := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 2, 0))

	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "acc_bob"
	forged, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
	noneHdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": accesstoken.KeyID(accesstoken.KeyName, 1)})
	algNone := base64.RawURLEncoding.EncodeToString(noneHdr) + "." + parts[1] + "."
	expired := ppl.token(t, person(accesstoken.KindCustomer, "acc_alice", 2, 10*time.Minute), time.Now().Add(-6*time.Minute))
	revokedClaims := person(accesstoken.KindCustomer, "acc_alice", 2, 0)
	revokedClaims.SessionID = "ses_revoked"
	revoked := ppl.token(t, revokedClaims)

	reveal := func(ctx context.Context) error {
		_, err := gw.Detokenize(ctx, &tokenvaultv1.DetokenizeRequest{Tokens: []string{d.aliceName}, Purpose: "self_service"})
		return err
	}
	if err := reveal(as(revoked)); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	ppl.feed.revoke("ses_revoked")
	deadline := time.Now().Add(10 * time.Second)
	for reveal(as(revoked)) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the revoked session was never refused")
		}
		time.Sleep(5 * time.Millisecond)
	}

	before := v.rec.count()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		reason string
	}{
		{"no token", context.Background(), accesstoken.ReasonTokenMissing},
		{"tampered", as(tampered), accesstoken.ReasonTokenInvalid},
		{"alg none", as(algNone), accesstoken.ReasonTokenInvalid},
		{"expired", as(expired), accesstoken.ReasonTokenExpired},
		{"revoked", as(revoked), accesstoken.ReasonTokenRevoked},
		{"not a bearer token", as("not a token at all"), accesstoken.ReasonTokenMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, reveal(tc.ctx), codes.Unauthenticated, tc.reason)
			_, err := gw.RevealMasked(tc.ctx, &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.aliceName}})
			wantCode(t, err, codes.Unauthenticated, tc.reason)
		})
	}
	if v.rec.count() != before {
		t.Error("a refused token reached the engine (it audited something)")
	}
	// The genuine token still works; consent, calling on its own, needs none.
	if err := reveal(as(good)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.client(t, "consent").RevealMasked(context.Background(), &tokenvaultv1.RevealMaskedRequest{Tokens: []string{d.aliceName}}); err != nil {
		t.Fatal(err)
	}
}

// outboxActors are the actor subjects of the outbox's events of action, in
// order.
func outboxActors(t *testing.T, db *store.DB, action string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT payload FROM audit_outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		in := &auditv1.EventInput{}
		if err := proto.Unmarshal(payload, in); err != nil {
			t.Fatal(err)
		}
		if in.GetAction() == action {
			out = append(out, in.GetActorSubject())
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
