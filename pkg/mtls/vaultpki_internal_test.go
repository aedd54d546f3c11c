package mtls

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestRenewTime(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name                string
		notBefore, notAfter time.Time
		want                time.Time
	}{
		{
			name:      "two thirds of the lifetime",
			notBefore: received, notAfter: received.Add(3 * time.Hour),
			want: received.Add(2 * time.Hour),
		},
		{
			// Vault backdates NotBefore by 30s; counting from it would put
			// the renewal of a 3s certificate in the past and spin.
			name:      "backdated NotBefore counts from receipt",
			notBefore: received.Add(-30 * time.Second), notAfter: received.Add(3 * time.Second),
			want: received.Add(2 * time.Second),
		},
		{
			name:      "NotBefore after receipt (clock skew)",
			notBefore: received.Add(time.Minute), notAfter: received.Add(time.Minute + 3*time.Hour),
			want: received.Add(time.Minute + 2*time.Hour),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := renewTime(&x509.Certificate{NotBefore: tt.notBefore, NotAfter: tt.notAfter}, received)
			if !got.Equal(tt.want) {
				t.Errorf("renewTime = %v, want %v", got, tt.want)
			}
		})
	}
}
