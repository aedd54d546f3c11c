package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/consent/internal/catalogue"
	"github.com/sottohq/sotto/services/consent/internal/consent"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
	"github.com/sottohq/sotto/services/consent/internal/storage"
)

// CreatePurpose implements the RPC.
func (s *Server) CreatePurpose(ctx context.Context, req *consentv1.CreatePurposeRequest) (*consentv1.CreatePurposeResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.domain.CreatePurpose(ctx, c, purposeFromProto(req.GetPurpose()))
	if err != nil {
		return nil, err
	}
	return &consentv1.CreatePurposeResponse{Purpose: purposeProto(p)}, nil
}

// UpdatePurpose implements the RPC.
func (s *Server) UpdatePurpose(ctx context.Context, req *consentv1.UpdatePurposeRequest) (*consentv1.UpdatePurposeResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.domain.UpdatePurpose(ctx, c, purposeFromProto(req.GetPurpose()), req.GetUpdateMask().GetPaths(), req.GetExpectedRevision())
	if err != nil {
		return nil, err
	}
	return &consentv1.UpdatePurposeResponse{Purpose: purposeProto(p)}, nil
}

func noticeProto(n catalogue.Notice) *consentv1.NoticeVersion {
	out := &consentv1.NoticeVersion{NoticeId: n.ID, Version: n.Version, PurposeIds: n.Purposes, CreateTime: ts(n.Created)}
	for _, t := range n.Texts {
		out.Texts = append(out.Texts, &consentv1.NoticeText{Language: t.Language, Text: t.Text, TextSha256: t.SHA256})
	}
	return out
}

// CreateNoticeVersion implements the RPC.
func (s *Server) CreateNoticeVersion(ctx context.Context, req *consentv1.CreateNoticeVersionRequest) (*consentv1.CreateNoticeVersionResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	n := catalogue.Notice{ID: req.GetNoticeId(), Purposes: req.GetPurposeIds()}
	for _, t := range req.GetTexts() {
		n.Texts = append(n.Texts, catalogue.NoticeText{Language: t.GetLanguage(), Text: t.GetText()})
	}
	n, err = s.domain.CreateNoticeVersion(ctx, c, n)
	if err != nil {
		return nil, err
	}
	return &consentv1.CreateNoticeVersionResponse{Notice: noticeProto(n)}, nil
}

