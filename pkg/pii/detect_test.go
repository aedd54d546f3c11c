package pii

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testEngine = func() *Engine {
	e, err := New(Config{})
	if err != nil {
		panic(err)
	}
	return e
}()

// got renders findings as "TYPE:text" in order.
func got(e *Engine, text, lang string) []string {
	r := []rune(text)
	var out []string
	for _, f := range e.Detect(text, lang) {
		out = append(out, string(f.Type)+":"+string(r[f.Start:f.End]))
	}
	return out
}

type detectCase struct {
	lang, text string
	want       []string // "TYPE:text"; empty means no PII
}

func runCases(t *testing.T, cases []detectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.lang+"/"+short(c.text), func(t *testing.T) {
			t.Parallel()
			g := got(testEngine, c.text, c.lang)
			if diff := cmp.Diff(c.want, g, cmpEmpty); diff != "" {
				t.Errorf("Detect(%q) mismatch (-want +got):\n%s", c.text, diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func short(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

func TestCards(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "my card is 4111 1111 1111 1111, exp 12/26", []string{"CARD:4111 1111 1111 1111"}},
		{"en", "card 4111-1111-1111-1111 cvv 123", []string{"CARD:4111-1111-1111-1111"}},
		{"de", "Kartennummer 5555.5555.5555.4444 bitte", []string{"CARD:5555.5555.5555.4444"}},
		{"en", "amex 3782 822463 10005 thanks", []string{"CARD:3782 822463 10005"}},
		{"fr", "ma carte 2223 0031 2200 3222", []string{"CARD:2223 0031 2200 3222"}},
		{"en", "it's 4111 1111\n1111 1111", []string{"CARD:4111 1111\n1111 1111"}},
		{"es", "tarjeta 6011111111111117", []string{"CARD:6011111111111117"}},
		// Look-alikes.
		{"en", "4111 1111 1111 1112 is wrong", nil},
		{"en", "paid with the card ending 1111, masked **** **** **** 1111", nil},
		{"en", "IMEI 490154203237518", nil},
		{"en", "IMEI: 356938035643809", nil},
		{"de", "EAN 4006381333931", nil},
		{"fr", "SIRET 362 521 879 00034", nil},
		{"en", "USPS tracking 9400 1000 0000 0000 0000 00", nil},
		{"en", "tracking 9400111899223856925842", nil},
		{"en", "order 1234567812345678 total €49.99", nil},
	})
}

func TestIBANs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "IBAN DE89 3704 0044 0532 0130 00 bitte", []string{"IBAN:DE89 3704 0044 0532 0130 00"}},
		{"en", "send to gb82west12345698765432.", []string{"IBAN:gb82west12345698765432"}},
		{"fr", "FR14 2004 1010 0505 0001 3M02 606", []string{"IBAN:FR14 2004 1010 0505 0001 3M02 606"}},
		{"nl", "rekening NL91ABNA0417164300", []string{"IBAN:NL91ABNA0417164300"}},
		{"it", "IT60 X054 2811 1010 0000 0123 456", []string{"IBAN:IT60 X054 2811 1010 0000 0123 456"}},
		{"de", "die IBAN ist DE89 3704 0044 0532 0130 01", nil},
		{"en", "ref DE8937040044053201300", nil},
	})
}

func TestEmails(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "mail me at Anna.K+shop@sub.Example.co.uk.", []string{"EMAIL:Anna.K+shop@sub.Example.co.uk"}},
		{"it", "PEC: mario.rossi@pec.it", []string{"EMAIL:mario.rossi@pec.it"}},
		{"en", "no-reply@shop.example.com sent it", []string{"EMAIL:no-reply@shop.example.com"}},
		{"en", "it's anna dot k at gmail dot com", []string{"EMAIL:anna dot k at gmail dot com"}},
		{"de", "max punkt muster at gmx punkt de", []string{"EMAIL:max punkt muster at gmx punkt de"}},
		{"en", "jon [at] example [dot] org", []string{"EMAIL:jon [at] example [dot] org"}},
		{"en", "follow @sotto_shop or see https://sotto.example/help and example.com", nil},
		{"en", "look at amazon.de for it", nil},
	})
}

