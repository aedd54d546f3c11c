package crmevents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmsyncv1 "github.com/sottohq/sotto/gen/go/sotto/crmsync/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/jobs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/pkg/store/storetest"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
	"github.com/sottohq/sotto/services/identity/internal/storage"
	"github.com/sottohq/sotto/services/identity/migrations"
)

type fakeCRM struct {
	err  error
	reqs []*crmsyncv1.RecordCustomerEventRequest
}

func (f *fakeCRM) RecordCustomerEvent(_ context.Context, in *crmsyncv1.RecordCustomerEventRequest, _ ...grpc.CallOption) (*crmsyncv1.RecordCustomerEventResponse, error) {
	f.reqs = append(f.reqs, in)
	return &crmsyncv1.RecordCustomerEventResponse{}, f.err
}

// TestCustomerEventJobs: the job enqueued with a change carries ids only
// (no token in the jobs table); run, it sends the account's tokens as they
// are then, under a fixed event id; crmsync unreachable is retried,
// a refusal is permanent, an erased account and a staff account send
// nothing.
func TestCustomerEventJobs(t *testing.T) {
	storetest.ForEachDialect(t, migrations.FS, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st := storage.New(db)
		runner, err := jobs.New(db, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		crm := &fakeCRM{}
		ev, err := New(runner, st, crm)
		if err != nil {
			t.Fatal(err)
		}
		a := storage.Account{ID: "acc_crm1", Kind: storage.KindCustomer, Tenant: "shop", EmailToken: "det_tok_email",
			EmailMaskToken: "tok_email_mask", PhoneToken: "+15550000000", PasswordHash: "$argon2id$x", Created: time.Now()}
		if err := st.InsertAccount(ctx, db, a); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return ev.CustomerChanged(ctx, tx, a.ID, true) }); err != nil {
			t.Fatal(err)
		}
		var kind string
		var raw []byte
		if err := db.QueryRowContext(ctx, `SELECT kind, args FROM jobs`).Scan(&kind, &raw); err != nil {
			t.Fatal(err)
		}
		var in args
		if err := json.Unmarshal(raw, &in); err != nil || kind != Kind || in.Account != a.ID || !in.Created {
			t.Fatalf("job %s %s", kind, raw)
		}
		for _, tok := range []string{a.EmailToken, a.EmailMaskToken, a.PhoneToken} {
			if strings.Contains(string(raw), tok) {
				t.Fatalf("the job's arguments hold a token: %s", raw)
			}
		}
		job := jobs.Job{Kind: Kind, Args: raw, Attempt: 1}
		if err := ev.handle(ctx, job); err != nil {
			t.Fatal(err)
		}
		got := crm.reqs[0]
		if got.GetEventId() != in.Event || got.GetTenant() != "shop" || got.GetSubject() != a.ID ||
			got.GetKind() != crmsyncv1.EventKind_EVENT_KIND_CUSTOMER_CREATED || len(got.GetFields()) != 2 ||
			got.GetFields()["email"] != a.EmailMaskToken || got.GetFields()["phone"] != a.PhoneToken {
			t.Fatalf("sent %v", got)
		}

		crm.err = status.Error(codes.Unavailable, "down")
		if err := ev.handle(ctx, job); errs.ReasonOf(err) != reasons.CRMSyncUnavailable || isPermanent(err) {
			t.Fatalf("unreachable: %v", err)
		}
		crm.err = status.Error(codes.InvalidArgument, "FIELDS_INVALID")
		if err := ev.handle(ctx, job); !isPermanent(err) {
			t.Fatalf("refused: %v", err)
		}

		n := len(crm.reqs)
		staff := a
		staff.ID, staff.Kind, staff.Tenant, staff.EmailToken = "acc_staff1", storage.KindStaff, "", "det_tok_staff"
		if err := st.InsertAccount(ctx, db, staff); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{staff.ID, "acc_erased"} {
			b, _ := json.Marshal(args{Account: id, Event: "idn_x1234567"})
			if err := ev.handle(ctx, jobs.Job{Kind: Kind, Args: b, Attempt: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if len(crm.reqs) != n {
			t.Fatal("a staff or erased account was sent")
		}
	})
}

// isPermanent: pkg/jobs' permanent wrapper is unexported; it is the one
// error here whose type is not the cause's.
func isPermanent(err error) bool {
	var e *errs.Error
	return err != nil && (!errors.As(err, &e) || fmt.Sprintf("%T", err) != "*errs.Error")
}
