package labelset

// Authoring aid: prints fresh, valid, random values for the checksum-decided types,
// so labelled messages never carry a guessed check digit. Run with
//
//	go test ./pii/eval/labelset -run TestPrintValues -values -seed 7 -v
//
// and paste values into the source files; TestGoldValuesPassChecks re-validates them.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	printValues = flag.Bool("values", false, "print generated valid values for authoring the labelled set")
	valueSeed   = flag.Uint64("seed", 1, "seed for -values")
)

type gen struct{ r *rand.Rand }

func (g gen) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

func (g gen) letters(n int, alphabet string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

// card completes prefix to length with random digits and a Luhn check digit.
func (g gen) card(prefix string, length int) string {
	body := prefix + g.digits(length-1-len(prefix))
	for c := byte('0'); c <= '9'; c++ {
		if Luhn(body + string(c)) {
			return body + string(c)
		}
	}
	panic("unreachable")
}

// iban builds an IBAN with correct check digits around a BBAN.
func (g gen) iban(country, bban string) string {
	m, _ := ibanMod97(country + "00" + bban)
	return fmt.Sprintf("%s%02d%s", country, 98-m, bban)
}

func group4(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

func (g gen) ssn() string {
	for {
		a, b, c := g.digits(3), g.digits(2), g.digits(4)
		s := a + "-" + b + "-" + c
		if validSSN(s) {
			return s
		}
	}
}

func (g gen) nino() string {
	for {
		s := g.letters(2, "ABCEGHJKLMNOPRSTWXYZ") + g.digits(6) + g.letters(1, "ABCD")
		if validNINO(s) {
			return s
		}
	}
}

func (g gen) steuerID() string {
	for {
		d := string(byte('1'+g.r.IntN(9))) + g.digits(9)
		s := d + string(SteuerIDCheckDigit(d))
		if validSteuerID(s) {
			return s
		}
	}
}

func (g gen) dni() string {
	n := 10000000 + g.r.IntN(89999999)
	return fmt.Sprintf("%08d%c", n, DNILetter(n))
}

func (g gen) nie() string {
	lead := g.r.IntN(2)
	n := g.r.IntN(9999999)
	return fmt.Sprintf("%c%07d%c", "XY"[lead], n, DNILetter(lead*10000000+n))
}

func (g gen) nir() string {
	depts := []string{"75", "69", "13", "33", "59", "2A", "2B", "44", "67", "31", "06", "35"}
	c := fmt.Sprintf("%d%02d%02d%s%03d%03d", 1+g.r.IntN(2), g.r.IntN(100), 1+g.r.IntN(12),
		depts[g.r.IntN(len(depts))], 1+g.r.IntN(400), 1+g.r.IntN(999))
	key, _ := NIRKey(c)
	return fmt.Sprintf("%s%02d", c, key)
}

func (g gen) bsn() string {
	for {
		d := string(byte('1'+g.r.IntN(6))) + g.digits(8)
		if validBSN(d) {
			return d
		}
	}
}

func (g gen) cf() string {
	const cons = "BCDFGLMNPRSTVZ"
	c := g.letters(3, cons) + g.letters(3, cons) + fmt.Sprintf("%02d", 50+g.r.IntN(50)) +
		g.letters(1, "ABCDEHLMPRST") + fmt.Sprintf("%02d", 1+g.r.IntN(28)+40*g.r.IntN(2)) +
		g.letters(1, "ABCDEFGHLM") + fmt.Sprintf("%03d", 1+g.r.IntN(999))
	ch, _ := CFCheckChar(c)
	return c + string(ch)
}

func TestPrintValues(t *testing.T) {
	if !*printValues {
		t.Skip("authoring aid; run with -values")
	}
	g := gen{rand.New(rand.NewPCG(*valueSeed, 2))}
	out := map[string][]string{}
	add := func(k string, n int, f func() string) {
		for i := 0; i < n; i++ {
			out[k] = append(out[k], f())
		}
	}
	add("visa16", 6, func() string { return g.card("4", 16) })
	add("visa13", 2, func() string { return g.card("4", 13) })
	add("visa19", 2, func() string { return g.card("4", 19) })
	add("mc5x", 5, func() string { return g.card(fmt.Sprint(51+g.r.IntN(5)), 16) })
	add("mc2x", 3, func() string { return g.card(fmt.Sprint(2221+g.r.IntN(500)), 16) })
	add("amex", 4, func() string { return g.card([]string{"34", "37"}[g.r.IntN(2)], 15) })
	add("discover", 3, func() string { return g.card("6011", 16) })
	add("jcb", 2, func() string { return g.card(fmt.Sprint(3528+g.r.IntN(60)), 16) })
	add("diners", 2, func() string { return g.card("3"+fmt.Sprint(g.r.IntN(6) + 600)[1:], 14) })
	add("maestro", 2, func() string { return g.card("6759", 16) })
	add("unionpay", 2, func() string { return g.card("62", 16+g.r.IntN(4)) })
	ibans := map[string]func() string{
		"DE": func() string { return g.digits(18) },
		"AT": func() string { return g.digits(16) },
		"CH": func() string { return g.digits(17) },
		"FR": func() string { return g.digits(10) + g.letters(1, "ABCDEFGHJK0123456789") + g.digits(12) },
		"BE": func() string { return g.digits(12) },
		"ES": func() string { return g.digits(20) },
		"NL": func() string { return g.letters(4, "ABNRIGKNTRSBAB") + g.digits(10) },
		"IT": func() string { return g.letters(1, "ABCDEFGHLMNX") + g.digits(10) + g.digits(12) },
		"GB": func() string { return g.letters(4, "BARCLOYDSHNWEST") + g.digits(14) },
		"IE": func() string { return g.letters(4, "AIBKBOFI") + g.digits(14) },
		"LU": func() string { return g.digits(16) },
		"PT": func() string { return g.digits(21) },
		"PL": func() string { return g.digits(24) },
		"MC": func() string { return g.digits(23) },
	}
	for _, c := range []string{"DE", "AT", "CH", "FR", "BE", "ES", "NL", "IT", "GB", "IE", "LU", "PT", "PL", "MC"} {
		add("iban-"+c, 4, func() string { return group4(g.iban(c, ibans[c]())) })
	}
	add("ssn", 8, g.ssn)
	add("nino", 8, g.nino)
	add("steuerid", 10, g.steuerID)
	add("dni", 8, g.dni)
	add("nie", 5, g.nie)
	add("nir", 10, g.nir)
	add("bsn", 10, g.bsn)
	add("cf", 10, g.cf)
	for k, vs := range out {
		typ := "CARD"
		switch {
		case strings.HasPrefix(k, "iban-"):
			typ = "IBAN"
		case k == "ssn" || k == "nino" || k == "steuerid" || k == "dni" || k == "nie" || k == "nir" || k == "bsn" || k == "cf":
			typ = "NATIONAL_ID"
		}
		for _, v := range vs {
			lang := map[string]string{"steuerid": "de", "dni": "es", "nie": "es", "nir": "fr", "bsn": "nl", "cf": "it"}[k]
			if lang == "" {
				lang = "en"
			}
			if err := Check(typ, v, lang); err != nil {
				t.Errorf("%s: generated %s: %v", k, v, err)
			}
		}
		t.Logf("%-10s %s", k, strings.Join(vs, " | "))
	}
}
