package gateway

import (
	"net/url"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictQueryParser rejects query parameters that name no field of the
// request: grpc-gateway ignores them by default, so a typo such as
// ?subjet=... would silently return an unfiltered list.
type strictQueryParser struct{}

func (strictQueryParser) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	for key := range values {
		if !knownField(msg.ProtoReflect().Descriptor(), strings.Split(key, ".")) {
			return status.Error(codes.InvalidArgument, "unknown query parameter")
		}
	}
	return (&runtime.DefaultQueryParser{}).Parse(msg, values, filter)
}

func knownField(md protoreflect.MessageDescriptor, path []string) bool {
	fields := md.Fields()
	fd := fields.ByName(protoreflect.Name(path[0]))
	if fd == nil {
		fd = fields.ByJSONName(path[0])
	}
	if fd == nil {
		return false
	}
	if len(path) == 1 {
		return true
	}
	if fd.Message() == nil || fd.IsMap() || fd.IsList() {
		return false
	}
	return knownField(fd.Message(), path[1:])
}

var _ runtime.QueryParameterParser = strictQueryParser{}
