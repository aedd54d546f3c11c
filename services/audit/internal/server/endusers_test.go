package server_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	auditserver "github.com/sottohq/sotto/services/audit/internal/server"
)

// reads calls every read of the log once (each must succeed on a log with
// one event and a checkpoint), by method name.
func reads(ctx context.Context, c auditv1.AuditServiceClient, eventID string) map[string]error {
	out := map[string]error{}
	_, out["GetEvent"] = c.GetEvent(ctx, &auditv1.GetEventRequest{EventId: eventID})
	_, out["ListEvents"] = c.ListEvents(ctx, &auditv1.ListEventsRequest{})
	_, out["ListEntries"] = c.ListEntries(ctx, &auditv1.ListEntriesRequest{})
	_, out["GetCheckpoint"] = c.GetCheckpoint(ctx, &auditv1.GetCheckpointRequest{})
	_, out["ListCheckpoints"] = c.ListCheckpoints(ctx, &auditv1.ListCheckpointsRequest{})
	_, out["GetInclusionProof"] = c.GetInclusionProof(ctx, &auditv1.GetInclusionProofRequest{EventId: eventID, TreeSize: 1})
	_, out["GetConsistencyProof"] = c.GetConsistencyProof(ctx, &auditv1.GetConsistencyProofRequest{FromSize: 1, ToSize: 1})
	return out
}

// TestReadsByCallingWorkload: the operator's CLI (`sotto audit verify`)
// reads the log with no person behind it, as any workload checks proofs;
// through the gateway, every read needs a privacy officer or an
// administrator at aal2 (the caller workload and the end user are two
// facts, and the gateway's word about the person is not taken: audit
// verifies the token itself).
func TestReadsByCallingWorkload(t *testing.T) {
	env := startAudit(t)
	ctx := context.Background()
	ev := validEvent()
	if _, err := env.client(t, "tokenvault", "").AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{ev}}); err != nil {
		t.Fatal(err)
	}
	cli := env.client(t, "sotto-cli", "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		cp, err := cli.GetCheckpoint(ctx, &auditv1.GetCheckpointRequest{})
		if err == nil && cp.GetCheckpoint().GetTreeSize() >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint covers the event: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for method, err := range reads(ctx, cli, ev.EventId) {
		if err != nil {
			t.Errorf("sotto-cli %s: %v", method, err)
		}
	}
	// Proofs and checkpoints are anyone's to check.
	tv := env.client(t, "tokenvault", "")
	if _, err := tv.GetInclusionProof(ctx, &auditv1.GetInclusionProofRequest{EventId: ev.EventId, TreeSize: 1}); err != nil {
		t.Errorf("a workload checks a proof: %v", err)
	}

	ppl := env.people
	staff := func(aal int, roles ...string) string {
		return ppl.token(t, person(accesstoken.KindStaff, "acc_"+strings.Join(roles, "_"), aal, 0, roles...))
	}
	officer := staff(2, accesstoken.RolePrivacyOfficer)
	parts := strings.Split(officer, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	for _, tc := range []struct {
		name   string
		token  string
		code   codes.Code
		reason string
	}{
		{"no person", "", codes.Unauthenticated, accesstoken.ReasonTokenMissing},
		{"tampered", tampered, codes.Unauthenticated, accesstoken.ReasonTokenInvalid},
		{"customer", ppl.token(t, person(accesstoken.KindCustomer, "acc_c", 2, 0)), codes.PermissionDenied, enduser.ReasonEndUserForbidden},
		{"support agent", staff(2, accesstoken.RoleSupportAgent), codes.PermissionDenied, enduser.ReasonEndUserForbidden},
		{"privacy officer at aal1", staff(1, accesstoken.RolePrivacyOfficer), codes.FailedPrecondition, enduser.ReasonStepUpRequired},
		{"privacy officer", officer, codes.OK, ""},
		{"admin", staff(2, accesstoken.RoleAdmin), codes.OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for method, err := range reads(ctx, env.client(t, "gateway", tc.token), ev.EventId) {
				if status.Code(err) != tc.code || reasonOf(err) != tc.reason {
					t.Errorf("gateway %s: %v; want %s %s", method, err, tc.code, tc.reason)
				}
			}
		})
	}
	// Integrators (the gRPC edge) follow checkpoints and proofs with the
	// audit.verify scope, and read no events.
	witness := ppl.token(t, accesstoken.Claims{Subject: "cli_w", Kind: accesstoken.KindClient, SessionID: "grant_w", Scope: auditserver.ScopeVerify})
	other := ppl.token(t, accesstoken.Claims{Subject: "cli_o", Kind: accesstoken.KindClient, SessionID: "grant_o", Scope: "tokenvault.tokenize"})
	hashesOnly := map[string]bool{"GetCheckpoint": true, "GetInclusionProof": true, "GetConsistencyProof": true}
	for method, err := range reads(ctx, env.client(t, "gateway", witness), ev.EventId) {
		if hashesOnly[method] != (err == nil) || err != nil && reasonOf(err) != enduser.ReasonEndUserForbidden {
			t.Errorf("integrator with audit.verify, %s: %v", method, err)
		}
	}
	for method, err := range reads(ctx, env.client(t, "gateway", other), ev.EventId) {
		if status.Code(err) != codes.PermissionDenied || reasonOf(err) != enduser.ReasonEndUserForbidden {
			t.Errorf("integrator without audit.verify, %s: %v", method, err)
		}
	}

	// The gateway records what it refuses with no person behind it.
	own := validEvent()
	own.Action = "gateway.operator_authenticate"
	if _, err := env.client(t, "gateway", "").AppendEvents(ctx, &auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{own}}); err != nil {
		t.Errorf("the gateway records a refusal: %v", err)
	}
}
