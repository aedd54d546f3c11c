package pii

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The cases in this file were written for the failure classes the labelled
// set's author reported on the holdout split (described, never its texts):
// dotted version strings taken for IPs, digit groups inside IBAN-shaped
// strings with wrong check digits taken for phones or cards, Spanish, Dutch
// and Italian address layouts, names without a cue, and birth dates stated
// relative to a person. Each class has cases in every language it applies
// to and look-alikes that must stay clean; the rules that make them pass are
// general (context words, structure, validation), not these strings.

func TestVersionStringsAreNotIPs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "After updating to 6.5.8.12 the printer stopped working.", nil},
		{"en", "The app says 4.12.0.3 at the bottom of the settings page.", nil},
		{"en", "Tried 3.2.1.5 and 3.2.1.6, both crash on start.", nil},
		{"en", "Model 2.4.0.17 or the newer one?", nil},
		{"de", "Die Software-Version 3.10.2.7 ist installiert.", nil},
		{"de", "Mein Gerät zeigt 2.4.0.17 an, ist das aktuell?", nil},
		{"de", "Ist das Modell 2.4.0.17 noch aktuell?", nil},
		{"de", "Nach dem Update auf Version 5.1 ging nichts mehr; jetzt steht 5.1.0.23 da.", nil},
		{"de", "Der Stand ist 11.2.0.4, das Handbuch spricht von 11.3.", nil},
		{"fr", "La box est en 5.2.11.3 depuis hier.", nil},
		{"fr", "J'ai la mise à jour 8.1.0.4 sur ma montre.", nil},
		{"es", "Tengo instalada la 12.1.3.44 y sigue fallando.", nil},
		{"es", "Tengo el modelo 2.1.0.45 del router.", nil},
		{"it", "Dopo l'aggiornamento alla 7.3.0.12 non funziona.", nil},
		{"it", "Sul telefono c'è la 1.0.4.22, è l'ultima?", nil},
		{"nl", "Mijn tv draait op 6.5.8.12, klopt dat?", nil},
		{"nl", "Na de update naar 1.8.3.200 werkt de app niet meer.", nil},
		// Real addresses stay IPs, with or without a cue word.
		{"en", "Requests come from 203.0.113.42 and 10.0.0.7", []string{"IP:203.0.113.42", "IP:10.0.0.7"}},
		{"en", "use 1.1.1.1 as DNS", []string{"IP:1.1.1.1"}},
		{"en", "It works from 172.16.0.5 but not from 91.198.174.192.", []string{"IP:172.16.0.5", "IP:91.198.174.192"}},
		{"de", "Die Anfragen kommen von 84.23.117.5.", []string{"IP:84.23.117.5"}},
		{"fr", "Je me connecte depuis 2.13.145.87 habituellement.", []string{"IP:2.13.145.87"}},
		{"es", "¿Bloquearon la 192.168.1.1?", []string{"IP:192.168.1.1"}},
		{"it", "il ping verso 8.8.8.8 funziona", []string{"IP:8.8.8.8"}},
		{"nl", "mijn thuis-IP is 77.161.34.9", []string{"IP:77.161.34.9"}},
		{"de", "Meine IP ist 5.9.12.4, die Firmware 5.9.12.4 auch (Zufall).", []string{"IP:5.9.12.4"}},
	})
}

// wrongIBAN returns an IBAN-shaped string for country cc (its length, its
// letters and digits where the country's format puts them) whose check
// digits are wrong.
func wrongIBAN(r *rand.Rand, cc string) string {
	want := ibanLengths[cc]
	for {
		b := []byte(cc)
		b = append(b, byte('0'+r.IntN(10)), byte('0'+r.IntN(10)))
		for len(b) < want {
			if (cc == "NL" || cc == "GB") && len(b) < 8 {
				b = append(b, byte('A'+r.IntN(26)))
				continue
			}
			if cc == "IT" && len(b) == 4 {
				b = append(b, byte('A'+r.IntN(26)))
				continue
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		if !ibanValid(b) {
			return string(b)
		}
	}
}

func groupFours(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// TestIBANShapedLookalikesAreClean: the digit groups of an IBAN-shaped
// string with wrong check digits are no phone, card or national ID, however
// they happen to validate, in every layout and language.
func TestIBANShapedLookalikesAreClean(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(10, 2026))
	frames := map[string][]string{
		"en": {"My IBAN is %s, can you refund it there?", "the IBAN %s bounced", "%s"},
		"de": {"Die IBAN %s wurde abgelehnt.", "Bitte überweisen auf %s, danke", "Konto: %s"},
		"fr": {"Mon IBAN : %s. Merci", "le virement sur %s a échoué", "RIB %s"},
		"es": {"Mi IBAN es %s y no funciona", "Transferencia a %s, por favor", "cuenta %s"},
		"nl": {"rekening %s klopt niet", "Mijn IBAN: %s", "overmaken naar %s graag"},
		"it": {"L'IBAN %s non è valido?", "Bonifico su %s grazie", "conto %s"},
	}
	countries := []string{"DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "GB", "IE", "PT", "LU"}
	for lang, fs := range frames {
		for i := 0; i < 40; i++ {
			iban := wrongIBAN(r, countries[r.IntN(len(countries))])
			if i%2 == 0 {
				iban = groupFours(iban)
			}
			text := fmt.Sprintf(fs[i%len(fs)], iban)
			if g := got(testEngine, text, lang); len(g) != 0 {
				t.Errorf("%s %q: found %v, want nothing (check digits are wrong)", lang, text, g)
			}
		}
	}
	// A valid IBAN next to a wrong one is still found.
	runCases(t, []detectCase{
		{"de", "Nicht DE12 3456 7890 1234 5678 90, sondern DE89 3704 0044 0532 0130 00.", []string{"IBAN:DE89 3704 0044 0532 0130 00"}},
		{"it", "L'IBAN IT12 A123 4567 8901 2345 6789 012 non è valido?", nil},
		// A phone after an IBAN-shaped string is still a phone.
		{"es", "IBAN ES12 3456 7890 1234 5678 9012 mal; mi móvil es 612 345 678", []string{"PHONE:612 345 678"}},
	})
}
