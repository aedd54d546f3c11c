package mfa

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/sottohq/sotto/pkg/errs"
)

// oathtool returns the path of Debian's oathtool (OATH Toolkit), an
// implementation of RFC 6238 independent of pquerna/otp. Outside CI a
// machine without it skips; with CI=true a missing oathtool fails, so the
// interoperability check is never silently lost there.
func oathtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("oathtool is not installed, and CI=true requires the TOTP interoperability test (apt-get install -y oathtool)")
	}
	t.Skip("oathtool is not installed (apt-get install -y oathtool); skipping the TOTP interoperability test (it fails under CI=true)")
	return ""
}

// oathtoolCode asks oathtool for the TOTP code of key at instant at. The key
// goes through stdin, not argv, so other processes cannot read it.
func oathtoolCode(t *testing.T, bin string, key string, base32Key bool, digits int, at time.Time) string {
	t.Helper()
	args := []string{"--totp", "-d", fmt.Sprint(digits), "--now", at.UTC().Format("2006-01-02 15:04:05 UTC")}
	if base32Key {
		args = append(args, "-b")
	}
	cmd := exec.Command(bin, append(args, "-")...)
	cmd.Stdin = strings.NewReader(key + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oathtool %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestTOTPAcceptsOathtoolCodes: the secret an authenticator app reads from
// the enrolment's otpauth URI, given to oathtool, yields codes Verify accepts
// at their step, and one step either way, but not two.
func TestTOTPAcceptsOathtoolCodes(t *testing.T) {
	t.Parallel()
	bin := oathtool(t)
	ctx := context.Background()
	tp := newTestTOTP(t, newKeys(t))
	for _, at := range []time.Time{
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2031, 7, 19, 23, 59, 59, 0, time.UTC),
		time.Unix(1111111109, 0),
		time.Now().Truncate(time.Second),
	} {
		t.Run(at.Format(time.RFC3339), func(t *testing.T) {
			e, err := tp.Enrol(ctx, refA, "customer", at)
			if err != nil {
				t.Fatal(err)
			}
			key, err := otp.NewKeyFromURL(e.URI)
			if err != nil {
				t.Fatal(err)
			}
			code := oathtoolCode(t, bin, key.Secret(), true, 6, at)
			step, err := tp.Confirm(ctx, refA, e.WrappedSecret, e.ExpiresAt, code, at)
			if err != nil {
				t.Fatalf("oathtool's code %s refused: %v", code, errs.Detailed(err))
			}
			if want := at.Unix() / 30; step != want {
				t.Errorf("step = %d, want %d", step, want)
			}
			// The phone's clock a step ahead or behind the server's.
			for _, d := range []time.Duration{-30 * time.Second, 30 * time.Second} {
				c := oathtoolCode(t, bin, key.Secret(), true, 6, at.Add(d))
				if _, err := tp.Verify(ctx, refA, e.WrappedSecret, c, 0, at); err != nil {
					t.Errorf("oathtool's code for %v refused: %v", d, errs.Detailed(err))
				}
			}
			for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second} {
				c := oathtoolCode(t, bin, key.Secret(), true, 6, at.Add(d))
				near := map[string]bool{}
				for _, n := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
					near[oathtoolCode(t, bin, key.Secret(), true, 6, at.Add(n))] = true
				}
				if near[c] {
					continue // two steps share a code (one chance in 10^6)
				}
				_, err := tp.Verify(ctx, refA, e.WrappedSecret, c, 0, at)
				wantErr(t, err, errs.Unauthenticated, ReasonTOTPCodeInvalid)
			}
		})
	}
}

// TestTOTPOathtoolRFCSeed: oathtool's 8-digit codes for the RFC 6238 seed at
// the Appendix B instants, through the same Verify path.
func TestTOTPOathtoolRFCSeed(t *testing.T) {
	t.Parallel()
	bin := oathtool(t)
	ctx := context.Background()
	tp := newTestTOTP(t, newKeys(t))
	tp.digits = 8
	seed := "12345678901234567890"
	wrapped, err := tp.wrap(ctx, refA, []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	hexSeed := fmt.Sprintf("%x", seed)
	for _, unix := range []int64{59, 1111111109, 1111111111, 1234567890, 2000000000} {
		at := time.Unix(unix, 0)
		code := oathtoolCode(t, bin, hexSeed, false, 8, at)
		step, err := tp.Verify(ctx, refA, wrapped, code, 0, at)
		if err != nil || step != unix/30 {
			t.Errorf("oathtool code %s at %d: step %d, %v; want %d", code, unix, step, err, unix/30)
		}
	}
}
