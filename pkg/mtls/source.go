package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/logging"
)

// DefaultCheckInterval is how often, at most, a Source looks at its files'
// modification times. Checks happen lazily on use (a TLS handshake, ID), so an
// idle Source costs nothing.
const DefaultCheckInterval = 5 * time.Second

// Source holds a workload's certificate, private key and trust bundle, read
// from PEM files, and reloads them when the files change so that certificate
// rotation needs no restart. A reload that fails (missing file, key not
// matching the certificate, certificate not chaining to the bundle, ...)
// keeps the previous material and is logged; it is retried at the next check.
//
// The TLS configurations it returns consult the current material on every
// handshake; established connections keep the identity they were made with.
type Source struct {
	files    Files
	logger   *slog.Logger
	interval time.Duration

	cur       atomic.Pointer[material]
	lastCheck atomic.Int64 // UnixNano of the last modification-time check

	mu     sync.Mutex // serialises reloads and guards stamps
	stamps [3]fileStamp
}

// material is one consistent, verified set of certificate, key and bundle.
// It is immutable once built, so handshakes can share it without locking.
type material struct {
	cert  *tls.Certificate
	id    spiffeid.ID
	roots *x509.CertPool
}

// fileStamp identifies a version of a file cheaply. Size is included because
// some file systems have coarse modification times.
type fileStamp struct {
	modNano int64
	size    int64
}

// SourceOption configures a Source.
type SourceOption func(*Source)

// WithCheckInterval sets how often, at most, the Source checks whether its
// files changed. Zero or less means on every use, which is meant for tests.
func WithCheckInterval(d time.Duration) SourceOption {
	return func(s *Source) { s.interval = d }
}

// NewFileSource loads the workload material from f and watches it. It fails
// if the initial material is unusable: a workload must not start without an
// identity. A nil logger means slog.Default().
func NewFileSource(f Files, logger *slog.Logger, opts ...SourceOption) (*Source, error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Source{files: f, logger: logger, interval: DefaultCheckInterval}
	for _, opt := range opts {
		opt(s)
	}
	s.lastCheck.Store(time.Now().UnixNano())
	if err := s.reloadLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload rereads the files now, whether or not they changed. On error the
// previous material stays in use.
func (s *Source) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastCheck.Store(time.Now().UnixNano())
	err := s.reloadLocked()
	if err != nil {
		s.logger.Error("mtls: reload failed, keeping the previous certificate", logging.Err(err))
	}
	return err
}

// ID is the SPIFFE ID of the current workload certificate.
func (s *Source) ID() spiffeid.ID { return s.current().id }

// current returns the material to use now, reloading it first if a check is
// due and the files changed.
func (s *Source) current() *material {
	s.maybeReload()
	return s.cur.Load()
}

func (s *Source) maybeReload() {
	now := time.Now().UnixNano()
	if now-s.lastCheck.Load() < int64(s.interval) {
		return
	}
	// If another goroutine is already checking, use the current material
	// rather than queue a handshake behind disk I/O.
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	s.lastCheck.Store(now)
	stamps, err := s.stat()
	if err != nil {
		s.logger.Error("mtls: cannot check certificate files, keeping the previous certificate", logging.Err(err))
		return
	}
	if stamps == s.stamps {
		return
	}
	if err := s.reloadLocked(); err != nil {
		s.logger.Error("mtls: reload failed, keeping the previous certificate", logging.Err(err))
		return
	}
	s.logger.Info("mtls: reloaded workload certificate", "spiffe_id", s.cur.Load().id.String())
}

// reloadLocked loads the files and, if they are consistent, makes them
// current. The stamps are taken before reading, so a write racing with the
// read is seen as a change at the next check rather than missed. s.mu must be
// held (or s not yet shared).
func (s *Source) reloadLocked() error {
	stamps, err := s.stat()
	if err != nil {
		return err
	}
	m, err := loadMaterial(s.files)
	if err != nil {
		return err
	}
	s.cur.Store(m)
	s.stamps = stamps
	return nil
}

func (s *Source) stat() ([3]fileStamp, error) {
	var out [3]fileStamp
	for i, path := range [3]string{s.files.Cert, s.files.Key, s.files.Bundle} {
		fi, err := os.Stat(path)
		if err != nil {
			return out, errs.Wrap(err, errs.FailedPrecondition, "MTLS_FILE_UNREADABLE", "cannot stat %s", path)
		}
		out[i] = fileStamp{modNano: fi.ModTime().UnixNano(), size: fi.Size()}
	}
	return out, nil
}

