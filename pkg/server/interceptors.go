package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"buf.build/go/protovalidate"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
	"github.com/sottohq/sotto/pkg/mtls"
)

// logUnary and logStream write one line per RPC (see logRPC).
func logUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logRPC(ctx, logger, info.FullMethod, start, err)
		return resp, err
	}
}

func logStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		counted := &countedServerStream{ServerStream: ss}
		err := handler(srv, counted)
		// The allowlist vouches for "count"; the groups say which way.
		logRPC(ss.Context(), logger, info.FullMethod, start, err,
			slog.Group("received", slog.Int64("count", counted.received.Load())),
			slog.Group("sent", slog.Int64("count", counted.sent.Load())))
		return err
	}
}

// logRPC logs only safe fields: method, code, duration, caller SPIFFE ID,
// trace ID and the error's reason. Message contents are never logged.
func logRPC(ctx context.Context, logger *slog.Logger, method string, start time.Time, err error, extra ...slog.Attr) {
	code := status.Code(err)
	level := slog.LevelInfo
	if code == codes.Internal || code == codes.Unknown {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()),
	}
	if id, perr := mtls.PeerID(ctx); perr == nil {
		attrs = append(attrs, slog.String("peer", id.String()))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	if st, ok := status.FromError(err); ok && err != nil {
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				attrs = append(attrs, slog.String("reason", info.Reason))
			}
		}
	}
	logger.LogAttrs(ctx, level, "rpc", append(attrs, extra...)...)
}

// countedServerStream counts the messages a stream carries, for its log line.
// A handler may receive and send from different goroutines.
type countedServerStream struct {
	grpc.ServerStream
	received, sent atomic.Int64
}

func (s *countedServerStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.received.Add(1)
	}
	return err
}

func (s *countedServerStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.sent.Add(1)
	}
	return err
}

// recoverUnary and recoverStream turn a panic into Internal (see recoverPanic).
func recoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer recoverPanic(logger, info.FullMethod, &err)
		return handler(ctx, req)
	}
}

func recoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer recoverPanic(logger, info.FullMethod, &err)
		return handler(srv, ss)
	}
}

// recoverPanic, deferred, sets *err to Internal on a panic, logging the stack
// (which holds no request data) instead of crashing the process. The panic
// value is not logged: it may be anything the handler held.
func recoverPanic(logger *slog.Logger, method string, err *error) {
	if r := recover(); r != nil {
		logger.Error("panic in handler", "method", method, "stack", string(debug.Stack()))
		*err = status.Error(codes.Internal, "internal error")
	}
}

// errorsUnary and errorsStream map handler errors to client-safe statuses
// in the service's ErrorInfo domain (see mapError).
func errorsUnary(logger *slog.Logger, domain string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, mapError(ctx, logger, domain, info.FullMethod, err)
		}
		return resp, nil
	}
}

func errorsStream(logger *slog.Logger, domain string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return mapError(ss.Context(), logger, domain, info.FullMethod, handler(srv, ss))
	}
}

// mapError turns err into the status the client gets (errs.ToStatus, with
// this service's ErrorInfo domain on its own reasons) and
// logs internal errors with logging.Err, whose fields say what failed
// without the cause's text.
func mapError(ctx context.Context, logger *slog.Logger, domain, method string, err error) error {
	if err == nil {
		return nil
	}
	st := errs.InDomain(errs.ToStatus(err), domain)
	if st.Code() == codes.Internal {
		logger.ErrorContext(ctx, "internal error", "method", method, logging.Err(err))
	}
	return st.Err()
}

var errMalformed = func() error {
	return badRequest("MALFORMED_REQUEST", "request is not a valid message (for example, a string field is not valid UTF-8)", nil)
}

// decodedUnary answers requests that failed to decode (see strictCodec) with
// InvalidArgument. It runs first, before authorization, so that the codec's
// failure marker is always taken off again whatever happens next.
func decodedUnary(codec strictCodec) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if codec.takeFailure(req) {
			return nil, errMalformed()
		}
		return handler(ctx, req)
	}
}

// decodedStream does the same for every message a stream receives.
func decodedStream(codec strictCodec) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &decodedServerStream{ServerStream: ss, codec: codec})
	}
}

type decodedServerStream struct {
	grpc.ServerStream
	codec strictCodec
}

func (s *decodedServerStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if s.codec.takeFailure(m) {
		return errMalformed()
	}
	return nil
}

