package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
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

// logUnary logs one line per RPC with only safe fields: method, code,
// duration, caller SPIFFE ID and trace ID. Request and response bodies are
// never logged.
func logUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		level := slog.LevelInfo
		if code == codes.Internal || code == codes.Unknown {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("method", info.FullMethod),
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
		logger.LogAttrs(ctx, level, "rpc", attrs...)
		return resp, err
	}
}

// recoverUnary turns a panic into Internal, logging the stack (which holds no
// request data) instead of crashing the process.
func recoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("panic in handler", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("panic in handler", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}

// errorsUnary maps handler errors to client-safe statuses (see errs.ToStatus)
// and logs the private cause of internal errors.
func errorsUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		st := errs.ToStatus(err)
		if st.Code() == codes.Internal {
			logger.ErrorContext(ctx, "internal error", "method", info.FullMethod, logging.Err(err))
		}
		return nil, st.Err()
	}
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

// validateUnary rejects requests that carry fields this server does not
// know or break the proto's protovalidate rules. The violations name fields
// and rules, never the offending values.
func validateUnary() grpc.UnaryServerInterceptor {
	validator, err := protovalidate.New()
	if err != nil {
		// Only possible with a broken protovalidate build; fail every call closed.
		return func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
			return nil, errs.E(errs.Internal, "VALIDATOR_UNAVAILABLE", "request validation unavailable")
		}
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if path := unknownFieldPath(msg.ProtoReflect(), ""); path != "" {
			return nil, badRequest("UNKNOWN_FIELD", "request has fields this server does not know (in "+path+")", nil)
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
				return nil, badRequest("INVALID_ARGUMENT", "invalid request: "+summary(fields), fields)
			}
			return nil, badRequest("INVALID_ARGUMENT", "invalid request", nil)
		}
		return handler(ctx, req)
	}
}

func summary(fields []*errdetails.BadRequest_FieldViolation) string {
	if len(fields) == 0 {
		return "validation failed"
	}
	s := fields[0].Field + ": " + fields[0].Description
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