func TestIPs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "my ip is 192.168.1.20:8080", []string{"IP:192.168.1.20"}},
		{"en", "server 2001:db8::1 and [fe80::1]:443", []string{"IP:2001:db8::1", "IP:fe80::1"}},
		{"de", "Router 10.0.0.138 antwortet nicht", []string{"IP:10.0.0.138"}},
		{"en", "full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 here", []string{"IP:2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		{"en", "firmware 2.4.0.17 installed, build 10.0.22631.2861", nil},
		{"en", "the case is IP68 and IPX7, Ray ID: 7d2f8a9b1c3e4f5a", nil},
		{"en", "meet at 10:30:00, MAC 00:1A:2B:3C:4D:5E", nil},
	})
}

func TestNationalIDs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "SSN 123-45-6789", []string{"NATIONAL_ID:123-45-6789"}},
		{"en", "social security number 078051121", []string{"NATIONAL_ID:078051121"}},
		{"en", "my NI number is AB 12 34 56 C", []string{"NATIONAL_ID:AB 12 34 56 C"}},
		{"en", "NINO JG103759A", []string{"NATIONAL_ID:JG103759A"}},
		{"de", "Steuer-ID 86 095 742 719", []string{"NATIONAL_ID:86 095 742 719"}},
		{"de", "meine Steuer-ID: 65929970489", []string{"NATIONAL_ID:65929970489"}},
		{"es", "DNI 12.345.678-Z y NIE X-1234567-L", []string{"NATIONAL_ID:12.345.678-Z", "NATIONAL_ID:X-1234567-L"}},
		{"es", "mi DNI es 12345678Z", []string{"NATIONAL_ID:12345678Z"}},
		{"fr", "NIR 1 85 05 78 006 084 91", []string{"NATIONAL_ID:1 85 05 78 006 084 91"}},
		{"fr", "sécu 2 85 06 2A 123 456 96", []string{"NATIONAL_ID:2 85 06 2A 123 456 96"}},
		{"nl", "BSN 111222333", []string{"NATIONAL_ID:111222333"}},
		{"nl", "mijn BSN is 1112.22.333", []string{"NATIONAL_ID:1112.22.333"}},
		{"it", "codice fiscale rssmra85t10a562s", []string{"NATIONAL_ID:rssmra85t10a562s"}},
		// Look-alikes.
		{"it", "P.IVA 12345678903", nil},
		{"en", "order 123456789 and customer 078051121", nil},
		{"es", "referencia 12345678A", nil},
		{"nl", "BSN 123456789", nil},
		{"de", "USt-IdNr. DE123456789", nil},
		{"fr", "SIRET 73282932000074", nil},
		{"en", "NINO QQ123456C", nil},
	})
}

