package server

import (
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// grpc-go reports any codec failure (for example a string field holding invalid
// UTF-8) as codes.Internal before interceptors run, which tells a client the
// server is broken when the client sent bad input. strictCodec decodes exactly
// like the standard proto codec but, on failure, leaves the message empty,
// remembers the failure, and lets the validation interceptor answer
// InvalidArgument. The marker is removed by decodedUnary, the first
// interceptor after recovery on every unary call, and by decodedStream for
// every message a stream receives, so no marker outlives its call.
type strictCodec struct {
	encoding.CodecV2
	failed *sync.Map // proto.Message → struct{}
}

func newStrictCodec() strictCodec {
	return strictCodec{CodecV2: encoding.GetCodecV2("proto"), failed: &sync.Map{}}
}

func (c strictCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.CodecV2.Unmarshal(data, v); err != nil {
		m, ok := v.(proto.Message)
		if !ok {
			return err
		}
		proto.Reset(m)
		c.failed.Store(m, struct{}{})
	}
	return nil
}

// takeFailure reports (and forgets) whether req failed to decode.
func (c strictCodec) takeFailure(req any) bool {
	_, ok := c.failed.LoadAndDelete(req)
	return ok
}