// validateUnary checks each request, and validateStream each message a
// stream receives, with validateMessage.
func validateUnary() grpc.UnaryServerInterceptor {
	validate := newMessageValidator()
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := validate(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func validateStream() grpc.StreamServerInterceptor {
	validate := newMessageValidator()
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatedServerStream{ServerStream: ss, validate: validate})
	}
}

// validatedServerStream refuses a received message by RecvMsg's error, and
// empties it, so a handler that ignores the error still never sees its content.
type validatedServerStream struct {
	grpc.ServerStream
	validate func(msg any) error
}

func (s *validatedServerStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := s.validate(m); err != nil {
		if pm, ok := m.(proto.Message); ok {
			proto.Reset(pm)
		}
		return err
	}
	return nil
}

// newMessageValidator returns validateMessage bound to a protovalidate
// validator, or, if none can be built (only possible with a broken
// protovalidate build), a check that refuses every message.
func newMessageValidator() func(msg any) error {
	validator, err := protovalidate.New()
	if err != nil {
		return func(any) error {
			return errs.E(errs.Internal, "VALIDATOR_UNAVAILABLE", "request validation unavailable")
		}
	}
	return func(msg any) error { return validateMessage(validator, msg) }
}

// validateMessage rejects a message that carries fields this server does not
// know or breaks the proto's protovalidate rules. The violations name fields
// and rules, never the offending values.
func validateMessage(validator protovalidate.Validator, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if path := unknownFieldPath(msg.ProtoReflect(), ""); path != "" {
		return badRequest("UNKNOWN_FIELD", "request has fields this server does not know (in "+path+")", nil)
	}
	if err := validator.Validate(msg); err != nil {
		var verr *protovalidate.ValidationError
		if errors.As(err, &verr) {
			var fields []*errdetails.BadRequest_FieldViolation
			for _, v := range verr.Violations {
				fields = append(fields, &errdetails.BadRequest_FieldViolation{
					Field:       protovalidate.FieldPathString(v.Proto.GetField()),
					Description: v.Proto.GetMessage(),
					Reason:      v.Proto.GetRuleId(),
				})
			}
			return badRequest("INVALID_ARGUMENT", "invalid request: "+summary(fields), fields)
		}
		return badRequest("INVALID_ARGUMENT", "invalid request", nil)
	}
	return nil
}

func summary(fields []*errdetails.BadRequest_FieldViolation) string {
	if len(fields) == 0 {
		return "validation failed"
	}
	// A rule on a whole message (a oneof, a CEL expression over several
	// fields) has no field path: its description stands alone.
	s := fields[0].Description
	if s == "" {
		s = "violates " + fields[0].Reason // the rule's id, when it carries no message
	}
	if fields[0].Reason == "" && fields[0].Description == "" {
		s = "validation failed"
	}
	if fields[0].Field != "" {
		s = fields[0].Field + ": " + s
	}
	if len(fields) > 1 {
		s += " (and more)"
	}
	return s
}

func badRequest(reason, msg string, fields []*errdetails.BadRequest_FieldViolation) error {
	st := status.New(codes.InvalidArgument, msg)
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errs.Domain})
	if err != nil {
		return st.Err()
	}
	if len(fields) > 0 {
		if withFields, err := withInfo.WithDetails(&errdetails.BadRequest{FieldViolations: fields}); err == nil {
			return withFields.Err()
		}
	}
	return withInfo.Err()
}

// unknownFieldPath returns the path of the first message (the root is "request")
// that carries unknown fields, or "".
func unknownFieldPath(m protoreflect.Message, path string) string {
	if path == "" {
		path = "request"
	}
	if len(m.GetUnknown()) > 0 {
		return path
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		child := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				found = unknownFieldPath(l.Get(i).Message(), child)
			}
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = unknownFieldPath(mv.Message(), child)
					return found == ""
				})
			}
		default:
			found = unknownFieldPath(v.Message(), child)
		}
		return found == ""
	})
	return found
}

// drainStream ends a stream when the server begins its graceful stop
// (draining is canceled): the handler's context is canceled, and the client
// gets Unavailable (retry elsewhere), not Canceled (which reads as its own
// doing). Unary calls are short and finish on their own.
func drainStream(draining context.Context) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		stop := context.AfterFunc(draining, cancel)
		defer stop()
		err := handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
		// Ended by the drain while its client is still there: whatever the
		// handler made of its canceled context (a feed returns nil), the
		// client must hear "reconnect", not a clean end of stream.
		if draining.Err() != nil && ctx.Err() != nil && ss.Context().Err() == nil {
			return status.Error(codes.Unavailable, "server shutting down; reconnect")
		}
		return err
	}
}

// contextStream is a ServerStream with a context of its own.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
