// Package mtls gives Sotto workloads their identity on the wire: an X.509
// certificate whose only URI SAN is a SPIFFE ID (spiffe://<trust-domain>/<service>),
// TLS configurations that require and verify such certificates on both sides
// of every connection, and the ways to obtain them (a development CA for local
// runs, Vault's PKI secrets engine in production).
//
// Material is read from PEM files and reloaded without a restart, so whatever
// writes the files (the dev launcher, RenewLoop, a sidecar) owns rotation.
package mtls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/sottohq/sotto/pkg/errs"
)

// Development CA file names inside the directory given to LoadOrCreateDevCA.
const (
	devCACertFile = "ca.pem"
	devCAKeyFile  = "ca-key.pem"
	bundleFile    = "bundle.pem"
)

const (
	devCALifetime = 10 * 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a peer whose clock is slightly behind
	// does not reject a certificate issued a moment ago.
	clockSkew = time.Minute
)

// CA is a development certificate authority for one trust domain. It is meant
// for local runs (`sotto dev up`, tests); production certificates come from
// Vault PKI (see VaultIssuer).
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// TrustDomain is the only trust domain the CA issues for; its certificate
	// carries a name constraint to that effect.
	TrustDomain spiffeid.TrustDomain
}

// NewCA creates a self-signed ECDSA P-256 CA valid for ten years. Its name
// constraints permit only URI SANs in trustDomain, so even a leaked dev CA key
// cannot mint identities for another trust domain that verifiers accept.
func NewCA(trustDomain string) (*CA, error) {
	td, err := spiffeid.TrustDomainFromString(trustDomain)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "INVALID_TRUST_DOMAIN", "invalid trust domain %q", trustDomain)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "KEY_GENERATION_FAILED", "cannot generate CA key")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Sotto development"}, CommonName: "Sotto development CA " + td.Name()},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(devCALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// Leaves are signed directly; there are no intermediates to allow.
		MaxPathLen:     0,
		MaxPathLenZero: true,
		// The SPIFFE spec lets a signing certificate name its trust domain;
		// LoadOrCreateDevCA uses it to refuse a CA of the wrong trust domain.
		URIs:                []*url.URL{td.ID().URL()},
		PermittedURIDomains: []string{td.Name()},
		// RFC 5280 requires name constraints to be critical (the field name is
		// historical: it marks the whole extension critical).
		PermittedDNSDomainsCritical: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "CERTIFICATE_CREATION_FAILED", "cannot create CA certificate")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "CERTIFICATE_CREATION_FAILED", "cannot parse CA certificate")
	}
	return &CA{Cert: cert, Key: key, TrustDomain: td}, nil
}

// CertPEM is the CA certificate in PEM form, i.e. the trust bundle of its
// workloads.
func (ca *CA) CertPEM() []byte { return pemCerts(ca.Cert.Raw) }

// Issue signs a workload certificate for id, valid for ttl (capped at the CA's
// own expiry). The SPIFFE ID is the only URI SAN; the DNS SAN "localhost" and
// the loopback IP SANs let ordinary TLS tools talk to a dev server too. The
// certificate is good for both server and client authentication because every
// Sotto workload is both.
func (ca *CA) Issue(id spiffeid.ID, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	switch {
	case id.IsZero() || id.Path() == "":
		return nil, nil, errs.E(errs.InvalidArgument, "INVALID_SPIFFE_ID", "a workload SPIFFE ID needs a path")
	case !id.MemberOf(ca.TrustDomain):
		return nil, nil, errs.E(errs.InvalidArgument, "WRONG_TRUST_DOMAIN", "%s is not in trust domain %s", id, ca.TrustDomain)
	case ttl <= 0:
		return nil, nil, errs.E(errs.InvalidArgument, "INVALID_TTL", "certificate lifetime must be positive")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.Internal, "KEY_GENERATION_FAILED", "cannot generate workload key")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	notAfter := now.Add(ttl)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Sotto development"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{id.URL()},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.Internal, "CERTIFICATE_CREATION_FAILED", "cannot sign workload certificate")
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.Internal, "KEY_ENCODING_FAILED", "cannot encode workload key")
	}
	return pemCerts(der), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// LoadOrCreateDevCA loads the CA from dir/ca.pem and dir/ca-key.pem, or creates