func TestPhones(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "call me on +44 20 7946 0958", []string{"PHONE:+44 20 7946 0958"}},
		{"en", "(206) 555-0100 is my number", []string{"PHONE:(206) 555-0100"}},
		{"en", "ring 0044 20 7946 0958", []string{"PHONE:0044 20 7946 0958"}},
		{"fr", "mon numéro: 06 12 34 56 78", []string{"PHONE:06 12 34 56 78"}},
		{"fr", "Appelez le +33 (0)1 23 45 67 89", []string{"PHONE:+33 (0)1 23 45 67 89"}},
		{"de", "Tel. 089 / 1234 567", []string{"PHONE:089 / 1234 567"}},
		{"de", "0049 (0) 89 1234567", []string{"PHONE:0049 (0) 89 1234567"}},
		{"es", "(+34) 612 345 678", []string{"PHONE:(+34) 612 345 678"}},
		{"it", "il mio cellulare 333/7654321", []string{"PHONE:333/7654321"}},
		{"nl", "bel 06-12345678", []string{"PHONE:06-12345678"}},
		{"de", "null eins sieben eins, zwei drei vier, fünf sechs sieben acht", []string{"PHONE:null eins sieben eins, zwei drei vier, fünf sechs sieben acht"}},
		{"en", "it's zero seven eight four five, one two three, four five six", []string{"PHONE:zero seven eight four five, one two three, four five six"}},
		{"en", "07700 900123 is a drama number, not a valid one", nil},
		// Look-alikes.
		{"en", "order number 0612345678", nil},
		{"de", "Bestellung 0891234567 vom 12.05.2024", nil},
		{"fr", "commande n° 0612345678, colis 0612345679", nil},
		{"en", "text STOP to 85075", nil},
		{"en", "delivered 12.05.2024 at 14.30, total 1.299,00 €", nil},
		{"es", "pedido 612345678", nil},
		{"en", "Please call the store on 020 7946 0018", []string{"PHONE:020 7946 0018"}},
		{"de", "Die Filiale erreichen Sie unter 089 1234567", []string{"PHONE:089 1234567"}},
	})
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "my password is Sommer2024!", []string{"SECRET:Sommer2024!"}},
		{"de", "Passwort: hunter2", []string{"SECRET:hunter2"}},
		{"fr", "le mot de passe est Soleil#75", []string{"SECRET:Soleil#75"}},
		{"en", "the code is 482 913", []string{"SECRET:482 913"}},
		{"de", "TAN 847219", []string{"SECRET:847219"}},
		{"en", "your verification code is G-582914", []string{"SECRET:G-582914"}},
		{"en", "the password for my account is 'Blue!Horse77'", []string{"SECRET:Blue!Horse77"}},
		{"en", "key sk_live_51HqLyjWDarjtT1zdp7dcJ3xy", []string{"SECRET:sk_live_51HqLyjWDarjtT1zdp7dcJ3xy"}},
		{"en", "token ghp_16C7e42F292c6912E7710c838347Ae178B4a here", []string{"SECRET:ghp_16C7e42F292c6912E7710c838347Ae178B4a"}},
		{"en", "https://shop.example/reset?token=9f86d081884c7d659a2feaa0c55ad015&x=1", []string{"SECRET:9f86d081884c7d659a2feaa0c55ad015"}},
		{"en", "api key: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", []string{"SECRET:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}},
		{"en", "Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
			[]string{"SECRET:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}},
		// Look-alikes.
		{"en", "promo code SAVE20 didn't work", nil},
		{"de", "Gutscheincode SOMMER2024", nil},
		{"en", "my password is wrong, can you reset it?", nil},
		{"en", "Ray ID: 7d2f8a9b1c3e4f5a", nil},
		{"it", "codice sconto ESTATE15", nil},
		{"en", "return code RMA-48213", nil},
		{"en", "postal code 10115", nil},
	})
}

func TestDatesOfBirth(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "DOB: 02/11/1979", []string{"DATE_OF_BIRTH:02/11/1979"}},
		{"en", "I was born on the 1st of May 1980", []string{"DATE_OF_BIRTH:1st of May 1980"}},
		{"en", "born November 28, 1990", []string{"DATE_OF_BIRTH:November 28, 1990"}},
		{"de", "geb. 5. Juni 1971", []string{"DATE_OF_BIRTH:5. Juni 1971"}},
		{"de", "Geburtsdatum 29.02.1992", []string{"DATE_OF_BIRTH:29.02.1992"}},
		{"fr", "née le 12 mars 1985", []string{"DATE_OF_BIRTH:12 mars 1985"}},
		{"es", "nacida el 7 de julio de 1968", []string{"DATE_OF_BIRTH:7 de julio de 1968"}},
		{"nl", "geboren op 1985-06-30", []string{"DATE_OF_BIRTH:1985-06-30"}},
		{"it", "nata il 3 maggio 1990", []string{"DATE_OF_BIRTH:3 maggio 1990"}},
		// Look-alikes.
		{"en", "my birthday is 2 March, will it arrive?", nil},
		{"en", "ordered on 12/05/2024, delivery 14/05/2024", nil},
		{"de", "Lieferung am 5. Juni 2024", nil},
		{"en", "she is 34 years old", nil},
		{"en", "It's for my birthday, ordered 12/05/2024, will it come?", nil},
		{"en", "born 02/11/1979 and my order was placed 03/05/2024", []string{"DATE_OF_BIRTH:02/11/1979"}},
	})
}

