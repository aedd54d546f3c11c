package server_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/auditclient"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/pkg/servertest"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/tokenvault"
	"github.com/sottohq/sotto/services/tokenvault/internal/engine"
	"github.com/sottohq/sotto/services/tokenvault/internal/policy"
	tvserver "github.com/sottohq/sotto/services/tokenvault/internal/server"
	"github.com/sottohq/sotto/services/tokenvault/internal/storage"
	"github.com/sottohq/sotto/services/tokenvault/migrations"
)

// recorder stands in for the audit client (the real audit path is covered
// end to end in test/e2e): it refuses what the client refuses and keeps
// what it records.
type recorder struct {
	mu     sync.Mutex
	events []auditclient.Event
}

func (r *recorder) Record(_ context.Context, evs ...auditclient.Event) error {
	if err := auditclient.Validate(evs...); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// vault is the real tokenvault server and engine (local keyring, db) on a
// loopback mTLS socket, with the real interceptor chain and end-user
// authentication by tokens of a local identity key (see people).
type vault struct {
	pki    *servertest.PKI
	addr   string
	rec    *recorder
	db     *store.DB
	people *people
	eng    *engine.Engine
}

func newVault(t *testing.T, db *store.DB) *vault {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	km, err := keys.NewLocal(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(ctx, "tokenvault-kek", keys.TypeAES256GCM); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(tokenvault.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	eng := engine.New(storage.New(db), km, rec, auditclient.NewOutbox(db, nil, nil), pol, nil, engine.Options{Tenants: []string{"default", "othershop"}})
	done := make(chan struct{})
	go func() { eng.RunWriter(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	pki := servertest.NewPKI(t)
	ppl := newPeople(t, tvserver.EndUsers)
	srv := ppl.server(t, pki, "tokenvault", tvserver.Policy)
	tokenvaultv1.RegisterTokenVaultServiceServer(srv.GRPC(), tvserver.New(eng))
	privacyv1.RegisterPrivacyParticipantServiceServer(srv.GRPC(), tvserver.NewPrivacy(eng))
	ppl.checkMethods(t, srv)
	return &vault{pki: pki, addr: servertest.Start(t, srv), rec: rec, db: db, people: ppl, eng: eng}
}

// client connects as the workload name.
func (v *vault) client(t testing.TB, name string) tokenvaultv1.TokenVaultServiceClient {
	return tokenvaultv1.NewTokenVaultServiceClient(v.pki.Dial(t, name, "tokenvault", v.addr))
}

// startVault serves a vault and returns a client for consent, the workload
// that runs data-subject requests, and the audit recorder.
func startVault(t *testing.T, db *store.DB) (tokenvaultv1.TokenVaultServiceClient, *recorder) {
	t.Helper()
	v := newVault(t, db)
	return v.client(t, "consent"), v.rec
}

func tokenize(t *testing.T, c tokenvaultv1.TokenVaultServiceClient, tenant, subject string, values ...string) {
	t.Helper()
	req := &tokenvaultv1.TokenizeRequest{Tenant: tenant, Subject: subject, Scope: "conv_1"}
	for _, v := range values {
		req.Items = append(req.Items, &tokenvaultv1.TokenizeItem{Value: v, DataType: tokenvaultv1.DataType_DATA_TYPE_FREE_TEXT})
	}
	resp, err := c.Tokenize(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.GetResults() {
		if r.GetError() != nil {
			t.Fatalf("item %d: %v", i, r.GetError())
		}
	}
}

func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// TestExportPageTokensAreBoundToTheirQuery: an export pages on only through
// the request that started it (tenant, subject, request_id), on the vault
// that issued its token; a token for one subject's export is refused for
// another's before anything is decrypted or audited.
func TestExportPageTokensAreBoundToTheirQuery(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, rec := startVault(t, db)
		tokenize(t, c, "", "cus_alice", "note a1", "note a2", "note a3", "note a4", "note a5")
		tokenize(t, c, "", "cus_bob", "note b1", "note b2", "note b3")
		tokenize(t, c, "othershop", "cus_alice", "note o1", "note o2", "note o3")

		// Alice's export, two values a page, whatever page size comes next.
		export := func(page string) *tokenvaultv1.ExportSubjectRequest {
			return &tokenvaultv1.ExportSubjectRequest{Subject: "cus_alice", RequestId: "dsr_1", PageSize: 2, PageToken: page}
		}
		var values []string
		var first string
		for page, n := "", 0; ; n++ {
			resp, err := c.ExportSubject(ctx, export(page))
			if err != nil {
				t.Fatalf("page %d: %v", n, err)
			}
			for _, v := range resp.GetValues() {
				values = append(values, v.GetValue())
			}
			if len(resp.GetNextPageToken()) > pagetoken.MaxLen {
				t.Fatalf("page token of %d characters, over the API's %d", len(resp.GetNextPageToken()), pagetoken.MaxLen)
			}
			if page = resp.GetNextPageToken(); page == "" {
				break
			}
			if first == "" {
				first = page
			}
			if n > 5 {
				t.Fatal("the export does not end")
			}
		}
		if len(values) != 5 || first == "" {
			t.Fatalf("alice's export: %v, first page token %q", values, first)
		}
		for _, v := range values {
			if !strings.HasPrefix(v, "note a") {
				t.Fatalf("alice's export holds %q", v)
			}
		}

		// A token the client made itself: the cursor, the next value's token,
		// in the form this API used to accept.
		raw, err := c.ExportSubject(ctx, &tokenvaultv1.ExportSubjectRequest{Subject: "cus_alice", RequestId: "dsr_1", PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		forged := base64.RawURLEncoding.EncodeToString([]byte(raw.GetValues()[0].GetToken()))
		tampered := []byte(first)
		tampered[len(tampered)/2] ^= 1
		otherVault, otherRec := startVault(t, storetest.SQLite(t, migrations.FS))
		tokenize(t, otherVault, "", "cus_alice", "note z1")

		refused := []struct {
			name   string
			client tokenvaultv1.TokenVaultServiceClient
			rec    *recorder
			req    *tokenvaultv1.ExportSubjectRequest
		}{
			{"other subject", c, rec, &tokenvaultv1.ExportSubjectRequest{Subject: "cus_bob", RequestId: "dsr_1", PageSize: 2, PageToken: first}},
			{"other request", c, rec, &tokenvaultv1.ExportSubjectRequest{Subject: "cus_alice", RequestId: "dsr_2", PageSize: 2, PageToken: first}},
			{"other tenant", c, rec, &tokenvaultv1.ExportSubjectRequest{Tenant: "othershop", Subject: "cus_alice", RequestId: "dsr_1", PageSize: 2, PageToken: first}},
			{"tampered", c, rec, export(string(tampered))},
			{"made by the client", c, rec, export(forged)},
			{"other vault", otherVault, otherRec, export(first)},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				before := tc.rec.count()
				resp, err := tc.client.ExportSubject(ctx, tc.req)
				info := errorInfo(err)
				if status.Code(err) != codes.InvalidArgument || info == nil || info.GetReason() != pagetoken.ReasonInvalid || info.GetDomain() != "tokenvault.sotto.dev" {
					t.Fatalf("got %v (%v, error info %v), want InvalidArgument %s in tokenvault.sotto.dev", resp.GetValues(), err, info, pagetoken.ReasonInvalid)
				}
				if msg := status.Convert(err).Message(); strings.Contains(msg, "alice") || strings.Contains(msg, "bob") {
					t.Fatalf("error message names a subject: %q", msg)
				}
				if tc.rec.count() != before {
					t.Fatal("a refused page was audited as exported")
				}
			})
		}
	})
}
