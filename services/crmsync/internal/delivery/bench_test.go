package delivery_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	tokenvaultv1 "github.com/sottohq/sotto/gen/go/sotto/tokenvault/v1"
	"github.com/sottohq/sotto/pkg/crmtest"
	"github.com/sottohq/sotto/pkg/egress"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/crmsync/internal/connector"
	"github.com/sottohq/sotto/services/crmsync/internal/delivery"
	"github.com/sottohq/sotto/services/crmsync/internal/mapping"
	"github.com/sottohq/sotto/services/crmsync/internal/storage"
	"github.com/sottohq/sotto/services/crmsync/migrations"
)

// seq numbers events and rows across runs (-count) on the same database.
var seq atomic.Int64

type secretMap map[string]map[string]string

func (m secretMap) Get(_ context.Context, path string) (map[string]string, error) {
	return m[path], nil
}

// token is a token vault token's shape (the values never matter here).
func token() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "tok_na_" + string(b)
}

type rig struct {
	db   *store.DB
	jobs *jobs.Runner
	svc  *delivery.Service
	api  *crmtest.HubSpot
	sf   *crmtest.Salesforce
	// batch is the largest batch the connector sends (0: its own).
	batch int
	// consent decides each (subject, purpose); nil allows everything.
	consent func(subject, purpose string) bool
}

// newRig is crmsync's delivery path on db: one HubSpot mapping (three
// token-form fields, a rate no benchmark reaches), consent always given,
// the local keyring, the HubSpot emulator behind pkg/egress.
func newRig(b testing.TB, db *store.DB) *rig { return newRigWith(b, db, "hubspot", 0) }

