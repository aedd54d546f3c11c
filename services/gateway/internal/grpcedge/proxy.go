package grpcedge

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// The relay is hand-written: the one library made for it
// (github.com/mwitkow/grpc-proxy) is not on the module proxy this project
// uses, and what it does is small. The edge never decodes what it relays
// (one method reads its request's tenant, with the service's own message
// type, see Method.Tenant): a message travels as the bytes it arrived as,
// so every method of every service can pass without the edge being rebuilt
// when a proto changes, and streaming in both directions works the same as
// a unary call.

// frame is one gRPC message as it is on the wire.
type frame struct{ data []byte }

// rawCodec hands messages through as frames. It copies each frame out of
// grpc's pooled buffers: a frame outlives the buffer it was read into
// (it is sent on another stream), and a copy of at most the message size
// limit is cheaper to get right than shared reference counts.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("grpcedge: cannot send %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(f.data)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("grpcedge: cannot receive into %T", v)
	}
	f.data = data.Materialize()
	return nil
}

// Name is "proto": the backend is told the messages are protobuf, which
// they are (the edge only passes them on).
func (rawCodec) Name() string { return "proto" }

// relayDesc opens every relayed call as a bidirectional stream: on the wire
// a unary call is a stream with one message each way.
var relayDesc = &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}

// relay pumps messages between the integrator (in) and the backend (out)
// until the backend ends the call, and returns its status; first, when not
// nil, is a message already read from in. cancel ends out (the backend
// call) when the integrator's side fails.
func relay(in grpc.ServerStream, out grpc.ClientStream, first *frame, cancel context.CancelFunc) error {
	upErr := make(chan error, 1)
	go func() { upErr <- pumpUp(in, out, first) }()
	downErr := make(chan error, 1)
	go func() { downErr <- pumpDown(out, in) }()
	for {
		select {
		case err := <-upErr:
			var fromIntegrator integratorError
			switch {
			case err == nil:
				// The integrator is done sending; the backend's answer may
				// still be on its way.
				out.CloseSend()
			case errors.As(err, &fromIntegrator):
				// The integrator's side broke (cancelled, a message over the
				// limit): the backend call ends with it, and the integrator
				// gets why.
				cancel()
				<-downErr
				return fromIntegrator.err
			default:
				// Sending to the backend failed: it ended the call, and
				// pumpDown reads its status.
			}
			upErr = nil
		case err := <-downErr:
			var toIntegrator integratorError
			if errors.As(err, &toIntegrator) {
				// The integrator is gone or cannot take the message.
				cancel()
				return toIntegrator.err
			}
			// The backend ended the call: its trailer is complete.
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			cancel()
			return fromBackend(err)
		}
	}
}

// integratorError marks a failure on the integrator's stream (not the
// backend's).
type integratorError struct{ err error }

func (e integratorError) Error() string { return e.err.Error() }

// pumpUp sends the integrator's messages to the backend until the
// integrator closes its side (nil).
func pumpUp(in grpc.ServerStream, out grpc.ClientStream, first *frame) error {
	if first != nil {
		if err := out.SendMsg(first); err != nil {
			return err
		}
	}
	for {
		f := new(frame)
		if err := in.RecvMsg(f); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return integratorError{err}
		}
		if err := out.SendMsg(f); err != nil {
			return err
		}
	}
}

// pumpDown sends the backend's header and messages to the integrator; it
// returns io.EOF when the backend ended the call with OK, its status
// otherwise.
func pumpDown(out grpc.ClientStream, in grpc.ServerStream) error {
	md, err := out.Header()
	if err != nil {
		return err
	}
	if md != nil {
		// Sent at once (with the edge's own header set earlier), so an
		// integrator sees a stream's header before its first message.
		if err := in.SendHeader(md); err != nil {
			return integratorError{err}
		}
	}
	for {
		f := new(frame)
		if err := out.RecvMsg(f); err != nil {
			return err
		}
		if err := in.SendMsg(f); err != nil {
			return integratorError{err}
		}
	}
}

// fromBackend is the status the integrator gets for a backend call that
// did not end with OK. A Sotto service's status passes through as it is
// (code, client-safe message, details, in the service's own ErrorInfo
// domain). A failure on the gateway's side of the connection (the service
// down, a TLS error) carries the transport's text, which names internal
// addresses: it becomes BACKEND_UNAVAILABLE, and anything else without an
// ErrorInfo a bare Internal.
func fromBackend(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return status.Error(codes.Internal, "internal error")
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded:
		return status.Error(st.Code(), st.Code().String())
	case codes.Unavailable:
		if !hasErrorInfo(st) {
			return refusal(codes.Unavailable, ReasonBackendUnavailable, "the service behind this method is unavailable; retry later", nil).Err()
		}
	case codes.Unknown, codes.Internal, codes.DataLoss:
		if !hasErrorInfo(st) {
			return status.Error(codes.Internal, "internal error")
		}
	}
	return st.Err()
}

func hasErrorInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return true
		}
	}
	return false
}
