// Package server is the audit service's gRPC API over the ledger.
package server

import (
	"context"
	"encoding/binary"
	"math"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/pkg/pagetoken"
	"github.com/sottohq/sotto/services/audit/internal/ledger"
)

// Server implements auditv1.AuditServiceServer.
type Server struct {
	auditv1.UnimplementedAuditServiceServer
	log    *ledger.Log
	pages  *pagetoken.Codec
	limits *appendLimiter
	now    func() time.Time
}

var _ auditv1.AuditServiceServer = (*Server)(nil)

// New serves log. pages issues and checks the page tokens of ListEvents and
// ListCheckpoints; its key must be the same on every replica (see
// ledger.SubjectHasher.PageTokenKey). limit bounds appends per workload.
func New(log *ledger.Log, pages *pagetoken.Codec, limit AppendLimit) *Server {
	return &Server{log: log, pages: pages, limits: newAppendLimiter(limit, time.Now), now: time.Now}
}

func (s *Server) AppendEvents(ctx context.Context, req *auditv1.AppendEventsRequest) (*auditv1.AppendEventsResponse, error) {
	// The recording workload comes from the mTLS handshake, never from the body.
	caller, err := mtls.PeerID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkNamespaces(caller.Path(), req.GetEvents()); err != nil {
		return nil, err
	}
	if err := checkEvents(caller, s.now(), req.GetEvents()); err != nil {
		return nil, err
	}
	if err := s.limits.allow(caller.String(), len(req.GetEvents())); err != nil {
		return nil, err
	}
	subs := make([]ledger.Submission, len(req.GetEvents()))
	for i, e := range req.GetEvents() {
		subs[i] = ledger.Submission{Workload: caller.String(), Event: e}
	}
	results, err := s.log.Append(ctx, subs)
	if err != nil {
		return nil, err
	}
	resp := &auditv1.AppendEventsResponse{Results: make([]*auditv1.AppendResult, len(results))}
	for i, r := range results {
		resp.Results[i] = &auditv1.AppendResult{EventId: r.EventID, LeafIndex: r.Index, Duplicate: r.Duplicate}
	}
	return resp, nil
}

func (s *Server) GetEvent(ctx context.Context, req *auditv1.GetEventRequest) (*auditv1.GetEventResponse, error) {
	ev, err := s.log.Event(ctx, req.GetEventId())
	if err != nil {
		return nil, err
	}
	return &auditv1.GetEventResponse{Event: ev}, nil
}

