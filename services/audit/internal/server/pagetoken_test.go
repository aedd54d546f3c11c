package server_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
	"github.com/sottohq/sotto/services/audit/internal/storage"
	"github.com/sottohq/sotto/services/audit/migrations"
)

// TestPageTokensAreBoundToTheirQuery: a token pages on only through the
// query that produced it, on the service that issued it.
func TestPageTokensAreBoundToTheirQuery(t *testing.T) {
	env := startAudit(t)
	pki, addr := env.pki, env.addr
	ctx := context.Background()
	tv := auditv1.NewAuditServiceClient(pki.Dial(t, "tokenvault", "audit", addr))
	req := &auditv1.AppendEventsRequest{}
	for _, subject := range []string{"cus_alice", "cus_bob", "cus_alice", "cus_bob", "cus_alice"} {
		ev := validEvent()
		ev.Subject = subject
		req.Events = append(req.Events, ev)
	}
	if _, err := tv.AppendEvents(ctx, req); err != nil {
		t.Fatal(err)
	}
	gw := env.officer(t)
	first, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "cus_alice", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Events) != 1 || first.Events[0].EventId != req.Events[0].EventId || first.NextPageToken == "" {
		t.Fatalf("first page of alice's events: %v, next %q", first.Events, first.NextPageToken)
	}

	// The same query goes on, whatever page size it asks for now.
	rest, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "cus_alice", PageSize: 10, PageToken: first.NextPageToken})
	if err != nil {
		t.Fatalf("next page of the same query: %v", err)
	}
	if len(rest.Events) != 2 || rest.Events[0].EventId != req.Events[2].EventId || rest.Events[1].EventId != req.Events[4].EventId {
		t.Fatalf("rest of alice's events: %v", rest.Events)
	}

	unfiltered, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Another audit service: its own database, hence its own key.
	otherEnv := startAudit(t)
	other := otherEnv.officer(t)
	refused := map[string]func() error{
		"other subject": func() error {
			_, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "cus_bob", PageSize: 1, PageToken: first.NextPageToken})
			return err
		},
		"filter dropped": func() error {
			_, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{PageSize: 1, PageToken: first.NextPageToken})
			return err
		},
		"filter added": func() error {
			_, err := gw.ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "cus_alice", Action: "tokenvault.detokenize", PageToken: first.NextPageToken})
			return err
		},
		"other List RPC": func() error {
			_, err := gw.ListCheckpoints(ctx, &auditv1.ListCheckpointsRequest{PageToken: unfiltered.NextPageToken})
			return err
		},
		"other service's key": func() error {
			_, err := other.ListEvents(ctx, &auditv1.ListEventsRequest{Subject: "cus_alice", PageToken: first.NextPageToken})
			return err
		},
	}
	for name, call := range refused {
		t.Run(name, func(t *testing.T) {
			err := call()
			if status.Code(err) != codes.InvalidArgument || reasonOf(err) != "INVALID_PAGE_TOKEN" {
				t.Fatalf("got %v, want InvalidArgument INVALID_PAGE_TOKEN", err)
			}
			if msg := status.Convert(err).Message(); strings.Contains(msg, "alice") || strings.Contains(msg, "bob") {
				t.Fatalf("error message names a subject: %q", msg)
			}
		})
	}
}

// TestPageTokenKeyIsSharedByReplicas: replicas (and restarts) over one
// database and key manager derive the same page token key, so a client can
// page on wherever the load balancer sends it; another database gives
// another key.
func TestPageTokenKeyIsSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	replica := func(st *storage.Store, km keys.KeyManager) []byte {
		t.Helper()
		h, err := ledger.NewSubjectHasher(ctx, km, "audit-subject", st)
		if err != nil {
			t.Fatal(err)
		}
		k, err := h.PageTokenKey()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keyring := func() keys.KeyManager {
		km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := km.EnsureKey(ctx, "audit-subject", keys.TypeAES256GCM); err != nil {
			t.Fatal(err)
		}
		return km
	}
	km := keyring()
	st := storage.New(storetest.SQLite(t, migrations.FS))
	a, b := replica(st, km), replica(st, km)
	if !bytes.Equal(a, b) {
		t.Fatal("two replicas over one database derive different page token keys")
	}
	if len(a) != 32 {
		t.Fatalf("page token key is %d bytes", len(a))
	}
	if c := replica(storage.New(storetest.SQLite(t, migrations.FS)), keyring()); bytes.Equal(a, c) {
		t.Fatal("two separate audit logs derive the same page token key")
	}
}