// loadMaterial reads and cross-checks the three files: the key must match
// the certificate, the leaf must carry exactly one SPIFFE ID naming a
// workload, the bundle must hold only CA certificates, and the leaf must
// chain to the bundle now (which also rejects an expired certificate).
func loadMaterial(f Files) (*material, error) {
	certPEM, err := os.ReadFile(f.Cert)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "MTLS_FILE_UNREADABLE", "cannot read %s", f.Cert)
	}
	keyPEM, err := os.ReadFile(f.Key)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "MTLS_FILE_UNREADABLE", "cannot read %s", f.Key)
	}
	bundlePEM, err := os.ReadFile(f.Bundle)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "MTLS_FILE_UNREADABLE", "cannot read %s", f.Bundle)
	}

	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "INVALID_KEY_PAIR", "%s and %s do not form a key pair", f.Cert, f.Key)
	}
	leaf := pair.Leaf // populated by X509KeyPair since Go 1.23
	id, err := x509svid.IDFromCert(leaf)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "INVALID_SPIFFE_ID", "%s has no valid SPIFFE ID", f.Cert)
	}
	if id.Path() == "" {
		return nil, errs.E(errs.FailedPrecondition, "INVALID_SPIFFE_ID", "%s names a trust domain, not a workload", f.Cert)
	}

	bundle, err := parseCertsPEM(bundlePEM)
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "INVALID_BUNDLE", "cannot parse %s", f.Bundle)
	}
	roots := x509.NewCertPool()
	for _, ca := range bundle {
		// A leaf in the root pool would be trusted as its own anchor.
		if !ca.BasicConstraintsValid || !ca.IsCA {
			return nil, errs.E(errs.FailedPrecondition, "INVALID_BUNDLE", "%s contains a certificate that is not a CA", f.Bundle)
		}
		roots.AddCert(ca)
	}
	intermediates := x509.NewCertPool()
	for _, der := range pair.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, errs.Wrap(err, errs.FailedPrecondition, "INVALID_CERTIFICATE", "cannot parse %s", f.Cert)
		}
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, "CERTIFICATE_NOT_TRUSTED", "%s does not chain to %s", f.Cert, f.Bundle)
	}
	return &material{cert: &pair, id: id, roots: roots}, nil
}

// ServerTLSConfig is the server side of mutual TLS: TLS 1.3 only, the client
// must present a certificate that chains to the current trust bundle, is
// valid for client authentication, and carries exactly one SPIFFE ID in this
// workload's trust domain. Which workload may call which RPC is decided later
// by pkg/authz.
func (s *Source) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// Set here too so a caller that replaces GetConfigForClient still
		// cannot end up accepting anonymous clients.
		ClientAuth: tls.RequireAndVerifyClientCert,
		// Built per connection so a reloaded certificate or bundle applies to
		// the next handshake without restarting the listener.
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			m := s.current()
			return &tls.Config{
				MinVersion:   tls.VersionTLS13,
				Certificates: []tls.Certificate{*m.cert},
				ClientAuth:   tls.RequireAndVerifyClientCert,
				// A resumed session is re-checked against these ClientCAs by
				// crypto/tls, so a CA removed from the bundle also locks out
				// clients holding a session ticket.
				ClientCAs: m.roots,
				// The standard library has verified the chain; this adds the
				// SPIFFE rules it knows nothing about.
				VerifyConnection: func(cs tls.ConnectionState) error {
					if len(cs.PeerCertificates) == 0 {
						return errs.E(errs.Unauthenticated, "NO_PEER_CERTIFICATE", "client certificate required")
					}
					_, err := peerIDFromLeaf(cs.PeerCertificates[0], m.id.TrustDomain())
					return err
				},
			}, nil
		},
	}
}

