// Package secrets reads integration secrets that an operator keeps per shop:
// a messaging platform's app secret and tokens, say. They are small maps of
// strings at slash-separated paths, kept in Vault's KV version 2 engine in
// production (Vault) or, in the embedded default, in a local JSON file that
// only its owner may read (File). Cache keeps recent answers for a short
// time so that a webhook per message does not cost a Vault read.
//
// Key material the services derive or wrap is pkg/keys' business (Vault
// Transit); this package is for values a third party issued, which have to
// be read back as they are.
//
// # Paths
//
// A path is lower-case segments of [a-z0-9_-] separated by "/", relative to
// the KV mount (SOTTO_VAULT_KV_MOUNT, "secret"), so the channel secrets of
// shop acme on WhatsApp are the KV v2 secret secret/sotto/channels/acme/whatsapp
// (API path secret/data/sotto/channels/acme/whatsapp). The suite's paths:
//
//	sotto/channels/<tenant>/whatsapp   app_secret, verify_token, phone_number_id,
//	                                   access_token (and app_secret_previous
//	                                   while the app secret is rotated)
//	sotto/channels/<tenant>/messenger  app_secret, verify_token, page_id,
//	                                   page_access_token (and app_secret_previous)
//
// The gateway reads the first three of each (webhook signatures and the
// subscription handshake); the conversation service the tokens it sends
// replies with.
package secrets

import (
	"context"
	"regexp"

	"github.com/sottohq/sotto/pkg/errs"
)

// Store reads secrets. Get returns the secret at path (a copy the caller
// may keep), ErrNotFound when there is none, or another *errs.Error when
// the store cannot answer (Unavailable, PermissionDenied, FailedPrecondition
// for a bad local file).
type Store interface {
	Get(ctx context.Context, path string) (map[string]string, error)
}

// Reasons of this package's errors.
const (
	ReasonNotFound           = "SECRET_NOT_FOUND"
	ReasonPathInvalid        = "SECRET_PATH_INVALID"
	ReasonBackendUnavailable = "SECRET_BACKEND_UNAVAILABLE"
	ReasonAccessDenied       = "SECRET_ACCESS_DENIED"
	ReasonMalformed          = "SECRET_MALFORMED"
	ReasonFilePermissions    = "SECRETS_FILE_PERMISSIONS"
	ReasonFileUnreadable     = "SECRETS_FILE_UNREADABLE"
)

// ErrNotFound is the error for a path that holds no secret; compare with
// errors.Is.
var ErrNotFound = errs.E(errs.NotFound, ReasonNotFound, "no secret at this path")

// Channel platforms' path segments.
const (
	WhatsApp  = "whatsapp"
	Messenger = "messenger"
)

// Keys of the channel secrets.
const (
	KeyAppSecret         = "app_secret"
	KeyAppSecretPrevious = "app_secret_previous"
	KeyVerifyToken       = "verify_token"
	KeyAccessToken       = "access_token"      // WhatsApp Cloud API
	KeyPhoneNumberID     = "phone_number_id"   // WhatsApp Cloud API
	KeyPageAccessToken   = "page_access_token" // Messenger
	KeyPageID            = "page_id"           // Messenger
)

// ChannelPath is the path of tenant's secrets for platform (WhatsApp or
// Messenger). The caller checks tenant; Get refuses a path that is not
// well-formed.
func ChannelPath(tenant, platform string) string {
	return "sotto/channels/" + tenant + "/" + platform
}

var validPath = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$`)

// checkPath refuses paths that could leave the intended subtree ("..", an
// empty or absolute segment) or are longer than any of ours.
func checkPath(path string) error {
	if len(path) > 256 || !validPath.MatchString(path) {
		return errs.E(errs.InvalidArgument, ReasonPathInvalid, "invalid secret path")
	}
	return nil
}
