package events

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/sottohq/sotto/pkg/errs"
)

// A cursor is base64url (no padding) of: format version (1 byte), the log's
// identity (16 bytes), the position (8 bytes, big-endian).
const (
	cursorVersion = 1
	logIDLen      = 16
	cursorLen     = 1 + logIDLen + 8
	// MaxCursorLen is the length of every cursor, in characters: the
	// max_len an API can declare on its cursor field.
	MaxCursorLen = (cursorLen*8 + 5) / 6
)

var cursorEncoding = base64.RawURLEncoding

func (o *Outbox) encodeCursor(pos int64) string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = append(b, o.logID...)
	b = binary.BigEndian.AppendUint64(b, uint64(pos))
	return cursorEncoding.EncodeToString(b)
}

// decodeCursor returns the position of a cursor this log issued. Garbage is
// InvalidArgument INVALID_CURSOR; a well-formed cursor of another log (other
// database, or the tables were recreated) is FailedPrecondition
// CURSOR_EXPIRED, because what the client holds is stale and resynchronising
// is what it must do.
func (o *Outbox) decodeCursor(s string) (int64, error) {
	if len(s) != MaxCursorLen {
		return 0, errCursorInvalid()
	}
	b, err := cursorEncoding.DecodeString(s)
	// Only the issued spelling is accepted (the decoder skips line breaks,
	// and the last character has unused bits).
	if err != nil || len(b) != cursorLen || cursorEncoding.EncodeToString(b) != s || b[0] != cursorVersion {
		return 0, errCursorInvalid()
	}
	pos := binary.BigEndian.Uint64(b[1+logIDLen:])
	if pos > math.MaxInt64 {
		return 0, errCursorInvalid()
	}
	if !bytes.Equal(b[1:1+logIDLen], o.logID) {
		return 0, errs.E(errs.FailedPrecondition, ReasonCursorExpired,
			"cursor is from another event log; resynchronise and start a new feed")
	}
	return int64(pos), nil
}

func errCursorInvalid() error {
	return errs.E(errs.InvalidArgument, ReasonCursorInvalid, "cursor is not one this service issued")
}
