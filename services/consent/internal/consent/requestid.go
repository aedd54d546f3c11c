package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/consent/internal/reasons"
)

// requestIDTag separates request-id digests from every other use of the
// same key (and from a later scheme, by its version).
const requestIDTag = "sotto/consent/request-id/v1"

// MinRequestKeyLen is the shortest request-id key New accepts: an
// HMAC-SHA256 output.
const MinRequestKeyLen = sha256.Size

// requestDigest is what is stored of a client's request id: the hex
// HMAC-SHA256, under the service's request-id key, of the domain tag, the
// subject and the id, each length-prefixed so that no two (subject, id)
// pairs encode alike. The id's pattern admits a card number or a name, so
// it must not reach the database as it is; a keyed digest (not a plain
// hash) because the id space of a guessed card number or name is small
// enough to search. A missing key fails closed.
func (s *Service) requestDigest(subject, requestID string) (string, error) {
	if len(s.requestKey) < MinRequestKeyLen {
		return "", errs.E(errs.Internal, reasons.RequestKeyMissing, "the request-id key is not configured")
	}
	m := hmac.New(sha256.New, s.requestKey)
	var b []byte
	for _, part := range []string{requestIDTag, subject, requestID} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil)), nil
}