func (s *Server) ListEvents(ctx context.Context, req *auditv1.ListEventsRequest) (*auditv1.ListEventsResponse, error) {
	after, err := s.position(req, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	size := pageSize(req.GetPageSize(), 100)
	q := ledger.Query{
		Subject: req.GetSubject(), ActorSubject: req.GetActorSubject(),
		ActorWorkload: req.GetActorWorkload(), Action: req.GetAction(),
		AfterIndex: after, Limit: size + 1,
	}
	if req.GetStartTime() != nil {
		q.Start = req.GetStartTime().AsTime()
	}
	if req.GetEndTime() != nil {
		q.End = req.GetEndTime().AsTime()
	}
	events, err := s.log.List(ctx, q)
	if err != nil {
		return nil, err
	}
	resp := &auditv1.ListEventsResponse{}
	if len(events) > size {
		events = events[:size]
		if resp.NextPageToken, err = s.pageToken(req, events[size-1].GetLeafIndex()); err != nil {
			return nil, err
		}
	}
	resp.Events = events
	return resp, nil
}

func (s *Server) ListEntries(ctx context.Context, req *auditv1.ListEntriesRequest) (*auditv1.ListEntriesResponse, error) {
	entries, err := s.log.Entries(ctx, req.GetStartIndex(), pageSize(req.GetPageSize(), 1000))
	if err != nil {
		return nil, err
	}
	resp := &auditv1.ListEntriesResponse{TreeSize: s.log.Size(), Entries: make([]*auditv1.Entry, len(entries))}
	for i, e := range entries {
		resp.Entries[i] = &auditv1.Entry{LeafIndex: e.Index, LeafData: e.Data, LeafHash: e.LeafHash, Indexed: &auditv1.IndexedFields{
			EventId: e.EventID, SubjectHash: e.SubjectHash, ActorSubjectHash: e.ActorSubjectHash,
			ActorWorkload: e.ActorWorkload, Action: e.Action, OccurTime: timestamppb.New(e.OccurTime),
		}}
	}
	return resp, nil
}

func (s *Server) GetCheckpoint(ctx context.Context, _ *auditv1.GetCheckpointRequest) (*auditv1.GetCheckpointResponse, error) {
	c, err := s.log.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	return &auditv1.GetCheckpointResponse{Checkpoint: checkpointProto(c), Origin: s.log.Origin(), VerifierKey: s.log.VerifierKey()}, nil
}

func (s *Server) ListCheckpoints(ctx context.Context, req *auditv1.ListCheckpointsRequest) (*auditv1.ListCheckpointsResponse, error) {
	after, err := s.position(req, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	size := pageSize(req.GetPageSize(), 100)
	cps, err := s.log.Checkpoints(ctx, after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &auditv1.ListCheckpointsResponse{}
	if len(cps) > size {
		cps = cps[:size]
		if resp.NextPageToken, err = s.pageToken(req, cps[size-1].Size); err != nil {
			return nil, err
		}
	}
	for _, c := range cps {
		resp.Checkpoints = append(resp.Checkpoints, checkpointProto(c))
	}
	return resp, nil
}

func (s *Server) GetInclusionProof(ctx context.Context, req *auditv1.GetInclusionProofRequest) (*auditv1.GetInclusionProofResponse, error) {
	idx, size, hashes, err := s.log.InclusionProof(ctx, req.GetEventId(), req.GetTreeSize())
	if err != nil {
		return nil, err
	}
	return &auditv1.GetInclusionProofResponse{LeafIndex: idx, TreeSize: size, Hashes: hashes}, nil
}

func (s *Server) GetConsistencyProof(ctx context.Context, req *auditv1.GetConsistencyProofRequest) (*auditv1.GetConsistencyProofResponse, error) {
	to, hashes, err := s.log.ConsistencyProof(ctx, req.GetFromSize(), req.GetToSize())
	if err != nil {
		return nil, err
	}
	return &auditv1.GetConsistencyProofResponse{FromSize: req.GetFromSize(), ToSize: to, Hashes: hashes}, nil
}

func checkpointProto(c ledger.Checkpoint) *auditv1.Checkpoint {
	return &auditv1.Checkpoint{TreeSize: c.Size, RootHash: c.Root, SignedNote: c.Note, SignTime: timestamppb.New(c.SignTime)}
}

func pageSize(requested int32, def int) int {
	if requested <= 0 {
		return def
	}
	return int(requested)
}

// A page token's cursor is the position (leaf index or tree size) after which
// the next page starts.
func (s *Server) pageToken(req proto.Message, after int64) (string, error) {
	return pageToken(s.pages, req, after)
}

// position returns the position after which req's page starts, -1 for the
// first page.
func (s *Server) position(req proto.Message, token string) (int64, error) {
	return position(s.pages, req, token)
}

func pageToken(pages *pagetoken.Codec, req proto.Message, after int64) (string, error) {
	return pages.Encode(req, binary.AppendUvarint(nil, uint64(after)))
}

func position(pages *pagetoken.Codec, req proto.Message, token string) (int64, error) {
	cursor, err := pages.Decode(req, token)
	if err != nil || cursor == nil {
		return -1, err
	}
	after, n := binary.Uvarint(cursor)
	if n != len(cursor) || after > math.MaxInt64 {
		// The MAC held, so only a change of cursor format gets here.
		return 0, errs.E(errs.InvalidArgument, pagetoken.ReasonInvalid, "page_token is not a token this service issued for this query")
	}
	return int64(after), nil
}
