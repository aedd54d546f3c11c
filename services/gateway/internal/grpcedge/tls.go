package grpcedge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/logging"
)

// The edge authenticates itself to integrators with a certificate for its
// public name; integrators authenticate with access tokens, not
// certificates (they have no SPIFFE identity), so no client certificate is
// asked for. TLS 1.3 only, as everywhere in the suite.

// TLS is the edge's server certificate.
type TLS struct {
	// Config is the server's TLS configuration.
	Config *tls.Config
	// Description says where the certificate comes from, for the log:
	// "files" or "self-signed sha256:<fingerprint>".
	Description string
}

// ServerTLS builds the edge's TLS configuration. With certFile and keyFile
// (PEM) the certificate is loaded, and loaded again when either file
// changes (a renewed certificate needs no restart). With neither, and only
// when addr is a loopback address (the embedded default), the edge makes a
// self-signed certificate for localhost, 127.0.0.1 and ::1 at start: a
// local client can still use TLS (checking the logged fingerprint, or not
// verifying), and nothing ever travels in plaintext. A public address
// without certificate files is a configuration error, never a self-signed
// certificate.
func ServerTLS(addr, certFile, keyFile string, logger *slog.Logger) (*TLS, error) {
	switch {
	case certFile != "" && keyFile != "":
		fc, err := newFileCert(certFile, keyFile, logger, 5*time.Second)
		if err != nil {
			return nil, err
		}
		return &TLS{Config: serverConfig(fc.get), Description: "files"}, nil
	case certFile != "" || keyFile != "":
		return nil, errors.New("grpc edge: set both SOTTO_GATEWAY_GRPC_TLS_CERT and SOTTO_GATEWAY_GRPC_TLS_KEY, or neither")
	}
	if !loopback(addr) {
		return nil, fmt.Errorf("grpc edge: %s is not a loopback address; set SOTTO_GATEWAY_GRPC_TLS_CERT and SOTTO_GATEWAY_GRPC_TLS_KEY (a self-signed certificate is only made for loopback)", addr)
	}
	cert, err := SelfSigned(time.Now())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cert.Leaf.Raw)
	get := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }
	return &TLS{Config: serverConfig(get), Description: "self-signed sha256:" + hex.EncodeToString(sum[:])}, nil
}

func serverConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		ClientAuth:     tls.NoClientCert,
		GetCertificate: get,
	}
}

// loopback reports whether addr (host:port) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// SelfSigned makes an ECDSA P-256 certificate for localhost, 127.0.0.1 and
// ::1, valid for a year from now. Its key exists only in memory.
func SelfSigned(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sotto gateway (self-signed, local only)"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// fileCert is a certificate and key read from PEM files, read again when
// either file's size or modification time changes (checked at most once per
// interval, at a handshake). A pair that does not load (a renewal caught
// half-written) keeps the previous one in use and is retried.
type fileCert struct {
	certFile, keyFile string
	logger            *slog.Logger
	interval          time.Duration

	mu      sync.Mutex
	current *tls.Certificate
	stamps  [2]stamp
	checked time.Time
}

type stamp struct {
	size int64
	mod  time.Time
}

func newFileCert(certFile, keyFile string, logger *slog.Logger, interval time.Duration) (*fileCert, error) {
	fc := &fileCert{certFile: certFile, keyFile: keyFile, logger: logger, interval: interval}
	if err := fc.load(time.Now()); err != nil {
		return nil, err
	}
	return fc, nil
}

func (fc *fileCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	now := time.Now()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if now.Sub(fc.checked) >= fc.interval {
		fc.checked = now
		if stamps, err := fc.stat(); err == nil && stamps != fc.stamps {
			if err := fc.loadLocked(now); err != nil {
				fc.logger.Warn("grpc edge certificate not reloaded; the previous one stays in use", logging.Err(err))
			}
		}
	}
	return fc.current, nil
}

func (fc *fileCert) load(now time.Time) error {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.loadLocked(now)
}

func (fc *fileCert) loadLocked(now time.Time) error {
	stamps, err := fc.stat()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(fc.certFile, fc.keyFile)
	if err != nil {
		return fmt.Errorf("grpc edge certificate: %w", err)
	}
	if now.After(cert.Leaf.NotAfter) {
		return fmt.Errorf("grpc edge certificate %s expired on %s", fc.certFile, cert.Leaf.NotAfter.Format(time.DateOnly))
	}
	fc.current, fc.stamps, fc.checked = &cert, stamps, now
	return nil
}

func (fc *fileCert) stat() ([2]stamp, error) {
	var out [2]stamp
	for i, name := range []string{fc.certFile, fc.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return out, fmt.Errorf("grpc edge certificate: %w", err)
		}
		out[i] = stamp{size: fi.Size(), mod: fi.ModTime()}
	}
	return out, nil
}
