package mtls

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"

	"github.com/sottohq/sotto/pkg/errs"
)

// Files names the three PEM files a workload needs: its certificate (leaf
// first, then any intermediates), its private key, and the trust bundle (the
// CA certificates it accepts peers from).
type Files struct {
	Cert   string
	Key    string
	Bundle string
}

// File modes: private keys are readable by the owner only; certificates are
// public material.
const (
	keyFileMode  os.FileMode = 0o600
	certFileMode os.FileMode = 0o644
)

// writeFileAtomic writes data to a temporary file in the same directory and
// renames it over path, so a Source watching path never reads a half-written
// file. The temporary file is created with mode perm from the start, so a key
// is never briefly world-readable.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return errs.Wrap(err, errs.Internal, "MTLS_WRITE_FAILED", "cannot write %s", path)
	}
	name := tmp.Name()
	// CreateTemp uses 0600 already; Chmod makes certificates readable as asked.
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return errs.Wrap(err, errs.Internal, "MTLS_WRITE_FAILED", "cannot write %s", path)
	}
	return nil
}

// pemCerts encodes DER certificates as concatenated PEM CERTIFICATE blocks.
func pemCerts(ders ...[]byte) []byte {
	var out []byte
	for _, der := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// parseCertsPEM parses every CERTIFICATE block of data, in order, and ignores
// other blocks (some tools append comments or keys to bundles).
func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, errs.Wrap(err, errs.FailedPrecondition, "INVALID_CERTIFICATE", "cannot parse certificate")
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errs.E(errs.FailedPrecondition, "INVALID_CERTIFICATE", "no PEM certificate found")
	}
	return certs, nil
}

// parseKeyPEM parses the first private key of data: PKCS#8 as we write it,
// or the SEC 1 / PKCS#1 forms Vault returns by default.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errs.E(errs.FailedPrecondition, "INVALID_PRIVATE_KEY", "no PEM private key found")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, errs.Wrap(err, errs.FailedPrecondition, "INVALID_PRIVATE_KEY", "cannot parse private key")
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, errs.E(errs.FailedPrecondition, "INVALID_PRIVATE_KEY", "unsupported private key type")
		}
		return signer, nil
	}
}
