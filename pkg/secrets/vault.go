package secrets

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/sottohq/sotto/pkg/errs"
)

// Vault is a Store over a KV version 2 engine. The token needs read on
// <mount>/data/<path> for the paths it is asked for; deploy/vault/policies
// holds the production policies.
type Vault struct {
	kv *api.KVv2
}

var _ Store = (*Vault)(nil)

// NewVault returns a Store reading the KV v2 engine mounted at mount
// ("secret" when empty). The client carries the address and token
// (pkg/vaultclient).
func NewVault(client *api.Client, mount string) *Vault {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "secret"
	}
	return &Vault{kv: client.KVv2(mount)}
}

// Get reads the latest version of the secret at path. A deleted or
// destroyed latest version is ErrNotFound, as is a path never written.
// Values that are not strings make the secret ReasonMalformed rather than
// being converted: an operator who wrote a number where a token belongs
// made a mistake worth seeing.
func (v *Vault) Get(ctx context.Context, path string) (map[string]string, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	s, err := v.kv.Get(ctx, path)
	if err != nil {
		return nil, vaultErr(err)
	}
	if s == nil || s.Data == nil {
		return nil, ErrNotFound
	}
	out := make(map[string]string, len(s.Data))
	for k, val := range s.Data {
		str, ok := val.(string)
		if !ok {
			return nil, errs.E(errs.FailedPrecondition, ReasonMalformed, "a secret's values must be strings")
		}
		out[k] = str
	}
	return out, nil
}

// vaultErr maps a KV read's error. The cause is kept for an operator's
// terminal only (errs.Detailed): the api's parse errors can quote the data.
func vaultErr(err error) error {
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		return ErrNotFound
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return errs.Wrap(err, errs.DeadlineExceeded, ReasonBackendUnavailable, "secret backend timed out")
	}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		// No HTTP answer (connection refused, TLS, DNS), or one the api
		// could not parse.
		return errs.Wrap(err, errs.Unavailable, ReasonBackendUnavailable, "secret backend unavailable")
	}
	switch {
	case re.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case re.StatusCode == http.StatusForbidden:
		return errs.Wrap(err, errs.PermissionDenied, ReasonAccessDenied, "access to secret denied")
	case re.StatusCode == http.StatusTooManyRequests, re.StatusCode >= 500:
		return errs.Wrap(err, errs.Unavailable, ReasonBackendUnavailable, "secret backend unavailable")
	}
	return errs.Wrap(err, errs.Internal, "SECRET_BACKEND_ERROR", "secret backend error")
}