// both (and dir, mode 0700) when neither exists. It refuses a CA of another
// trust domain and a directory holding only one of the two files, rather than
// silently replacing a CA that workloads may already trust.
//
// It is not safe for concurrent use by several processes: the launcher creates
// the CA once before it starts the services.
func LoadOrCreateDevCA(dir, trustDomain string) (*CA, error) {
	td, err := spiffeid.TrustDomainFromString(trustDomain)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidArgument, "INVALID_TRUST_DOMAIN", "invalid trust domain %q", trustDomain)
	}
	certPath, keyPath := filepath.Join(dir, devCACertFile), filepath.Join(dir, devCAKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return parseCA(certPEM, keyPEM, td)
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		// Fresh directory: create below.
	case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
		return nil, errs.Wrap(certErr, errs.Internal, "DEV_CA_UNREADABLE", "cannot read %s", certPath)
	case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
		return nil, errs.Wrap(keyErr, errs.Internal, "DEV_CA_UNREADABLE", "cannot read %s", keyPath)
	default:
		return nil, errs.E(errs.FailedPrecondition, "DEV_CA_INCOMPLETE", "%s holds only one of %s and %s", dir, devCACertFile, devCAKeyFile)
	}

	ca, err := NewCA(trustDomain)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "KEY_ENCODING_FAILED", "cannot encode CA key")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errs.Wrap(err, errs.Internal, "MTLS_WRITE_FAILED", "cannot create %s", dir)
	}
	// Key first: a crash in between leaves "only the key", which the next run
	// reports instead of pairing a new certificate with nothing.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), keyFileMode); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(certPath, ca.CertPEM(), certFileMode); err != nil {
		return nil, err
	}
	return ca, nil
}

// parseCA checks that a stored CA is a CA, belongs to td, and that its key
// matches its certificate.
func parseCA(certPEM, keyPEM []byte, td spiffeid.TrustDomain) (*CA, error) {
	certs, err := parseCertsPEM(certPEM)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, errs.E(errs.FailedPrecondition, "DEV_CA_INVALID", "%s is not a CA certificate", devCACertFile)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != td.IDString() {
		return nil, errs.E(errs.FailedPrecondition, "DEV_CA_WRONG_TRUST_DOMAIN", "the development CA does not belong to trust domain %s", td)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errs.E(errs.FailedPrecondition, "DEV_CA_KEY_MISMATCH", "%s does not match %s", devCAKeyFile, devCACertFile)
	}
	return &CA{Cert: cert, Key: key, TrustDomain: td}, nil
}

// WriteWorkload issues a certificate for id and writes <dir>/<name>.pem,
// <dir>/<name>-key.pem (mode 0600) and <dir>/bundle.pem (the CA), where name
// is the last path segment of id ("audit" for spiffe://sotto.test/audit).
// Each file is replaced atomically, so a running Source can pick them up.
func WriteWorkload(dir string, ca *CA, id spiffeid.ID, ttl time.Duration) (Files, error) {
	name := lastSegment(id)
	if name == "" {
		return Files{}, errs.E(errs.InvalidArgument, "INVALID_SPIFFE_ID", "a workload SPIFFE ID needs a path")
	}
	certPEM, keyPEM, err := ca.Issue(id, ttl)
	if err != nil {
		return Files{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, errs.Wrap(err, errs.Internal, "MTLS_WRITE_FAILED", "cannot create %s", dir)
	}
	f := Files{
		Cert:   filepath.Join(dir, name+".pem"),
		Key:    filepath.Join(dir, name+"-key.pem"),
		Bundle: filepath.Join(dir, bundleFile),
	}
	if err := writeFiles(f, certPEM, keyPEM, ca.CertPEM()); err != nil {
		return Files{}, err
	}
	return f, nil
}

// writeFiles replaces the three files of f. The bundle goes first so that a
// reader never sees a certificate from a CA it does not yet trust; the key
// goes before the certificate so the window in which they mismatch (which a
// Source rejects and retries) is as short as possible.
func writeFiles(f Files, certPEM, keyPEM, bundlePEM []byte) error {
	if err := writeFileAtomic(f.Bundle, bundlePEM, certFileMode); err != nil {
		return err
	}
	if err := writeFileAtomic(f.Key, keyPEM, keyFileMode); err != nil {
		return err
	}
	return writeFileAtomic(f.Cert, certPEM, certFileMode)
}

// lastSegment is the final path segment of id, which spiffeid has already
// validated to be a safe file name (no "/", ".", ".." or empty segments).
func lastSegment(id spiffeid.ID) string {
	p := id.Path()
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return ""
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "KEY_GENERATION_FAILED", "cannot generate serial number")
	}
	return serial, nil
}
