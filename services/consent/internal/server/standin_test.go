package server_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/servertest"
)

// dsrMaxAttempts is a step's attempts in these tests.
const dsrMaxAttempts = 3

// standIn is a privacy participant served over real gRPC with mTLS (only
// the consent workload may call it, as the participants' policies say). It
// fails as told, and answers a repeated request id already_done, as the
// protocol asks.
type standIn struct {
	privacyv1.UnimplementedPrivacyParticipantServiceServer
	name string

	mu sync.Mutex
	// failNext fails that many calls; failAlways every call.
	failNext   int
	failAlways bool
	// calls are the "<operation> <request id>" of every call that reached
	// the participant (failed ones included).
	calls []string
	done  map[string]bool
	items []*privacyv1.Item
}

func (p *standIn) start(t testing.TB, pki *servertest.PKI) string {
	t.Helper()
	consentOnly := []string{"consent"}
	srv := pki.NewServer(t, p.name, authz.Policy{
		privacyv1.PrivacyParticipantService_Describe_FullMethodName: consentOnly,
		privacyv1.PrivacyParticipantService_Export_FullMethodName:   consentOnly,
		privacyv1.PrivacyParticipantService_Erase_FullMethodName:    consentOnly,
		privacyv1.PrivacyParticipantService_Rectify_FullMethodName:  consentOnly,
		privacyv1.PrivacyParticipantService_Restrict_FullMethodName: consentOnly,
	})
	privacyv1.RegisterPrivacyParticipantServiceServer(srv.GRPC(), p)
	return servertest.Start(t, srv)
}

func (p *standIn) set(fn func(p *standIn)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *standIn) callsOf(op string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.calls {
		if len(c) > len(op) && c[:len(op)] == op {
			out = append(out, c[len(op)+1:])
		}
	}
	return out
}

// call records a call and decides whether it fails; already is whether an
// earlier call with the same request id succeeded.
func (p *standIn) call(op, requestID string) (already bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op+" "+requestID)
	if p.failAlways || p.failNext > 0 {
		if p.failNext > 0 {
			p.failNext--
		}
		return false, errs.E(errs.Unavailable, "PARTICIPANT_DOWN", "the stand-in is down")
	}
	if p.done == nil {
		p.done = map[string]bool{}
	}
	already = p.done[op+requestID]
	p.done[op+requestID] = true
	return already, nil
}

func (p *standIn) evidence(already bool) *privacyv1.Evidence {
	return &privacyv1.Evidence{Outcome: privacyv1.Outcome_OUTCOME_DONE, Counts: map[string]int64{p.name + "_affected": 1}, AlreadyDone: already}
}

func (p *standIn) Export(_ context.Context, in *privacyv1.ExportRequest) (*privacyv1.ExportResponse, error) {
	if _, err := p.call("export", in.GetRequestId()); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Two items a page, so that the orchestrator must follow the pages.
	from := 0
	if in.GetPageToken() != "" {
		from, _ = strconv.Atoi(in.GetPageToken())
	}
	out := &privacyv1.ExportResponse{Outcome: privacyv1.Outcome_OUTCOME_NO_DATA}
	if len(p.items) > 0 {
		out.Outcome = privacyv1.Outcome_OUTCOME_DONE
	}
	end := min(len(p.items), from+2)
	out.Items = p.items[from:end]
	if end < len(p.items) {
		out.NextPageToken = strconv.Itoa(end)
	}
	return out, nil
}

func (p *standIn) Erase(_ context.Context, in *privacyv1.EraseRequest) (*privacyv1.EraseResponse, error) {
	already, err := p.call("erase", in.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &privacyv1.EraseResponse{Evidence: p.evidence(already)}, nil
}

func (p *standIn) Rectify(_ context.Context, in *privacyv1.RectifyRequest) (*privacyv1.RectifyResponse, error) {
	already, err := p.call("rectify", in.GetRequestId())
	if err != nil {
		return nil, err
	}
	out := &privacyv1.RectifyResponse{Evidence: p.evidence(already)}
	for i, c := range in.GetCorrections() {
		o := privacyv1.Outcome_OUTCOME_NOT_APPLICABLE
		if c.GetCategory() == p.name+".account" {
			o = privacyv1.Outcome_OUTCOME_DONE
		}
		out.Results = append(out.Results, &privacyv1.CorrectionResult{Index: int32(i), Outcome: o})
	}
	return out, nil
}

func (p *standIn) Restrict(_ context.Context, in *privacyv1.RestrictRequest) (*privacyv1.RestrictResponse, error) {
	already, err := p.call("restrict", in.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &privacyv1.RestrictResponse{Evidence: p.evidence(already)}, nil
}
