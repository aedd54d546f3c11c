package mfa

import (
	"crypto/ecdsa"
	"crypto/x509"

	"github.com/descope/virtualwebauthn"
)

// newEC2Credential is a software authenticator's credential whose public
// key encodes as a well-formed COSE key. virtualwebauthn writes the EC2
// coordinates with big.Int.Bytes(), which drops leading zero bytes (about
// one key in 64 has a coordinate under 32 bytes), and go-webauthn rightly
// refuses such a key: that is the test authenticator's bug, so those keys
// are drawn again rather than let a test fail at random.
func newEC2Credential() virtualwebauthn.Credential {
	for {
		cred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		parsed, err := x509.ParsePKCS8PrivateKey(cred.Key.Data)
		if err != nil {
			panic(err)
		}
		k := parsed.(*ecdsa.PrivateKey)
		if len(k.X.Bytes()) == 32 && len(k.Y.Bytes()) == 32 {
			return cred
		}
	}
}