// newRigWith is newRig for connector ("hubspot" or "salesforce"), sending
// at most batch records a request (0: the connector's own batch size; 1:
// one record a request, as before batching).
func newRigWith(b testing.TB, db *store.DB, conn string, batch int) *rig {
	b.Helper()
	r := &rig{db: db, batch: batch}
	head, host, roots := "", "", (*x509.CertPool)(nil)
	if conn == "salesforce" {
		r.sf = crmtest.NewSalesforce(b, "cid", "csecret", "v62.0", "Contact", "Sotto_Subject__c")
		head = "salesforce: {url: '" + r.sf.URL() + "', api_version: v62.0, object: Contact, external_id_field: Sotto_Subject__c}\n"
		host, roots = r.sf.Host(), r.sf.RootCAs()
	} else {
		r.api = crmtest.NewHubSpot(b, "pat", "sotto_subject")
		host, roots = r.api.Host(), r.api.RootCAs()
	}
	m, err := mapping.Parse("shop", conn, []byte(head+`
rate: {per_second: 1000, burst: 10000}
fields:
  - {field: first_name, property: firstname, purpose: crm_sync}
  - {field: last_name, property: lastname, purpose: crm_sync}
  - {field: email, property: email, purpose: crm_sync}
`), mapping.Rules{})
	if err != nil {
		b.Fatal(err)
	}
	set, _ := mapping.Load(nil, mapping.Rules{})
	set.Add(m)
	km, err := keys.NewLocal(filepath.Join(b.TempDir(), "keyring.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := km.EnsureKey(context.Background(), "crmsync-queue", keys.TypeAES256GCM); err != nil {
		b.Fatal(err)
	}
	client, err := egress.New(egress.Config{AllowedHosts: []string{host}, AllowPrivateCIDRs: crmtest.Loopback(),
		RootCAs: roots, MaxRetries: -1}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	secrets := secretMap{"sotto/crm/shop/hubspot": {"private_app_token": "pat"},
		"sotto/crm/shop/salesforce": {"client_id": "cid", "client_secret": "csecret"}}
	var c connector.Connector
	if conn == "salesforce" {
		c = connector.NewSalesforce(connector.SalesforceConfig{URL: r.sf.URL(), APIVersion: "v62.0", Object: "Contact",
			ExternalIDField: "Sotto_Subject__c", Tenant: "shop"}, client, secrets, nil)
	} else {
		c = connector.NewHubSpot(connector.HubSpotConfig{BaseURL: r.api.URL(), IDProperty: "sotto_subject", Tenant: "shop"},
			client, secrets, nil)
	}
	if batch > 0 {
		c = limited{c, batch}
	}
	r.jobs, err = jobs.New(db, jobs.Config{PollInterval: 10 * time.Millisecond, Concurrency: 8, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	r.svc, err = delivery.New(delivery.Deps{Store: storage.New(db), Jobs: r.jobs, Keys: km, QueueKey: "crmsync-queue", Mappings: set,
		Consent: func(_ context.Context, subject, purpose string) (bool, error) {
			return r.consent == nil || r.consent(subject, purpose), nil
		},
		Connectors: func(string, string) (connector.Connector, error) { return c, nil }, Vault: sharedTokens{}})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// sharedTokens answers Record's check of the tokens' subject as for
// deterministic tokens (no subject): the rig's tokens are token form only,
// never resolved.
type sharedTokens struct{ delivery.Vault }

func (sharedTokens) GetTokenMetadata(context.Context, *tokenvaultv1.GetTokenMetadataRequest, ...grpc.CallOption) (*tokenvaultv1.GetTokenMetadataResponse, error) {
	return &tokenvaultv1.GetTokenMetadataResponse{}, nil
}

// limited sends at most n records a request.
type limited struct {
	connector.Connector
	n int
}

func (l limited) BatchSize() int { return l.n }

func (l limited) UpsertEach(ctx context.Context, records []connector.Record) ([]error, error) {
	return connector.UpsertEach(ctx, l.Connector, records)
}

func (r *rig) record(b testing.TB, i int) {
	_, _, err := r.svc.Record(context.Background(), delivery.Event{ID: fmt.Sprintf("evt_bench_%09d", i), Tenant: "shop",
		Subject: fmt.Sprintf("sub_bench_%09d", i), Kind: 2,
		Fields: map[string]string{"first_name": token(), "last_name": token(), "email": token()}})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQueue: recording an event (consent, mapping, a data key
// wrapped by the local keyring, the payload sealed, the delivery row and
// its job in one transaction) against a bare durable insert of a row of
// the same size in one transaction. The ratio is the queue's overhead.
func BenchmarkQueue(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *store.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(b, migrations.FS)
			} else {
				db = storetest.Postgres(b, migrations.FS)
			}
			r := newRig(b, db)
			if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS bench_bare (id TEXT PRIMARY KEY, payload ` +
				map[string]string{"sqlite": "BLOB", "postgres": "BYTEA"}[dialect] + `)`); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 400)
			b.Run("bare_insert", func(b *testing.B) {
				for b.Loop() {
					err := db.InTx(context.Background(), func(tx *sql.Tx) error {
						_, err := tx.Exec(`INSERT INTO bench_bare (id, payload) VALUES ($1, $2)`, fmt.Sprintf("b%09d", seq.Add(1)), payload)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("record", func(b *testing.B) {
				for b.Loop() {
					r.record(b, int(seq.Add(1)))
				}
			})
		})
	}
}

// drain records n events on a fresh rig (batch as newRigWith) and times
// the runner's draining of them to the HubSpot emulator (8 handlers).
func drain(b *testing.B, db *store.DB, batch, n int) (perSecond float64, requests int) {
	r := newRigWith(b, db, "hubspot", batch)
	for range n {
		r.record(b, int(seq.Add(1)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); _ = r.jobs.Run(ctx) }()
	for r.api.Counts().Creates < n {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	return float64(n) / elapsed.Seconds(), r.api.Counts().Requests
}

// BenchmarkDeliver: deliveries a second from a full queue of 500 to the
// HubSpot emulator, batched (up to 100 records a request) and one record a
// request, in the same run, and their ratio.
func BenchmarkDeliver(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *store.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(b, migrations.FS)
			} else {
				db = storetest.Postgres(b, migrations.FS)
			}
			const n = 500
			single, singleReq := drain(b, db, 1, n)
			batched, batchedReq := drain(b, db, 0, n)
			for b.Loop() {
			}
			b.ReportMetric(batched, "batched_deliveries/s")
			b.ReportMetric(single, "single_deliveries/s")
			b.ReportMetric(batched/single, "batched/single")
			b.ReportMetric(float64(batchedReq), "batched_requests")
			b.ReportMetric(float64(singleReq), "single_requests")
		})
	}
}

// BenchmarkQueueOverhead: the queue's overhead over a bare durable insert
// as a ratio measured in one run: 200 one-row insert transactions and 200
// recorded events, interleaved in rounds of 20 so both see the same load.
func BenchmarkQueueOverhead(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *store.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(b, migrations.FS)
			} else {
				db = storetest.Postgres(b, migrations.FS)
			}
			r := newRig(b, db)
			if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS bench_bare (id TEXT PRIMARY KEY, payload ` +
				map[string]string{"sqlite": "BLOB", "postgres": "BYTEA"}[dialect] + `)`); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 400)
			var bare, rec time.Duration
			for range 10 {
				t0 := time.Now()
				for range 20 {
					err := db.InTx(context.Background(), func(tx *sql.Tx) error {
						_, err := tx.Exec(`INSERT INTO bench_bare (id, payload) VALUES ($1, $2)`, fmt.Sprintf("o%09d", seq.Add(1)), payload)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				bare += time.Since(t0)
				t0 = time.Now()
				for range 20 {
					r.record(b, int(seq.Add(1)))
				}
				rec += time.Since(t0)
			}
			for b.Loop() {
			}
			b.ReportMetric(float64(bare.Microseconds())/200, "bare_us/op")
			b.ReportMetric(float64(rec.Microseconds())/200, "record_us/op")
			b.ReportMetric(float64(rec)/float64(bare), "record/bare")
		})
	}
}