func TestPersons(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Hi, my name is Anna Kowalska", []string{"PERSON:Anna Kowalska"}},
		{"en", "this is maria from the order yesterday", []string{"PERSON:maria"}},
		{"en", "Bill here again", []string{"PERSON:Bill"}},
		{"en", "nothing here", nil},
		{"en", "everything here is fine", nil},
		{"fr", "rien ici", nil},
		{"en", "thanks Lena!", []string{"PERSON:Lena"}},
		{"de", "Grüße, Birgit", []string{"PERSON:Birgit"}},
		{"de", "Bitte bei Hartmann klingeln", []string{"PERSON:Hartmann"}},
		{"it", "lasciatelo alla vicina, citofono Ricci", []string{"PERSON:Ricci"}},
		{"en", "Send it to my neighbour K. Nowicki", []string{"PERSON:K. Nowicki"}},
		{"de", "Sehr geehrter Herr van der Meer,", []string{"PERSON:van der Meer"}},
		{"fr", "Bonjour Mme Dupont-Moreau", []string{"PERSON:Dupont-Moreau"}},
		{"en", "Dear Mr O'Sullivan", []string{"PERSON:O'Sullivan"}},
		{"en", "Kind regards,\nOwen Pritchard\nCustomer Care", []string{"PERSON:Owen Pritchard"}},
		{"en", "it is Aidan's account", []string{"PERSON:Aidan"}},
		{"es", "Hola, soy Lucía Fernández", []string{"PERSON:Lucía Fernández"}},
		{"nl", "Hoi, ik ben Fleur", []string{"PERSON:Fleur"}},
		{"it", "Buonasera Sig.ra Conti", []string{"PERSON:Conti"}},
		{"en", "Ralph (my husband) wants a Ralph Lauren shirt", []string{"PERSON:Ralph"}},
		{"en", "Violet wants it in violet", []string{"PERSON:Violet"}},
		{"nl", "graag afgeven bij de buren, fam. Smit, nr. 14", []string{"PERSON:Smit"}},
		{"en", "Thanks! -Anna", []string{"PERSON:Anna"}},
		{"en", "cheers\n— Tom", []string{"PERSON:Tom"}},
		{"en", "Name: anna schmidt", []string{"PERSON:anna schmidt"}},
		{"en", "It's Mark Thompson here, the order for Mark T. is late", []string{"PERSON:Mark Thompson", "PERSON:Mark T."}},
		{"en", "The parcel was signed for by A. Patel", []string{"PERSON:A. Patel"}},
		{"fr", "Bisous, Mamie Jeannette", []string{"PERSON:Jeannette"}},
		{"es", "Buenos días, le escribe Rocío del servicio de atención al cliente.", []string{"PERSON:Rocío"}},
		{"en", "Hello, I'm contacting you on behalf of my father, Henryk Wiśniewski.", []string{"PERSON:Henryk Wiśniewski"}},
		{"de", "Bitte an Herrn Dr. Klaus Wagner", []string{"PERSON:Klaus Wagner"}},
		{"en", "Regards\nDr. Amelia Hartley-Smythe", []string{"PERSON:Amelia Hartley-Smythe"}},
		// Look-alikes.
		{"en", "Do you have Tom Ford sunglasses or a Jack Daniels gift set?", nil},
		{"en", "Is the Ted Baker bag back in stock?", nil},
		{"en", "Ship it to Victoria BC or San Diego", nil},
		{"fr", "livraison possible à Saint-Malo ?", nil},
		{"en", "the branch on Oxford Street", nil},
		{"de", "Hallo Team, wo ist mein Paket?", nil},
		{"de", "Ich bin Rentner und brauche Hilfe beim Bestellen.", nil},
		{"de", "Kann ich bei Otto oder bei Lidl abholen?", nil},
		{"nl", "Ik heb een vraag over de Albert Heijn cadeaukaart.", nil},
		{"es", "¿Tienen la camiseta de Mario Bros en talla M?", nil},
		{"it", "Avete la borsa di Gucci in nero? E le scarpe Ferragamo?", nil},
		{"en", "my Harry Potter Lego set arrived broken", nil},
	})
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "it's 12 Elm Road, not 21", []string{"ADDRESS:12 Elm Road"}},
		{"de", "Goethestraße 8, 04109 Leipzig", []string{"ADDRESS:Goethestraße 8, 04109 Leipzig"}},
		{"fr", "au 12 rue Victor Hugo, 75011 Paris", []string{"ADDRESS:12 rue Victor Hugo, 75011 Paris"}},
		{"fr", "Rue Victor Hugo 14, bte 4, 1030 Schaerbeek", []string{"ADDRESS:Rue Victor Hugo 14, bte 4, 1030 Schaerbeek"}},
		{"it", "Via Giuseppe Verdi 7, 20121 Milano (MI)", []string{"ADDRESS:Via Giuseppe Verdi 7, 20121 Milano (MI)"}},
		{"es", "Calle Mayor 15, 2º dcha., 28013 Madrid", []string{"ADDRESS:Calle Mayor 15, 2º dcha., 28013 Madrid"}},
		{"nl", "Kerkstraat 12 bus 4, 2000 Antwerpen", []string{"ADDRESS:Kerkstraat 12 bus 4, 2000 Antwerpen"}},
		{"en", "221B Baker Street, London NW1 6XE", []string{"ADDRESS:221B Baker Street, London NW1 6XE"}},
		{"en", "my new address is 27 Kingsway, Cardiff CF10 3AN", []string{"ADDRESS:27 Kingsway, Cardiff CF10 3AN"}},
		{"en", "Our office: Suite 400, 1250 West Georgia Street, Vancouver, BC V6E 4P9", []string{"ADDRESS:Suite 400, 1250 West Georgia Street, Vancouver, BC V6E 4P9"}},
		{"en", "1600 Pennsylvania Avenue NW, Washington, DC 20500", []string{"ADDRESS:1600 Pennsylvania Avenue NW, Washington, DC 20500"}},
		{"de", "Mariahilfer Straße 120/3/14, 1070 Wien", []string{"ADDRESS:Mariahilfer Straße 120/3/14, 1070 Wien"}},
		{"de", "Am Sonnenhang 3a, 2. OG, 79098 Freiburg im Breisgau", []string{"ADDRESS:Am Sonnenhang 3a, 2. OG, 79098 Freiburg im Breisgau"}},
		{"es", "Calle de Serrano 45, 4ºA, 28001 Madrid", []string{"ADDRESS:Calle de Serrano 45, 4ºA, 28001 Madrid"}},
		{"nl", "Laan van Meerdervoort 55A\n2517 AE Den Haag", []string{"ADDRESS:Laan van Meerdervoort 55A\n2517 AE Den Haag"}},
		{"nl", "Korte Leidsedwarsstraat 12", []string{"ADDRESS:Korte Leidsedwarsstraat 12"}},
		{"it", "C.so Buenos Aires 33, Milano", []string{"ADDRESS:C.so Buenos Aires 33, Milano"}},
		{"it", "Via Roma 15/B, 00184 Roma RM", []string{"ADDRESS:Via Roma 15/B, 00184 Roma RM"}},
		{"de", "Anna Schmidt\nHauptstraße 5\n10115 Berlin\nDeutschland", []string{"PERSON:Anna Schmidt", "ADDRESS:Hauptstraße 5\n10115 Berlin\nDeutschland"}},
		{"en", "ship to 12 elm road, london", []string{"ADDRESS:12 elm road, london"}},
		{"it", "spedite a via roma 12, grazie", []string{"ADDRESS:via roma 12"}},
		{"de", "meine adresse: hauptstraße 5, 10115 berlin", []string{"ADDRESS:hauptstraße 5, 10115 berlin"}},
		{"fr", "j'habite 8 rue des lilas, 75011 paris", []string{"ADDRESS:8 rue des lilas, 75011 paris"}},
		// Look-alikes.
		{"", "I bought 2 avenue posters\nand 3 place settings", nil},
		{"it", "I sent it via email 12 times", nil},
		{"de", "Versand nach 10115 Berlin?", nil},
		{"en", "the branch on Oxford Street closed", nil},
		{"en", "I live in Manchester", nil},
		{"de", "bitte im 3. OG abgeben", nil},
	})
}

