package pii

// Checksum validators. Each takes the entity's characters with separators
// already removed. They are hand-written: each is a few lines of published
// arithmetic, and the libraries that bundle them (go-playground/validator,
// ...) validate whole strings by regexp, which is what the scanner avoids.

// luhn reports whether digits (ASCII '0'-'9' only) pass the Luhn check.
func luhn(digits []byte) bool {
	if len(digits) == 0 {
		return false
	}
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cardBrand names the brand whose IIN range and length fit digits, or "".
// Ranges: the brands' published IIN tables (Visa, Mastercard 51–55 and
// 2221–2720, Amex, Discover, JCB, Diners, Maestro, UnionPay).
func cardBrand(digits []byte) string {
	n := len(digits)
	if n < 12 || n > 19 {
		return ""
	}
	p := func(k int) int {
		v := 0
		for i := 0; i < k; i++ {
			v = v*10 + int(digits[i]-'0')
		}
		return v
	}
	p1, p2, p3, p4, p6 := p(1), p(2), p(3), p(4), p(6)
	switch {
	case p1 == 4 && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "mastercard"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "amex"
	case (p4 == 6011 || p3 >= 644 && p3 <= 649 || p2 == 65 || p6 >= 622126 && p6 <= 622925) && n >= 16:
		return "discover"
	case p4 >= 3528 && p4 <= 3589 && n >= 16:
		return "jcb"
	case (p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14:
		return "diners"
	case p2 == 62 && n >= 16:
		return "unionpay"
	case (p2 == 50 || p2 >= 56 && p2 <= 69) && n >= 12:
		return "maestro"
	}
	return ""
}

// ean reports whether digits pass the GS1 check (EAN-8/13, GTIN-12/14):
// weights 3 and 1 from the right, check digit last.
func ean(digits []byte) bool {
	n := len(digits)
	if n != 8 && n != 12 && n != 13 && n != 14 {
		return false
	}
	sum := 0
	for i := n - 2; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (n-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(digits[n-1]-'0')
}

// ibanLengths is the length of an IBAN per country code, from the SWIFT
// IBAN registry (release 99, 2025), every country in it.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
	"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
	"NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanValid checks an upper-case compact IBAN: its country's length and
// ISO 13616 mod 97 = 1 (computed piecewise, no big integers).
func ibanValid(s []byte) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	want, ok := ibanLengths[string(s[:2])]
	if !ok || want != len(s) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	rem := 0
	add := func(c byte) bool {
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
		return true
	}
	for _, c := range s[4:] {
		if !add(c) {
			return false
		}
	}
	for _, c := range s[:4] {
		if !add(c) {
			return false
		}
	}
	return rem == 1
}

// ssnValid applies the SSA's rules to 9 digits: area not 000, 666 or
// 900–999; group not 00; serial not 0000.
func ssnValid(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	area := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
	if area == 0 || area == 666 || area >= 900 {
		return false
	}
	if d[3] == '0' && d[4] == '0' {
		return false
	}
	return !(d[5] == '0' && d[6] == '0' && d[7] == '0' && d[8] == '0')
}

// ninoValid checks a compact upper-case UK National Insurance number:
// HMRC's allowed prefix letters, six digits, suffix A–D.
func ninoValid(s []byte) bool {
	if len(s) != 9 {
		return false
	}
	a, b := s[0], s[1]
	if !isUpper(a) || !isUpper(b) {
		return false
	}
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return false
	}
	switch string(s[:2]) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	for _, c := range s[2:8] {
		if !isDigit(c) {
			return false
		}
	}
	return s[8] >= 'A' && s[8] <= 'D'
}

// steuerIDValid checks a German tax identification number (Steuer-ID):
// 11 digits, no leading zero; in the first ten one digit occurs twice or
// three times (not three in a row) and the others at most once; the last is
// an ISO 7064 MOD 11,10 check digit.
func steuerIDValid(d []byte) bool {
	if len(d) != 11 || d[0] == '0' {
		return false
	}
	var count [10]int
	for _, c := range d[:10] {
		count[c-'0']++
	}
	multi, zero := 0, 0
	for v, c := range count {
		switch {
		case c == 0:
			zero++
		case c == 2 || c == 3:
			multi++
			if c == 3 {
				for i := 0; i+2 < 10; i++ {
					if int(d[i]-'0') == v && d[i] == d[i+1] && d[i+1] == d[i+2] {
						return false
					}
				}
			}
		case c > 3:
			return false
		}
	}
	if multi != 1 || (zero != 1 && zero != 2) {
		return false
	}
	product := 10
	for _, c := range d[:10] {
		sum := (int(c-'0') + product) % 10
		if sum == 0 {
			sum = 10
		}
		product = (2 * sum) % 11
	}
	check := 11 - product
	if check == 10 {
		check = 0
	}
	return check == int(d[10]-'0')
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// dniValid checks a Spanish DNI (8 digits + letter) or NIE (X/Y/Z, 7 digits,
// letter): the letter is the number mod 23 in the Ministry's table.
func dniValid(s []byte) bool {
	if len(s) != 9 {
		return false
	}
	n := 0
	for i, c := range s[:8] {
		switch {
		case isDigit(c):
			n = n*10 + int(c-'0')
		case i == 0 && c >= 'X' && c <= 'Z':
			n = int(c - 'X')
		default:
			return false
		}
	}
	return dniLetters[n%23] == s[8]
}

// nirValid checks a French NIR (numéro de sécurité sociale): 15 characters,
// sex 1–4/7/8, month 01–12 or 20–42 or 50–99 (INSEE's special cases),
// department digits or 2A/2B (Corsica, computed as 19/18), and key =
// 97 − (first 13 mod 97).
func nirValid(s []byte) bool {
	if len(s) != 15 {
		return false
	}
	switch s[0] {
	case '1', '2', '3', '4', '7', '8':
	default:
		return false
	}
	for i, c := range s {
		if i == 6 && (c == 'A' || c == 'B') && s[5] == '2' {
			continue
		}
		if !isDigit(c) {
			return false
		}
	}
	month := int(s[3]-'0')*10 + int(s[4]-'0')
	if month == 0 || month > 12 && month < 20 || month > 42 && month < 50 {
		return false
	}
	var b [13]byte
	copy(b[:], s[:13])
	if b[6] == 'A' {
		b[5], b[6] = '1', '9'
	} else if b[6] == 'B' {
		b[5], b[6] = '1', '8'
	}
	n := 0
	for _, c := range b {
		n = (n*10 + int(c-'0')) % 97
	}
	key := int(s[13]-'0')*10 + int(s[14]-'0')
	return key >= 1 && key <= 97 && key == 97-n%97
}

// bsnValid applies the Dutch BSN 11-proof: Σ d_i·(9−i) for the first eight
// digits − the ninth ≡ 0 (mod 11), and not all zero.
func bsnValid(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	sum, zero := 0, true
	for i, c := range d[:8] {
		sum += int(c-'0') * (9 - i)
		if c != '0' {
			zero = false
		}
	}
	sum -= int(d[8] - '0')
	return !zero && sum%11 == 0
}

// cfOdd is the codice fiscale's value of a character in an odd (1-based)
// position; digits use their letter's value (0 = A, ...).
var cfOdd = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// codiceFiscaleValid checks an upper-case Italian codice fiscale: the
// layout (with omocodia letters allowed in digit places) and the check
// character of the Ministry's decree of 1976.
func codiceFiscaleValid(s []byte) bool {
	if len(s) != 16 {
		return false
	}
	const omocodia = "LMNPQRSTUV"
	for i, c := range s {
		switch i {
		case 0, 1, 2, 3, 4, 5, 8, 11, 15:
			if !isUpper(c) {
				return false
			}
		default:
			if !isDigit(c) && !(isUpper(c) && indexByte(omocodia, c) >= 0) {
				return false
			}
		}
	}
	if indexByte("ABCDEHLMPRST", s[8]) < 0 {
		return false
	}
	sum := 0
	for i, c := range s[:15] {
		v := 0
		if isDigit(c) {
			v = int(c - '0')
		} else {
			v = int(c - 'A')
		}
		if i%2 == 0 {
			sum += cfOdd[v]
		} else {
			sum += v
		}
	}
	return byte('A'+sum%26) == s[15]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
