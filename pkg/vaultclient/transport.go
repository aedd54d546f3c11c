package vaultclient

import (
	"context"
	"io"
	"net/http"

	"github.com/hashicorp/vault/api"
)

// tokenSource supplies the token for each request.
type tokenSource interface {
	// token returns the token to send now, or an *errs.Error saying why
	// there is none (the request is then not sent).
	token(ctx context.Context) (string, error)
	// refresh is called after Vault answered 403 to a request made with
	// used. It returns a token worth retrying with, or "" when the denial
	// stands (the token did not change, or Vault still accepts it and the
	// 403 came from a policy).
	refresh(ctx context.Context, used string) (string, error)
}

// tokenTransport sets X-Vault-Token from src on every request and retries a
// request once after a 403 when src has a newer token.
type tokenTransport struct {
	base http.RoundTripper
	src  tokenSource
}

// authError marks a failure to obtain a token, so that the api client's
// retry policy does not retry it as if it were a network error.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.src.token(ctx)
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip owns the body, even on error
		}
		return nil, &authError{err}
	}
	resp, err := t.base.RoundTrip(withToken(req, tok))
	if err != nil || resp.StatusCode != http.StatusForbidden {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot replay the body; the 403 stands
	}
	next, err := t.src.refresh(ctx, tok)
	if err != nil || next == "" || next == tok {
		// A source that cannot refresh now fails the next request; this
		// one keeps Vault's answer.
		return resp, nil
	}
	retry := withToken(req, next)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return t.base.RoundTrip(retry)
}

// withToken returns a copy of req carrying tok (none when tok is empty).
// The copy shares req's body.
func withToken(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Del(api.AuthHeaderName)
	if tok != "" {
		r.Header.Set(api.AuthHeaderName, tok)
	}
	return r
}

// staticToken is a fixed token (SOTTO_VAULT_TOKEN), or none.
type staticToken string

func (s staticToken) token(context.Context) (string, error)           { return string(s), nil }
func (s staticToken) refresh(context.Context, string) (string, error) { return "", nil }