// ClientTLSConfig is the client side of mutual TLS: TLS 1.3 only, presents
// the current workload certificate, and accepts the server only if its
// certificate chains to the current trust bundle, is valid for server
// authentication, carries exactly one SPIFFE ID in this workload's trust
// domain, and that ID passes expectServer (see AuthorizeID, AuthorizeMemberOf).
// A nil expectServer rejects every server: there is no implicit allow. A
// refused server fails the RPC with Unavailable and the refusal's reason.
//
// InsecureSkipVerify is set only because the standard verifier checks host
// names, which mean nothing here (services are addressed by IP, DNS or a load
// balancer; their identity is the SPIFFE ID). The chain is verified by hand
// instead, as go-spiffe's tlsconfig does; we do it in VerifyConnection rather
// than VerifyPeerCertificate because only the former also runs on resumed
// sessions. Removing VerifyConnection would make this config accept any server.
func (s *Source) ClientTLSConfig(expectServer func(spiffeid.ID) error) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // verification is done in VerifyConnection, see above
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return s.current().cert, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			m := s.current()
			id, err := verifyServer(cs.PeerCertificates, m)
			if err == nil && expectServer == nil {
				err = errs.E(errs.PermissionDenied, "SERVER_NOT_AUTHORIZED", "no server identity is expected")
			}
			if err == nil {
				err = expectServer(id)
			}
			if err != nil {
				return serverRefused(err)
			}
			return nil
		},
	}
}

// serverRefused classifies a failed server verification for the RPC caller.
// gRPC hands handshake errors to the caller, and status.Code finds the kind
// inside them; to the caller the RPC simply could not reach a trusted server,
// which is Unavailable whatever the cause. PermissionDenied would wrongly
// suggest the caller lacks a permission, and the gateway would pass that on to
// end users. The reason is kept for operators.
func serverRefused(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return &errs.Error{Kind: errs.Unavailable, Reason: e.Reason, Msg: e.Msg, Err: e.Err}
	}
	return errs.Wrap(err, errs.Unavailable, "SERVER_NOT_AUTHORIZED", "server identity was rejected")
}

// verifyServer verifies a server's chain against the current bundle for
// server authentication, ignoring host names, and returns its SPIFFE ID.
func verifyServer(certs []*x509.Certificate, m *material) (spiffeid.ID, error) {
	if len(certs) == 0 {
		return spiffeid.ID{}, errs.E(errs.Unauthenticated, "NO_PEER_CERTIFICATE", "server presented no certificate")
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         m.roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return spiffeid.ID{}, errs.Wrap(err, errs.Unauthenticated, "PEER_NOT_TRUSTED", "server certificate is not trusted")
	}
	return peerIDFromLeaf(certs[0], m.id.TrustDomain())
}

// peerIDFromLeaf applies the SPIFFE X509-SVID rules to a verified leaf: not a
// CA, exactly one URI SAN, a well-formed spiffe:// ID with a path, and in td
// (the only trust domain whose bundle we hold).
func peerIDFromLeaf(leaf *x509.Certificate, td spiffeid.TrustDomain) (spiffeid.ID, error) {
	if leaf.IsCA {
		return spiffeid.ID{}, errs.E(errs.Unauthenticated, "INVALID_PEER_IDENTITY", "peer certificate is a CA certificate")
	}
	id, err := x509svid.IDFromCert(leaf)
	if err != nil {
		return spiffeid.ID{}, errs.Wrap(err, errs.Unauthenticated, "INVALID_PEER_IDENTITY", "peer certificate needs exactly one SPIFFE ID")
	}
	if id.Path() == "" {
		return spiffeid.ID{}, errs.E(errs.Unauthenticated, "INVALID_PEER_IDENTITY", "peer SPIFFE ID names no workload")
	}
	if !id.MemberOf(td) {
		return spiffeid.ID{}, errs.E(errs.Unauthenticated, "FOREIGN_TRUST_DOMAIN", "peer %s is not in trust domain %s", id, td)
	}
	return id, nil
}

// AuthorizeID accepts exactly the server id; for ClientTLSConfig.
func AuthorizeID(id spiffeid.ID) func(spiffeid.ID) error {
	return func(got spiffeid.ID) error {
		if got != id {
			return errs.E(errs.PermissionDenied, "UNEXPECTED_SERVER_ID", "server is %s, expected %s", got, id)
		}
		return nil
	}
}

// AuthorizeMemberOf accepts any server of trust domain td; for
// ClientTLSConfig where the target is not a single known workload.
func AuthorizeMemberOf(td spiffeid.TrustDomain) func(spiffeid.ID) error {
	return func(got spiffeid.ID) error {
		if !got.MemberOf(td) {
			return errs.E(errs.PermissionDenied, "UNEXPECTED_SERVER_ID", "server %s is not in trust domain %s", got, td)
		}
		return nil
	}
}
