package tokens

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneRegions are the regions the test numbers come from: every continent,
// national numbers of 7 to 12 digits, trunk prefixes 0, 1, 8 and none.
var phoneRegions = []string{
	"GB", "US", "DE", "FR", "SE", "AU", "IN", "BR", "JP", "NG",
	"ZA", "MX", "IT", "ES", "NL", "CN", "RU", "CA", "KR", "AE",
}

// zeroPrefixRegions dial abroad with a prefix of zeros, the lenient reading
// a token has to survive: "0" (Samoa, Cape Verde), "00", "000" (Kenya),
// "0[0-3]x" (Singapore), "00[056]" (Tanzania), "011" (NANP), "010" (Japan),
// "0011" (Australia), "0(?:0|[24-7]0|3[03])" (Mauritius).
var zeroPrefixRegions = []string{"WS", "CV", "GB", "KE", "SG", "TZ", "US", "JP", "AU", "MU"}

// validNumber returns a random valid number of region: the region's example
// number of type typ with its last digits drawn at random until
// libphonenumber says the result is a valid number of that region.
func validNumber(t *testing.T, r *rand.Rand, region string, typ phonenumbers.PhoneNumberType) *phonenumbers.PhoneNumber {
	t.Helper()
	ex := phonenumbers.GetExampleNumberForType(region, typ)
	if ex == nil {
		t.Fatalf("no example number for %s", region)
	}
	e164 := phonenumbers.Format(ex, phonenumbers.E164)
	nsn := len(phonenumbers.GetNationalSignificantNumber(ex))
	keep := len(e164) - min(6, nsn-2)
	for range 1000 {
		b := []byte(e164)
		for i := keep; i < len(b); i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		num, err := phonenumbers.Parse(string(b), region)
		if err == nil && phonenumbers.IsValidNumber(num) && phonenumbers.GetRegionCodeForNumber(num) == region {
			return num
		}
	}
	t.Fatalf("no valid random number for %s", region)
	return nil
}

// notANumber fails t unless libphonenumber, given tok with region as the
// default (the country it would be dialled from), reads no number in it.
// That is stronger than IsValidNumber and IsPossibleNumber being false for
// what it reads: it reads nothing, so there is nothing to dial.
func notANumber(t *testing.T, tok, region string) {
	t.Helper()
	num, err := phonenumbers.Parse(tok, region)
	if err == nil {
		t.Fatalf("token %q read in region %q as %s (valid %v, possible %v)", tok, region,
			phonenumbers.Format(num, phonenumbers.E164), phonenumbers.IsValidNumber(num), phonenumbers.IsPossibleNumber(num))
	}
	if !errors.Is(err, phonenumbers.ErrInvalidCountryCode) {
		t.Fatalf("token %q in region %q: %v, want %v", tok, region, err, phonenumbers.ErrInvalidCountryCode)
	}
}

// TestPhoneTokensAreNoNumbers: 10,000 random valid numbers from 20 regions,
// written internationally ("+44 7400 123456") and nationally
// ("07400 123456"), get tokens that libphonenumber reads as no number, not
// as written ("+0000": country code 0 does not exist) and not with any
// region's lenient reading of the digits dialled without their '+'; and
// every token decrypts to its value. Each token is read with no region,
// with its value's and with one that dials abroad with zeros; the first 100
// with every region libphonenumber knows.
func TestPhoneTokensAreNoNumbers(t *testing.T) {
	const n = 10_000
	key := testKey(11)
	r := rand.New(rand.NewPCG(2026, 12))
	regions := make([]string, 0, 256)
	for region := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, region)
	}
	slices.Sort(regions)
	if len(regions) < 200 {
		t.Fatalf("libphonenumber knows %d regions", len(regions))
	}
	national := 0
	for i := range n {
		region := phoneRegions[i%len(phoneRegions)]
		typ := phonenumbers.MOBILE
		if i%2 == 1 {
			typ = phonenumbers.FIXED_LINE
		}
		num := validNumber(t, r, region, typ)
		value := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
		if i%3 == 0 {
			// As a customer types it at home; a national number too short
			// for a token, or with characters Normalize refuses, is
			// written internationally instead.
			if v := phonenumbers.Format(num, phonenumbers.NATIONAL); bigEnough(10, len(asciiDigits(v))) {
				if _, err := Normalize(Phone, v); err == nil {
					value = v
					national++
				}
			}
		}
		norm, err := Normalize(Phone, value)
		if err != nil {
			t.Fatalf("Normalize(Phone, %q): %v", value, err)
		}
		tweak := []byte("default\x00cus_" + strconv.Itoa(i) + "\x00ph\x000")
		tok, err := FormatPreserving(key, tweak, Phone, value)
		if err != nil {
			t.Fatalf("FormatPreserving(%q): %v", value, err)
		}
		if !strings.HasPrefix(tok, phoneTokenPrefix) {
			t.Fatalf("token %q of %q does not start with %q", tok, value, phoneTokenPrefix)
		}
		notANumber(t, tok, "ZZ")
		notANumber(t, tok, region)
		notANumber(t, tok, zeroPrefixRegions[i%len(zeroPrefixRegions)])
		if i < 100 {
			for _, dialFrom := range regions {
				notANumber(t, tok, dialFrom)
			}
		}
		if back, err := FormatPreservingDecrypt(key, tweak, Phone, tok); err != nil || back != norm {
			t.Fatalf("token %q of %q decrypts to %q, %v; want %q", tok, value, back, err, norm)
		}
		// Offered back as a value, a token is refused; offered as a token,
		// it is recognised.
		if _, err := Normalize(Phone, tok); !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("Normalize(Phone, token %q) = %v, want ErrInvalidValue", tok, err)
		}
		if dt, f, err := Parse(tok); err != nil || dt != Phone || f != FormatFPE {
			t.Fatalf("Parse(%q) = %v, %v, %v", tok, dt, f, err)
		}
	}
	if national < n/5 {
		t.Fatalf("only %d of %d numbers written nationally", national, n)
	}
}

// TestPhoneTokenPrefixReadsAsNoNumber: whatever digits follow "+0000", no
// region's international prefix swallows the zeros (country codes never
// start with 0, and no prefix is four zeros), so the first digit after them
// (all ten are tried, with every region libphonenumber knows) never starts
// a country code.
func TestPhoneTokenPrefixReadsAsNoNumber(t *testing.T) {
	for region := range phonenumbers.GetSupportedRegions() {
		for d := '0'; d <= '9'; d++ {
			for _, rest := range []string{"234567", "23456789012345"} {
				notANumber(t, phoneTokenPrefix+string(d)+rest, region)
			}
		}
	}
}
