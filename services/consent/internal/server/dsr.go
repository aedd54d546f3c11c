package server

import (
	"context"
	"encoding/binary"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/encoding/protojson"

	consentv1 "github.com/sottohq/sotto/gen/go/sotto/consent/v1"
	privacyv1 "github.com/sottohq/sotto/gen/go/sotto/privacy/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/consent/internal/dsr"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// DSRServer implements consentv1.DataSubjectRequestServiceServer.
type DSRServer struct {
	consentv1.UnimplementedDataSubjectRequestServiceServer
	dsr   *dsr.Service
	pages *pagetoken.Codec
}

var _ consentv1.DataSubjectRequestServiceServer = (*DSRServer)(nil)

// NewDSR returns the data-subject request API over the domain.
func NewDSR(d *dsr.Service, pages *pagetoken.Codec) *DSRServer {
	return &DSRServer{dsr: d, pages: pages}
}

func requestProto(v dsr.View, full bool) *consentv1.Request {
	out := &consentv1.Request{
		RequestId: v.ID, Type: consentv1.RequestType(v.Type), State: consentv1.RequestState(v.State),
		Subject:      &privacyv1.Subject{Tenant: v.Tenant, Subject: v.Subject},
		Jurisdiction: v.Jurisdiction, ReceiveTime: ts(v.Received), CreatedByStaff: v.ByStaff,
		VerificationMethod: consentv1.VerificationMethod(v.Verification), RejectionReason: consentv1.RejectionReason(v.Rejection),
		PauseReason: consentv1.PauseReason(v.PauseReason), LiftRestriction: v.Lift, CorrectionCount: int32(v.Corrections),
		CloseTime: ts(v.Closed), ExportExpireTime: ts(v.ExportExpire), ExportDownloadTime: ts(v.ExportDownload),
		Deadlines: &consentv1.Deadlines{
			Regime: consentv1.Regime(v.Regime), AcknowledgeDueTime: ts(v.Dates.AcknowledgeDue), AcknowledgeTime: ts(v.Acked),
			DueTime: ts(v.Dates.Due), OriginalDueTime: ts(v.Dates.OriginalDue), MaxExtendedDueTime: ts(v.Dates.MaxExtendedDue),
			ExtensionReason: consentv1.ExtensionReason(v.ExtensionReason), PausedSeconds: int64(v.Paused / time.Second),
			DueSoon: v.DueSoon, Overdue: v.Overdue,
		},
	}
	if !full {
		return out
	}
	for _, st := range v.Steps {
		op := privacyv1.Operation(st.Operation)
		if st.Operation == dsr.OpOptOutOfSale {
			op = privacyv1.Operation_OPERATION_UNSPECIFIED
		}
		step := &consentv1.Step{Participant: st.Participant, Operation: op, State: consentv1.StepState(st.State),
			Attempts: int32(st.Attempts), LastErrorReason: st.LastError, DoneTime: ts(st.Done)}
		if st.Evidence != "" {
			ev := &privacyv1.Evidence{}
			if protojson.Unmarshal([]byte(st.Evidence), ev) == nil {
				step.Evidence = ev
			}
		}
		out.Steps = append(out.Steps, step)
	}
	for _, t := range v.History {
		out.History = append(out.History, &consentv1.Transition{From: consentv1.RequestState(t.From), To: consentv1.RequestState(t.To),
			Time: ts(t.Time), Actor: t.Actor, Reason: t.Reason, AuditEventId: t.AuditEventID})
	}
	return out
}

// CreateRequest implements the RPC.
func (s *DSRServer) CreateRequest(ctx context.Context, req *consentv1.CreateRequestRequest) (*consentv1.CreateRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := dsr.CreateInput{Caller: c, Type: int(req.GetType()), Tenant: req.GetTenant(), Subject: req.GetSubject(),
		Jurisdiction: req.GetJurisdiction(), Lift: req.GetLiftRestriction(), RequestKey: req.GetRequestKey()}
	for _, x := range req.GetCorrections() {
		in.Corrections = append(in.Corrections, dsr.Correction{Category: x.GetCategory(), ItemID: x.GetItemId(), Field: x.GetField(), Value: x.GetValue()})
	}
	v, err := s.dsr.Create(ctx, in)
	if err != nil {
		return nil, err
	}
	return &consentv1.CreateRequestResponse{Request: requestProto(v, true)}, nil
}

// GetRequest implements the RPC.
func (s *DSRServer) GetRequest(ctx context.Context, req *consentv1.GetRequestRequest) (*consentv1.GetRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Get(ctx, c, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &consentv1.GetRequestResponse{Request: requestProto(v, true)}, nil
}

// A list page token's cursor: the last request's due time (Unix
// microseconds, big-endian) and its id.
const dueCursorLen = 8

// ListRequests implements the RPC.
func (s *DSRServer) ListRequests(ctx context.Context, req *consentv1.ListRequestsRequest) (*consentv1.ListRequestsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := dsr.ListInput{Caller: c, Overdue: req.GetOverdue(), Subject: req.GetSubject(), Size: int(req.GetPageSize())}
	if req.GetDueBefore() != nil {
		in.DueBefore = req.GetDueBefore().AsTime()
	}
	for _, st := range req.GetStates() {
		in.States = append(in.States, int(st))
	}
	if req.GetPageToken() != "" {
		cur, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		if len(cur) <= dueCursorLen {
			return nil, errs.E(errs.InvalidArgument, pagetoken.ReasonInvalid, "page token is not one this service issued")
		}
		in.AfterDue = time.UnixMicro(int64(binary.BigEndian.Uint64(cur[:dueCursorLen]))).UTC()
		in.AfterID = string(cur[dueCursorLen:])
	}
	vs, more, err := s.dsr.List(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &consentv1.ListRequestsResponse{}
	for _, v := range vs {
		out.Requests = append(out.Requests, requestProto(v, false))
	}
	if more {
		last := vs[len(vs)-1]
		cur := binary.BigEndian.AppendUint64(nil, uint64(last.Due.UnixMicro()))
		cur = append(cur, last.ID...)
		if out.NextPageToken, err = s.pages.Encode(req, cur); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// VerifyRequest implements the RPC.
func (s *DSRServer) VerifyRequest(ctx context.Context, req *consentv1.VerifyRequestRequest) (*consentv1.VerifyRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Verify(ctx, c, req.GetRequestId(), int(req.GetMethod()))
	if err != nil {
		return nil, err
	}
	return &consentv1.VerifyRequestResponse{Request: requestProto(v, true)}, nil
}

// ExtendRequest implements the RPC.
func (s *DSRServer) ExtendRequest(ctx context.Context, req *consentv1.ExtendRequestRequest) (*consentv1.ExtendRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Extend(ctx, c, req.GetRequestId(), int(req.GetReason()))
	if err != nil {
		return nil, err
	}
	return &consentv1.ExtendRequestResponse{Request: requestProto(v, true)}, nil
}

// PauseRequest implements the RPC.
func (s *DSRServer) PauseRequest(ctx context.Context, req *consentv1.PauseRequestRequest) (*consentv1.PauseRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Pause(ctx, c, req.GetRequestId(), int(req.GetReason()))
	if err != nil {
		return nil, err
	}
	return &consentv1.PauseRequestResponse{Request: requestProto(v, true)}, nil
}

// ResumeRequest implements the RPC.
func (s *DSRServer) ResumeRequest(ctx context.Context, req *consentv1.ResumeRequestRequest) (*consentv1.ResumeRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Resume(ctx, c, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &consentv1.ResumeRequestResponse{Request: requestProto(v, true)}, nil
}

// RejectRequest implements the RPC.
func (s *DSRServer) RejectRequest(ctx context.Context, req *consentv1.RejectRequestRequest) (*consentv1.RejectRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Reject(ctx, c, req.GetRequestId(), int(req.GetReason()))
	if err != nil {
		return nil, err
	}
	return &consentv1.RejectRequestResponse{Request: requestProto(v, true)}, nil
}

// RetryRequest implements the RPC.
func (s *DSRServer) RetryRequest(ctx context.Context, req *consentv1.RetryRequestRequest) (*consentv1.RetryRequestResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.dsr.Retry(ctx, c, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &consentv1.RetryRequestResponse{Request: requestProto(v, true)}, nil
}

// DownloadExport implements the RPC.
func (s *DSRServer) DownloadExport(ctx context.Context, req *consentv1.DownloadExportRequest) (*httpbody.HttpBody, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	format := dsr.FormatJSON
	if req.GetFormat() == consentv1.ExportFormat_EXPORT_FORMAT_CSV {
		format = dsr.FormatCSV
	}
	f, err := s.dsr.Download(ctx, c, req.GetRequestId(), format)
	if err != nil {
		return nil, err
	}
	if len(f.Data) == 0 {
		return nil, errs.E(errs.Internal, reasons.ExportAssemblyFailed, "empty export")
	}
	return &httpbody.HttpBody{ContentType: f.ContentType, Data: f.Data}, nil
}
