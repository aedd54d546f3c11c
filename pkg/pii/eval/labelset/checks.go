package labelset

// The checks below re-implement, independently of pkg/pii, the validity rules that
// ../shared/PII-LABELS.md gives for each checksum-decided type. They exist so the
// labelled set can prove its own gold labels are right (a CARD label that fails Luhn
// would reward a detector for a false positive), and so look-alikes marked as such
// prove they really fail. They are written from the public specifications, not
// shared with the engine, so one bug cannot make both sides agree.

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// digitsOnly returns the ASCII digits of s, dropping separators (spaces, dashes,
// dots, slashes, line breaks). ok is false when s holds anything else.
func digitsOnly(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '\n' || r == '\u00a0':
		default:
			return "", false
		}
	}
	return b.String(), true
}

// compact upper-cases s and drops spaces, dashes, dots and line breaks.
func compact(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == ' ' || r == '-' || r == '.' || r == '\n' || r == '\u00a0' {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// Luhn reports whether the digit string passes the Luhn (mod 10) check.
func Luhn(d string) bool {
	if d == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// CardBrand names the brand a PAN's prefix and length belong to, or "" when none
// of the major brands issues such a number.
func CardBrand(d string) string {
	n := len(d)
	p := func(k int) int {
		if len(d) < k {
			return -1
		}
		v := 0
		for i := 0; i < k; i++ {
			v = v*10 + int(d[i]-'0')
		}
		return v
	}
	switch {
	case d[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p(2) >= 51 && p(2) <= 55 || p(4) >= 2221 && p(4) <= 2720) && n == 16:
		return "mastercard"
	case (p(2) == 34 || p(2) == 37) && n == 15:
		return "amex"
	case (p(4) == 6011 || p(3) >= 644 && p(3) <= 649 || p(2) == 65) && n >= 16 && n <= 19:
		return "discover"
	case p(4) >= 3528 && p(4) <= 3589 && n >= 16 && n <= 19:
		return "jcb"
	case (p(3) >= 300 && p(3) <= 305 || p(2) == 36 || p(2) == 38 || p(2) == 39) && n >= 14 && n <= 19:
		return "diners"
	case p(2) == 62 && n >= 16 && n <= 19:
		return "unionpay"
	case (p(2) == 50 || p(2) >= 56 && p(2) <= 69) && n >= 13 && n <= 19:
		return "maestro"
	}
	return ""
}

// CheckCard returns nil when s is a PAN as the contract defines it: 13–19 digits
// of a major brand passing Luhn, with only separators around the digits.
func CheckCard(s string) error {
	d, ok := digitsOnly(s)
	if !ok {
		return fmt.Errorf("card %q: characters other than digits and separators", s)
	}
	if len(d) < 13 || len(d) > 19 {
		return fmt.Errorf("card %q: %d digits", s, len(d))
	}
	if CardBrand(d) == "" {
		return fmt.Errorf("card %q: no major brand issues this prefix/length", s)
	}
	if !Luhn(d) {
		return fmt.Errorf("card %q: fails Luhn", s)
	}
	return nil
}

// ibanLengths is the SWIFT IBAN registry's length per country.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
	"DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
	"IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
	"LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
	"SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
	"TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanMod97 computes the ISO 13616 remainder of a compact, upper-case IBAN.
func ibanMod97(c string) (int, bool) {
	r := c[4:] + c[:4]
	var b strings.Builder
	for _, ch := range r {
		switch {
		case ch >= '0' && ch <= '9':
			b.WriteRune(ch)
		case ch >= 'A' && ch <= 'Z':
			fmt.Fprintf(&b, "%d", ch-'A'+10)
		default:
			return 0, false
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	if !ok {
		return 0, false
	}
	return int(new(big.Int).Mod(n, big.NewInt(97)).Int64()), true
}

// CheckIBAN returns nil when s is a valid IBAN: known country, its length, mod-97 = 1.
func CheckIBAN(s string) error {
	c := compact(s)
	if len(c) < 5 {
		return fmt.Errorf("iban %q: too short", s)
	}
	want, ok := ibanLengths[c[:2]]
	if !ok {
		return fmt.Errorf("iban %q: unknown country", s)
	}
	if len(c) != want {
		return fmt.Errorf("iban %q: %d characters, %s has %d", s, len(c), c[:2], want)
	}
	m, ok := ibanMod97(c)
	if !ok || m != 1 {
		return fmt.Errorf("iban %q: mod-97 fails", s)
	}
	return nil
}

// idSchemes lists the national identifiers a message of each language may carry:
// the contract's schemes, each bound to its country's language, so a Dutch
// "BSN" that fails the 11-proof is not excused by happening to be SSN-shaped.
var idSchemes = map[string][]struct {
	name  string
	check func(string) bool
}{
	"en": {{"us-ssn", validSSN}, {"uk-nino", validNINO}},
	"de": {{"de-steuerid", validSteuerID}},
	"fr": {{"fr-nir", validNIR}},
	"es": {{"es-dni", validDNI}, {"es-nie", validNIE}},
	"nl": {{"nl-bsn", validBSN}},
	"it": {{"it-cf", validCF}},
}

// NationalIDKind names which of lang's national identifiers s is valid as, or "".
func NationalIDKind(s, lang string) string {
	for _, k := range idSchemes[lang] {
		if k.check(s) {
			return k.name
		}
	}
	return ""
}

// CheckNationalID returns nil when s is valid under one of lang's ID schemes.
func CheckNationalID(s, lang string) error {
	if NationalIDKind(s, lang) == "" {
		return fmt.Errorf("national id %q: valid under no %s scheme", s, lang)
	}
	return nil
}

// The written forms each scheme is labelled in, as PII-LABELS.md lists them; a
// gold value in any other form would be a label the contract does not promise.
var (
	ssnForm    = regexp.MustCompile(`^(\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9})$`)
	ninoForm   = regexp.MustCompile(`^[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Z]$`)
	steuerForm = regexp.MustCompile(`^\d[\d ]{9,14}\d$`)
	dniForm    = regexp.MustCompile(`^(\d{8}|\d{2}\.\d{3}\.\d{3})[- ]?[A-Z]$`)
	nieForm    = regexp.MustCompile(`^[XYZ]\d{7}[- ]?[A-Z]$`)
	nirForm    = regexp.MustCompile(`^[12][\dAB ]{13,19}\d$`)
	bsnForm    = regexp.MustCompile(`^(\d{9}|\d{4}\.\d{2}\.\d{3})$`)
	cfForm     = regexp.MustCompile(`^[A-Za-z0-9]{16}$`)
)

func validSSN(s string) bool {
	d, ok := digitsOnly(s)
	if !ok || !ssnForm.MatchString(s) {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

func validNINO(s string) bool {
	c := compact(s)
	if len(c) != 9 || !ninoForm.MatchString(s) {
		return false
	}
	a, b := c[0], c[1]
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || strings.IndexByte("DFIQUV", a) >= 0 || strings.IndexByte("DFIOQUV", b) >= 0 {
		return false
	}
	switch c[:2] {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	case "CR", "FY", "MW", "NC", "OO", "PP", "PY", "PZ":
		// Administrative prefixes never allocated to a person: kept out of the
		// gold set so no label depends on whether a detector knows them.
		return false
	}
	for _, r := range c[2:8] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return c[8] >= 'A' && c[8] <= 'D'
}

// SteuerIDCheckDigit computes the ISO 7064 MOD 11,10 check digit of the first ten digits.
func SteuerIDCheckDigit(d10 string) byte {
	product := 10
	for i := 0; i < 10; i++ {
		sum := (int(d10[i]-'0') + product) % 10
		if sum == 0 {
			sum = 10
		}
		product = (sum * 2) % 11
	}
	check := 11 - product
	if check == 10 {
		check = 0
	}
	return byte('0' + check)
}

func validSteuerID(s string) bool {
	d, ok := digitsOnly(s)
	if !ok || len(d) != 11 || d[0] == '0' || !steuerForm.MatchString(s) {
		return false
	}
	// Digit-repetition rule: in the first ten digits exactly one digit occurs
	// twice or three times (three never all adjacent), every other at most once.
	var count [10]int
	for i := 0; i < 10; i++ {
		count[d[i]-'0']++
	}
	multi := 0
	for _, c := range count {
		switch {
		case c == 2 || c == 3:
			multi++
		case c > 3:
			return false
		}
	}
	if multi != 1 {
		return false
	}
	for i := 0; i+2 < 10; i++ {
		if d[i] == d[i+1] && d[i] == d[i+2] {
			return false
		}
	}
	return SteuerIDCheckDigit(d[:10]) == d[10]
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// DNILetter returns the check letter of a DNI number (or NIE with X/Y/Z mapped to 0/1/2).
func DNILetter(n int) byte { return dniLetters[n%23] }

func validDNI(s string) bool {
	c := compact(s)
	if len(c) != 9 || !dniForm.MatchString(strings.ToUpper(s)) {
		return false
	}
	n := 0
	for _, r := range c[:8] {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return c[8] == DNILetter(n)
}

func validNIE(s string) bool {
	c := compact(s)
	if len(c) != 9 || !nieForm.MatchString(strings.ToUpper(s)) {
		return false
	}
	lead := strings.IndexByte("XYZ", c[0])
	if lead < 0 {
		return false
	}
	n := lead
	for _, r := range c[1:8] {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return c[8] == DNILetter(n)
}

// NIRKey computes the two-digit key of a 13-character NIR (Corsica 2A/2B allowed).
func NIRKey(c13 string) (int, bool) {
	num := c13
	switch {
	case strings.Contains(c13[5:7], "A"):
		num = c13[:5] + "19" + c13[7:]
	case strings.Contains(c13[5:7], "B"):
		num = c13[:5] + "18" + c13[7:]
	}
	n, ok := new(big.Int).SetString(num, 10)
	if !ok || len(num) != 13 {
		return 0, false
	}
	return 97 - int(new(big.Int).Mod(n, big.NewInt(97)).Int64()), true
}

func validNIR(s string) bool {
	c := compact(s)
	if len(c) != 15 || !nirForm.MatchString(strings.ToUpper(s)) || (c[0] != '1' && c[0] != '2') {
		return false
	}
	for i, r := range c {
		if (i == 5 || i == 6) && (c[5:7] == "2A" || c[5:7] == "2B") {
			continue
		}
		if r < '0' || r > '9' {
			return false
		}
	}
	key, ok := NIRKey(c[:13])
	return ok && fmt.Sprintf("%02d", key) == c[13:]
}

func validBSN(s string) bool {
	d, ok := digitsOnly(s)
	if !ok || len(d) != 9 || !bsnForm.MatchString(s) {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += int(d[i]-'0') * (9 - i)
	}
	sum -= int(d[8] - '0')
	return sum%11 == 0 && d != "000000000"
}

// cfOdd is the codice fiscale's value table for characters in odd (1-based) positions.
var cfOdd = map[byte]int{
	'0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
	'A': 1, 'B': 0, 'C': 5, 'D': 7, 'E': 9, 'F': 13, 'G': 15, 'H': 17, 'I': 19, 'J': 21,
	'K': 2, 'L': 4, 'M': 18, 'N': 20, 'O': 11, 'P': 3, 'Q': 6, 'R': 8, 'S': 12, 'T': 14,
	'U': 16, 'V': 10, 'W': 22, 'X': 25, 'Y': 24, 'Z': 23,
}

// CFCheckChar computes the check character of the first 15 characters of a codice fiscale.
func CFCheckChar(c15 string) (byte, bool) {
	sum := 0
	for i := 0; i < 15; i++ {
		ch := c15[i]
		if i%2 == 0 {
			v, ok := cfOdd[ch]
			if !ok {
				return 0, false
			}
			sum += v
			continue
		}
		switch {
		case ch >= '0' && ch <= '9':
			sum += int(ch - '0')
		case ch >= 'A' && ch <= 'Z':
			sum += int(ch - 'A')
		default:
			return 0, false
		}
	}
	return byte('A' + sum%26), true
}

func validCF(s string) bool {
	c := strings.ToUpper(s)
	if len(c) != 16 || !cfForm.MatchString(s) {
		return false
	}
	// Shape: 6 letters, then digits (or omocodia letters) for year/day, a month letter, a place code.
	for i := 0; i < 6; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	if strings.IndexByte("ABCDEHLMPRST", c[8]) < 0 {
		return false
	}
	want, ok := CFCheckChar(c[:15])
	return ok && want == c[15]
}

// Regions lists the phone regions of each language, as the contract fixes them.
var Regions = map[string][]string{
	"en": {"GB", "US", "IE", "CA"},
	"de": {"DE", "AT", "CH"},
	"fr": {"FR", "BE", "CH"},
	"es": {"ES", "MX"},
	"nl": {"NL", "BE"},
	"it": {"IT", "CH"},
}

// spokenPhone reports whether a PHONE label is written (partly) in words; those
// cannot be parsed and are exempt from the libphonenumber check.
func spokenPhone(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// CheckPhone returns nil when s parses as a valid number of one of lang's regions.
// A number with a country code must belong to one of those regions too, the
// strict reading of the contract (see the README in testdata/labelled).
func CheckPhone(s, lang string) error {
	if spokenPhone(s) {
		return nil
	}
	regions := Regions[lang]
	for _, def := range regions {
		num, err := phonenumbers.Parse(s, def)
		if err != nil {
			continue
		}
		for _, r := range regions {
			if phonenumbers.IsValidNumberForRegion(num, r) {
				return nil
			}
		}
	}
	return fmt.Errorf("phone %q: not a valid number for %v", s, regions)
}

// Check validates one gold value of a checksum- or library-decided type.
// Types decided by context alone pass.
func Check(typ, value, lang string) error {
	switch typ {
	case "CARD":
		return CheckCard(value)
	case "IBAN":
		return CheckIBAN(value)
	case "NATIONAL_ID":
		return CheckNationalID(value, lang)
	case "PHONE":
		return CheckPhone(value, lang)
	}
	return nil
}
