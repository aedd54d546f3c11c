package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// errTrailingData: the body holds more than one JSON value. grpc-gateway
// wraps it in an InvalidArgument status, which handleError answers with
// 400 MALFORMED_REQUEST (the text, which is never sent, names no input).
var errTrailingData = errors.New("request body has data after its JSON value")

// strictJSON is grpc-gateway's JSONPb whose request decoder takes one JSON
// value and nothing after it but white space. JSONPb's own decoder reads
// the first value and ignores the rest, so `{"text":"hi"} garbage` (or two
// objects, of which a proxy or WAF might read the other) would be accepted.
type strictJSON struct {
	*runtime.JSONPb
}

func (m strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r).(runtime.DecoderWrapper)
	return runtime.DecoderFunc(func(v any) error {
		if err := d.Decode(v); err != nil {
			return err
		}
		// Token skips white space; anything but the end of the body is
		// trailing data (a further value, or bytes that are not JSON).
		_, err := d.Decoder.Token()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &tooLarge):
			// Cut off by limitBody while looking: 413, as for any other
			// oversized body.
			return err
		default:
			return errTrailingData
		}
	})
}
