package server

import (
	"context"
	"encoding/binary"
	"net/netip"
	"strings"

	"google.golang.org/grpc/metadata"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/mtls"
	"github.com/sottohq/sotto/services/conversation/internal/storage"
)

// clientIPMetadata is the client's address as the gateway resolved it (from
// the connection, or X-Forwarded-For of its trusted proxies; what a client
// sends itself is dropped), set on every REST call (gateway's
// edgeMetadata, as identity reads it).
const clientIPMetadata = "x-sotto-client-ip"

// clientAddress is the client's address, believed only from the gateway
// workload; invalid when unknown (another workload, a webhook, no or a
// malformed value). It is used only as a keyed digest (signals).
func clientAddress(ctx context.Context) netip.Addr {
	id, err := mtls.PeerID(ctx)
	if err != nil || strings.TrimPrefix(id.Path(), "/") != "gateway" {
		return netip.Addr{}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get(clientIPMetadata)
	if len(vs) != 1 {
		return netip.Addr{}
	}
	ip, err := netip.ParseAddr(vs[0])
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

func signalProto(g storage.Signal) *conversationv1.Signal {
	return &conversationv1.Signal{SignalId: g.ID, Tenant: g.Tenant, Kind: conversationv1.SignalKind(g.Kind),
		Scope: conversationv1.SignalScope(g.Scope), ConversationId: g.ConversationID, Action: conversationv1.SignalAction(g.Action),
		Count: int32(min(g.Count, 1<<31-1)), CreateTime: ts(g.CreateTime), ExpireTime: ts(g.ExpireTime), ClearTime: ts(g.ClearTime)}
}

// ClearSignal implements the RPC: a support agent or administrator ends a
// signal's action early (the domain audits it).
func (s *Server) ClearSignal(ctx context.Context, req *conversationv1.ClearSignalRequest) (*conversationv1.ClearSignalResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	g, err := s.domain.ClearSignal(ctx, c, req.GetSignalId())
	if err != nil {
		return nil, err
	}
	return &conversationv1.ClearSignalResponse{Signal: signalProto(g)}, nil
}

// ListSignals implements the RPC: support agents and administrators page
// through signals, newest first.
func (s *Server) ListSignals(ctx context.Context, req *conversationv1.ListSignalsRequest) (*conversationv1.ListSignalsResponse, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var cur *storage.SignalCursor
	if req.GetPageToken() != "" {
		b, err := s.pages.Decode(req, req.GetPageToken())
		if err != nil {
			return nil, err
		}
		if len(b) < 9 {
			return nil, invalidPage()
		}
		cur = &storage.SignalCursor{CreateTime: int64(binary.BigEndian.Uint64(b[:8])), ID: string(b[8:])}
	}
	size := pageSize(req.GetPageSize(), 50)
	gs, err := s.domain.Signals(ctx, c, req.GetConversationId(), cur, size+1)
	if err != nil {
		return nil, err
	}
	out := &conversationv1.ListSignalsResponse{}
	more := len(gs) > size
	gs = gs[:min(len(gs), size)]
	for _, g := range gs {
		out.Signals = append(out.Signals, signalProto(g))
	}
	if more {
		last := gs[len(gs)-1]
		b := binary.BigEndian.AppendUint64(nil, uint64(last.CreateTime.UnixMicro()))
		if out.NextPageToken, err = s.pages.Encode(req, append(b, last.ID...)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