// GetNoticeVersion implements the RPC.
func (s *Server) GetNoticeVersion(ctx context.Context, req *consentv1.GetNoticeVersionRequest) (*consentv1.GetNoticeVersionResponse, error) {
	n, err := s.domain.NoticeVersion(ctx, req.GetNoticeId(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	return &consentv1.GetNoticeVersionResponse{Notice: noticeProto(n)}, nil
}

// ListNotices implements the RPC. Its page token's cursor is the last
// notice id of the page.
func (s *Server) ListNotices(ctx context.Context, req *consentv1.ListNoticesRequest) (*consentv1.ListNoticesResponse, error) {
	var after string
	if req.GetPageToken() != "" {
		cur, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		after = string(cur)
	}
	ns, more, err := s.domain.Notices(ctx, req.GetPurposeId(), after, int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &consentv1.ListNoticesResponse{}
	for _, n := range ns {
		out.Notices = append(out.Notices, noticeProto(n))
	}
	if more {
		if out.NextPageToken, err = s.pages.Encode(req, []byte(ns[len(ns)-1].ID)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func recordProto(r storage.Record) *consentv1.ConsentRecord {
	out := &consentv1.ConsentRecord{
		RecordId: r.ID, Subject: r.Subject, PurposeId: r.Purpose, Decision: consentv1.Decision(r.Decision),
		Method: consentv1.Method(r.Method), Channel: consentv1.Channel(r.Channel), RecordTime: ts(r.Time),
		PurposeRevision: r.PurposeRevision, ReceiptId: r.ReceiptID, Jurisdiction: r.Jurisdiction, RecordedByStaff: r.ByStaff,
	}
	if r.NoticeID != "" {
		out.Notice = &consentv1.NoticeRef{NoticeId: r.NoticeID, Version: r.NoticeVersion, Language: r.NoticeLanguage, TextSha256: r.TextSHA256}
	}
	return out
}

func receiptProto(r storage.Receipt) *consentv1.Receipt {
	if r.ID == "" {
		return nil
	}
	return &consentv1.Receipt{ReceiptId: r.ID, Jws: r.JWS, Sha256: r.SHA256, AuditEventId: r.AuditEventID, IssueTime: ts(r.Issued), KeyId: r.KeyID}
}

// GrantConsent implements the RPC.
func (s *Server) GrantConsent(ctx context.Context, req *consentv1.GrantConsentRequest) (*consentv1.GrantConsentResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	n := req.GetNotice()
	out, err := s.domain.Grant(ctx, consent.DecisionInput{
		Caller: c, Subject: req.GetSubject(), Purpose: req.GetPurposeId(), Channel: catalogue.Channel(req.GetChannel()),
		Jurisdiction: req.GetJurisdiction(), RequestID: req.GetRequestId(),
		Notice: consent.NoticeRef{ID: n.GetNoticeId(), Version: n.GetVersion(), Language: n.GetLanguage(), TextSHA256: n.GetTextSha256()},
	})
	if err != nil {
		return nil, err
	}
	return &consentv1.GrantConsentResponse{Record: recordProto(out.Records[0]), Receipt: receiptProto(out.Receipt)}, nil
}

// WithdrawConsent implements the RPC.
func (s *Server) WithdrawConsent(ctx context.Context, req *consentv1.WithdrawConsentRequest) (*consentv1.WithdrawConsentResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.domain.Withdraw(ctx, consent.DecisionInput{
		Caller: c, Subject: req.GetSubject(), Purpose: req.GetPurposeId(), Channel: catalogue.Channel(req.GetChannel()),
		Jurisdiction: req.GetJurisdiction(), RequestID: req.GetRequestId(),
	})
	if err != nil {
		return nil, err
	}
	return &consentv1.WithdrawConsentResponse{Record: recordProto(out.Records[0]), Receipt: receiptProto(out.Receipt)}, nil
}

// RecordGpcOptOut implements the RPC.
func (s *Server) RecordGpcOptOut(ctx context.Context, req *consentv1.RecordGpcOptOutRequest) (*consentv1.RecordGpcOptOutResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.domain.RecordGPC(ctx, consent.GPCInput{Caller: c, Channel: catalogue.Channel(req.GetChannel()), Jurisdiction: req.GetJurisdiction()})
	if err != nil {
		return nil, err
	}
	resp := &consentv1.RecordGpcOptOutResponse{Receipt: receiptProto(out.Receipt)}
	for _, r := range out.Records {
		resp.Records = append(resp.Records, recordProto(r))
	}
	return resp, nil
}

func resultProto(r consent.Result) *consentv1.CheckResult {
	return &consentv1.CheckResult{
		Subject: r.Subject, PurposeId: r.Purpose, Allowed: r.Allowed, Reason: consentv1.DecisionReason(r.Reason),
		LegalBasis: consentv1.LegalBasis(r.Basis), RecordId: r.RecordID, RecordTime: ts(r.RecordTime), PurposeRevision: r.PurposeRevision,
	}
}

// ListConsents implements the RPC.
func (s *Server) ListConsents(ctx context.Context, req *consentv1.ListConsentsRequest) (*consentv1.ListConsentsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	subject, cs, err := s.domain.Consents(ctx, c, req.GetSubject())
	if err != nil {
		return nil, err
	}
	out := &consentv1.ListConsentsResponse{Subject: subject}
	for _, x := range cs {
		st := &consentv1.ConsentState{Purpose: purposeProto(x.Purpose), Check: resultProto(x.Check)}
		if x.Latest.ID != "" {
			st.Decision, st.LatestRecord = consentv1.Decision(x.Latest.Decision), recordProto(x.Latest)
		}
		out.Consents = append(out.Consents, st)
	}
	return out, nil
}

// A records page token's cursor: the last record's time (Unix
// microseconds, big-endian) and id (UUID bytes).
const recordCursorLen = 8 + 16

// ListConsentRecords implements the RPC.
func (s *Server) ListConsentRecords(ctx context.Context, req *consentv1.ListConsentRecordsRequest) (*consentv1.ListConsentRecordsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var page storage.Page
	if req.GetPageToken() != "" {
		cur, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		id, err := uuid.FromBytes(cur[8:min(len(cur), recordCursorLen)])
		if len(cur) != recordCursorLen || err != nil {
			return nil, errs.E(errs.InvalidArgument, pagetoken.ReasonInvalid, "page token is not one this service issued")
		}
		page = storage.Page{Time: time.UnixMicro(int64(binary.BigEndian.Uint64(cur[:8]))).UTC(), ID: id.String()}
	}
	_, recs, more, err := s.domain.Records(ctx, c, req.GetSubject(), req.GetPurposeId(), page, int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &consentv1.ListConsentRecordsResponse{}
	for _, r := range recs {
		out.Records = append(out.Records, recordProto(r))
	}
	if more {
		last := recs[len(recs)-1]
		id, err := uuid.Parse(last.ID)
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, reasons.StoreInvariant, "record id is not a UUID")
		}
		cur := binary.BigEndian.AppendUint64(nil, uint64(last.Time.UnixMicro()))
		cur = append(cur, id[:]...)
		if out.NextPageToken, err = s.pages.Encode(req, cur); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetReceipt implements the RPC.
func (s *Server) GetReceipt(ctx context.Context, req *consentv1.GetReceiptRequest) (*consentv1.GetReceiptResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rc, err := s.domain.Receipt(ctx, c, req.GetReceiptId())
	if err != nil {
		return nil, err
	}
	return &consentv1.GetReceiptResponse{Receipt: receiptProto(rc)}, nil
}

// GetReceiptKeys implements the RPC.
func (s *Server) GetReceiptKeys(ctx context.Context, _ *consentv1.GetReceiptKeysRequest) (*consentv1.GetReceiptKeysResponse, error) {
	ks, err := s.domain.ReceiptKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := &consentv1.GetReceiptKeysResponse{}
	for _, k := range ks {
		out.Keys = append(out.Keys, &consentv1.ReceiptKey{KeyId: k.KeyID, PublicKey: base64.RawURLEncoding.EncodeToString(k.Public)})
	}
	return out, nil
}

// Check implements the RPC.
func (s *Server) Check(ctx context.Context, req *consentv1.CheckRequest) (*consentv1.CheckResponse, error) {
	r, err := s.domain.Check(ctx, req.GetSubject(), req.GetPurposeId())
	if err != nil {
		return nil, err
	}
	return &consentv1.CheckResponse{Result: resultProto(r)}, nil
}

// BatchCheck implements the RPC.
func (s *Server) BatchCheck(ctx context.Context, req *consentv1.BatchCheckRequest) (*consentv1.BatchCheckResponse, error) {
	pairs := make([]consent.CheckPair, len(req.GetChecks()))
	for i, c := range req.GetChecks() {
		pairs[i] = consent.CheckPair{Subject: c.GetSubject(), Purpose: c.GetPurposeId()}
	}
	rs, err := s.domain.BatchCheck(ctx, pairs)
	if err != nil {
		return nil, err
	}
	out := &consentv1.BatchCheckResponse{Results: make([]*consentv1.CheckResult, len(rs))}
	for i, r := range rs {
		out.Results[i] = resultProto(r)
	}
	return out, nil
}

// WatchConsentChanges implements the RPC.
func (s *Server) WatchConsentChanges(req *consentv1.WatchConsentChangesRequest, stream grpc.ServerStreamingServer[consentv1.WatchConsentChangesResponse]) error {
	return s.domain.Watch(stream.Context(), req.GetCursor(), s.heartbeat, func(c consent.FeedChange) error {
		msg := &consentv1.WatchConsentChangesResponse{Cursor: c.Cursor}
		switch {
		case c.Decision != nil:
			d := c.Decision
			msg.Change = &consentv1.WatchConsentChangesResponse_Consent{Consent: &consentv1.ConsentChange{
				Subject: d.Subject, PurposeId: d.Purpose, Decision: consentv1.Decision(d.Decision),
				Method: consentv1.Method(d.Method), RecordId: d.RecordID, RecordTime: ts(d.Time),
			}}
		case c.Purpose != nil:
			msg.Change = &consentv1.WatchConsentChangesResponse_Purpose{Purpose: purposeProto(*c.Purpose)}
		}
		return stream.Send(msg)
	})
}