// TestFindingsAreSortedAndDisjoint checks the output contract on a message
// with many types.
func TestFindingsAreSortedAndDisjoint(t *testing.T) {
	t.Parallel()
	text := "Hi, I'm Anna Schmidt. Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, mail anna@example.com, call +49 30 1234567, IP 10.0.0.1, SSN 123-45-6789, born 02/11/1979, password Sommer2024!, Hauptstraße 5, 10115 Berlin."
	fs := testEngine.Detect(text, "")
	types := map[Type]bool{}
	for i, f := range fs {
		types[f.Type] = true
		if f.Start >= f.End || i > 0 && fs[i-1].End > f.Start {
			t.Fatalf("finding %d %+v overlaps or is out of order", i, f)
		}
		if f.Score <= 0 || f.Score > 1 || f.Recognizer == "" {
			t.Errorf("finding %+v has no score or recogniser", f)
		}
	}
	var ts []string
	for t := range types {
		ts = append(ts, string(t))
	}
	sort.Strings(ts)
	if len(ts) != 10 {
		t.Errorf("types found = %v, want all ten", ts)
	}
}

// TestCodePointOffsets: offsets count code points, not bytes.
func TestCodePointOffsets(t *testing.T) {
	t.Parallel()
	text := "😩 Grüße — mail jürgen@example.de"
	fs := testEngine.Detect(text, "de")
	if len(fs) != 1 {
		t.Fatalf("findings = %+v", fs)
	}
	r := []rune(text)
	if got := string(r[fs[0].Start:fs[0].End]); got != "jürgen@example.de" {
		t.Errorf("span = %q", got)
	}
	if fmt.Sprint(fs[0].Start) != "15" {
		t.Errorf("start = %d, want 15 (code points)", fs[0].Start)
	}
}
