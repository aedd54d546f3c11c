// Package integratorclient is what a messaging or CRM platform needs to
// call Sotto over the gateway's gRPC edge (ADR 0011, ADR 0014 "Integrators
// over gRPC"): access tokens from the OAuth 2.0 client-credentials grant
// at the gateway's token endpoint, sent with every call, over TLS 1.3.
//
// It is a few dozen lines on net/http and grpc-go rather than
// golang.org/x/oauth2 so that the suite's pkg module needs no new
// dependency; a platform may as well use x/oauth2's clientcredentials with
// grpc's credentials/oauth.TokenSource, which speak the same protocol.
package integratorclient

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ClientCredentials gets access tokens with the client-credentials grant
// (RFC 6749 section 4.4, the client authenticated with HTTP Basic) and
// keeps each until a minute before it expires. It is a
// credentials.PerRPCCredentials: every call carries the current token.
type ClientCredentials struct {
	// TokenURL is the gateway's token endpoint (…/v1/oauth/token).
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Scopes asked for, e.g. conversation.ingest and conversation.watch.
	Scopes []string
	// HTTP is the client for the token endpoint (http.DefaultClient if nil).
	HTTP *http.Client
	// Now is the clock expiry is measured with (time.Now if nil).
	Now func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// Token returns a token that is valid for at least another minute,
// fetching a new one when needed.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && now().Add(time.Minute).Before(c.expiry) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		// The body names the refusal (RFC 6749 error codes); it holds no
		// secret, but is not echoed whole either.
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return "", fmt.Errorf("token endpoint: %s %s", resp.Status, e.Error)
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", errors.New("token endpoint: no access token in the answer")
	}
	c.token, c.expiry = t.AccessToken, now().Add(time.Duration(t.ExpiresIn)*time.Second)
	return c.token, nil
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c *ClientCredentials) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials: a
// token never travels in plaintext.
func (c *ClientCredentials) RequireTransportSecurity() bool { return true }

var _ credentials.PerRPCCredentials = (*ClientCredentials)(nil)

// Dial connects to the gateway's gRPC edge at addr over TLS 1.3 (tlsConfig:
// nil for the system roots) with creds on every call.
func Dial(addr string, tlsConfig *tls.Config, creds *ClientCredentials, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	tlsConfig = tlsConfig.Clone()
	tlsConfig.MinVersion = tls.VersionTLS13
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)), grpc.WithPerRPCCredentials(creds)}, opts...)
	return grpc.NewClient(addr, opts...)
}

// PinnedTLS trusts exactly the certificate whose SHA-256 fingerprint is
// fingerprint (hex): a developer's edge with its self-signed certificate,
// whose fingerprint the gateway logs at start. Production edges have
// certificates from a CA; use the system roots there.
func PinnedTLS(fingerprint string) (*tls.Config, error) {
	want, err := hex.DecodeString(strings.TrimPrefix(fingerprint, "sha256:"))
	if err != nil || len(want) != sha256.Size {
		return nil, errors.New("a fingerprint is 64 hex digits")
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The chain is not checked against roots: the one pinned
		// certificate is the trust.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no certificate")
			}
			sum := sha256.Sum256(raw[0])
			if subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return errors.New("the edge's certificate is not the pinned one")
			}
			return nil
		},
	}, nil
}
