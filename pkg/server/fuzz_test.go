package server

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/sottohq/sotto/gen/go/sotto/audit/v1"
)

// FuzzRequestDecoding runs arbitrary bytes through the server's decoding and
// validation path (the strict codec and the validation interceptor) with a
// real request type: the result is either a valid request reaching the
// handler or InvalidArgument, never a panic or another code.
func FuzzRequestDecoding(f *testing.F) {
	valid, _ := proto.Marshal(&auditv1.AppendEventsRequest{Events: []*auditv1.EventInput{{
		EventId: "0193a5b0-0000-7000-8000-000000000000", OccurTime: timestamppb.Now(),
		Action: "a.b", Outcome: auditv1.Outcome_OUTCOME_SUCCESS,
	}}})
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x2a, 0xff})
	f.Add(append(append([]byte(nil), valid...), 0xf8, 0x06, 0x01))
	codec := newStrictCodec()
	decoded, validate := decodedUnary(codec), validateUnary()
	info := &grpc.UnaryServerInfo{FullMethod: auditv1.AuditService_AppendEvents_FullMethodName}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &auditv1.AppendEventsRequest{}
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, req); err != nil {
			t.Fatalf("strict codec returned an error (gRPC would report Internal): %v", err)
		}
		reached := false
		_, err := decoded(context.Background(), req, info, func(ctx context.Context, req any) (any, error) {
			return validate(ctx, req, info, func(context.Context, any) (any, error) {
				reached = true
				return nil, nil
			})
		})
		if codec.takeFailure(req) {
			t.Fatal("decode failure marker left behind")
		}
		if err != nil && status.Code(err) != codes.InvalidArgument {
			t.Fatalf("code %v, want InvalidArgument: %v", status.Code(err), err)
		}
		if (err == nil) != reached {
			t.Fatalf("handler reached=%v with err=%v", reached, err)
		}
	})
}
