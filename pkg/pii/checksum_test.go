package pii

import "testing"

// Known answers: the payment networks' published test card numbers, the
// SWIFT IBAN registry's example IBANs, and the national authorities'
// worked examples.

func TestLuhnAndBrandKnownAnswers(t *testing.T) {
	t.Parallel()
	valid := map[string]string{
		"4111111111111111":    "visa",
		"4012888888881881":    "visa",
		"4222222222222":       "visa",
		"5555555555554444":    "mastercard",
		"5105105105105100":    "mastercard",
		"2223003122003222":    "mastercard",
		"2720990000000007":    "mastercard",
		"378282246310005":     "amex",
		"371449635398431":     "amex",
		"6011111111111117":    "discover",
		"6011000990139424":    "discover",
		"3530111333300000":    "jcb",
		"3566002020360505":    "jcb",
		"30569309025904":      "diners",
		"38520000023237":      "diners",
		"6200000000000005":    "unionpay",
		"6759649826438453":    "maestro",
		"4000000000000000006": "visa",
	}
	for pan, brand := range valid {
		if !luhn([]byte(pan)) {
			t.Errorf("luhn(%s) = false", pan)
		}
		if got := cardBrand([]byte(pan)); got != brand {
			t.Errorf("cardBrand(%s) = %q, want %q", pan, got, brand)
		}
	}
	for _, pan := range []string{"4111111111111112", "5555555555554440", "378282246310006"} {
		if luhn([]byte(pan)) {
			t.Errorf("luhn(%s) = true", pan)
		}
	}
	// Brand ranges: 2221–2720 is Mastercard, 2220 and 2721 are not; an
	// IMEI-shaped 15-digit number starting 35 is no brand.
	for pan, want := range map[string]string{
		"2220000000000000": "", "2721000000000000": "", "2221000000000000": "mastercard",
		"353456789012345": "", "1234567812345670": "", "490154203237518": "",
	} {
		if got := cardBrand([]byte(pan)); got != want {
			t.Errorf("cardBrand(%s) = %q, want %q", pan, got, want)
		}
	}
}

func TestIBANKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, iban := range []string{
		"DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606",
		"ES9121000418450200051332", "IT60X0542811101000000123456", "NL91ABNA0417164300",
		"BE68539007547034", "AT611904300234573201", "CH9300762011623852957", "NO9386011117947",
		"MT84MALT011000012345MTLCAST001S", "SA0380000000608010167519", "LC55HEMM000100010012001200023015",
		"BR1800360305000010009795493C1", "IE29AIBK93115212345678", "PL61109010140000071219812874",
	} {
		if !ibanValid([]byte(iban)) {
			t.Errorf("ibanValid(%s) = false", iban)
		}
	}
	for _, iban := range []string{
		"DE89370400440532013001", // wrong check
		"DE8937040044053201300",  // wrong length
		"XX89370400440532013000", // no such country
		"GB82WEST1234569876543",
	} {
		if ibanValid([]byte(iban)) {
			t.Errorf("ibanValid(%s) = true", iban)
		}
	}
	if len(ibanLengths) < 89 {
		t.Errorf("registry has %d countries, want every one (89)", len(ibanLengths))
	}
}

func TestNationalIDKnownAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		check func([]byte) bool
		good  []string
		bad   []string
	}{
		{"ssn", ssnValid, []string{"123456789", "078051121", "899999999"},
			[]string{"000123456", "666123456", "900123456", "123006789", "123450000"}},
		{"nino", ninoValid, []string{"AB123456C", "JG103759A", "CE123456D"},
			[]string{"QQ123456C", "BG123456A", "AB123456E", "DA123456A", "AO123456A", "NK123456A"}},
		{"steuer-id", steuerIDValid, []string{"86095742719", "65929970489", "26954371827", "47036892816"},
			[]string{"86095742718", "06095742719", "11111111116", "12345678903"}},
		{"dni/nie", dniValid, []string{"12345678Z", "X1234567L", "Y7654321G", "00000000T"},
			[]string{"12345678A", "X1234567A", "W1234567L"}},
		{"nir", nirValid, []string{"185057800608491", "285062A12345696", "285062B12345626"},
			[]string{"185057800608492", "585057800608491", "185137800608491"}},
		{"bsn", bsnValid, []string{"111222333", "123456782"},
			[]string{"111222334", "000000000", "123456789"}},
		{"codice-fiscale", codiceFiscaleValid, []string{"RSSMRA85T10A562S", "BNCGNN80A01F205W"},
			[]string{"RSSMRA85T10A562T", "RSSMRA85Z10A562S", "RSSMRA85T10A56"}},
	}
	for _, c := range cases {
		for _, v := range c.good {
			if !c.check([]byte(v)) {
				t.Errorf("%s(%s) = false, want true", c.name, v)
			}
		}
		for _, v := range c.bad {
			if c.check([]byte(v)) {
				t.Errorf("%s(%s) = true, want false", c.name, v)
			}
		}
	}
}

func TestEANCheck(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"4006381333931", "5901234123457", "96385074", "036000291452", "10614141000415"} {
		if !ean([]byte(v)) {
			t.Errorf("ean(%s) = false", v)
		}
	}
	if ean([]byte("4006381333932")) {
		t.Error("ean accepted a wrong check digit")
	}
}
