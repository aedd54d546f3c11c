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

func TestAddressLayoutsByLanguage(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// es: calle/avenida/plaza/paseo + número, piso/puerta, CP, provincia.
		{"es", "Vivo en la calle Mayor número 15, Madrid", []string{"ADDRESS:calle Mayor número 15, Madrid"}},
		{"es", "Calle Velázquez, número 50, Madrid", []string{"ADDRESS:Calle Velázquez, número 50, Madrid"}},
		{"es", "P.º de la Castellana 100, 28046 Madrid", []string{"ADDRESS:P.º de la Castellana 100, 28046 Madrid"}},
		{"es", "Avinguda Diagonal 211, 08018 Barcelona", []string{"ADDRESS:Avinguda Diagonal 211, 08018 Barcelona"}},
		{"es", "Passeig de Gràcia 43, 08007 Barcelona", []string{"ADDRESS:Passeig de Gràcia 43, 08007 Barcelona"}},
		{"es", "Plaça de Catalunya 1, Barcelona", []string{"ADDRESS:Plaça de Catalunya 1, Barcelona"}},
		{"es", "Av. Paseo de la Reforma No. 222, Juárez, 06600 Ciudad de México", []string{"ADDRESS:Av. Paseo de la Reforma No. 222, Juárez, 06600 Ciudad de México"}},
		{"es", "Calle Mayor 15 1ºB 28013 Madrid", []string{"ADDRESS:Calle Mayor 15 1ºB 28013 Madrid"}},
		{"es", "Calle Mayor 15, 2º D, 28013, Madrid", []string{"ADDRESS:Calle Mayor 15, 2º D, 28013, Madrid"}},
		{"es", "Calle Mayor 15, 2º D, Madrid 28013", []string{"ADDRESS:Calle Mayor 15, 2º D, Madrid 28013"}},
		{"es", "Dirección: Calle Jazmín 22, Urbanización Los Pinos, 29680 Estepona (Málaga)", []string{"ADDRESS:Calle Jazmín 22, Urbanización Los Pinos, 29680 Estepona (Málaga)"}},
		{"es", "Calle Arenal 9 (Madrid), pero no estoy los lunes.", []string{"ADDRESS:Calle Arenal 9 (Madrid)"}},
		{"es", "Ctra. de Valencia km 7,5, 28031 Madrid", []string{"ADDRESS:Ctra. de Valencia km 7,5, 28031 Madrid"}},
		{"es", "Mándalo a Calle Mayor 15, Juan estará en casa.", []string{"ADDRESS:Calle Mayor 15", "PERSON:Juan"}},
		{"es", "C/ Sierpes 48, 41004 Sevilla. Gracias", []string{"ADDRESS:C/ Sierpes 48, 41004 Sevilla"}},
		{"es", "envíalo a calle de la paz 8, valencia", []string{"ADDRESS:calle de la paz 8, valencia"}},
		{"es", "Calle de Alcalá, 45, 3.º B, 28014 Madrid", []string{"ADDRESS:Calle de Alcalá, 45, 3.º B, 28014 Madrid"}},
		{"es", "Calle Alcalá 45, 1.ª planta, CP 28014 Madrid", []string{"ADDRESS:Calle Alcalá 45, 1.ª planta, CP 28014 Madrid"}},
		{"es", "Calle Alcalá 45, C.P. 28014, Madrid", []string{"ADDRESS:Calle Alcalá 45, C.P. 28014, Madrid"}},
		{"es", "Av. Insurgentes Sur #1602 Int. 5, Col. Crédito Constructor, C.P. 03940, CDMX", []string{"ADDRESS:Av. Insurgentes Sur #1602 Int. 5, Col. Crédito Constructor, C.P. 03940, CDMX"}},
		{"es", "Avenida de la Paz 12, bajo izquierda, Logroño", []string{"ADDRESS:Avenida de la Paz 12, bajo izquierda, Logroño"}},
		{"es", "Calle Mayor 3 2ºizq 50001 Zaragoza", []string{"ADDRESS:Calle Mayor 3 2ºizq 50001 Zaragoza"}},
		{"es", "C/ de la Princesa 5, escalera B, 4.º 2.ª, 28008 Madrid", []string{"ADDRESS:C/ de la Princesa 5, escalera B, 4.º 2.ª, 28008 Madrid"}},
		{"es", "Carretera de Castilla 34, km 2, 15403 Ferrol", []string{"ADDRESS:Carretera de Castilla 34, km 2, 15403 Ferrol"}},
		{"es", "Camino Real 7, casa 2, Toledo", []string{"ADDRESS:Camino Real 7, casa 2, Toledo"}},
		{"it", "Via Roma 12, CAP 20121 Milano", []string{"ADDRESS:Via Roma 12, CAP 20121 Milano"}},
		{"nl", "Dorpsstraat 8, postcode 1234 AB Ergens", []string{"ADDRESS:Dorpsstraat 8, postcode 1234 AB Ergens"}},
		// nl: straat/laan/weg/gracht + huisnummer (toevoeging) + postcode 1234 AB + plaats.
		{"nl", "Het adres: Van Baerlestraat 92-1, 1071 BB Amsterdam", []string{"ADDRESS:Van Baerlestraat 92-1, 1071 BB Amsterdam"}},
		{"nl", "Graag bezorgen op Burgemeester de Withstraat 14, 5621 AB Eindhoven", []string{"ADDRESS:Burgemeester de Withstraat 14, 5621 AB Eindhoven"}},
		{"nl", "Afleveradres: Jan van Galenstraat 45-III, 1056 BK Amsterdam", []string{"ADDRESS:Jan van Galenstraat 45-III, 1056 BK Amsterdam"}},
		{"nl", "Graag naar Prins Hendrikkade 33, Amsterdam", []string{"ADDRESS:Prins Hendrikkade 33, Amsterdam"}},
		{"nl", "Eerste Helmersstraat 100, 1054 DZ Amsterdam", []string{"ADDRESS:Eerste Helmersstraat 100, 1054 DZ Amsterdam"}},
		{"nl", "2e Hugo de Grootstraat 12, Amsterdam", []string{"ADDRESS:2e Hugo de Grootstraat 12, Amsterdam"}},
		{"nl", "Koningin Wilhelminalaan 10, 3527 LA Utrecht", []string{"ADDRESS:Koningin Wilhelminalaan 10, 3527 LA Utrecht"}},
		{"nl", "Kerkstraat 12 A, 1234AB Utrecht", []string{"ADDRESS:Kerkstraat 12 A, 1234AB Utrecht"}},
		{"nl", "Kerkstraat 12-III, 1071 AB Amsterdam", []string{"ADDRESS:Kerkstraat 12-III, 1071 AB Amsterdam"}},
		{"nl", "Keizersgracht 452 hs, 1016 GD Amsterdam", []string{"ADDRESS:Keizersgracht 452 hs, 1016 GD Amsterdam"}},
		{"nl", "Mijn nieuwe adres: Molenweg 3, 5 hoog, Rotterdam", []string{"ADDRESS:Molenweg 3, 5 hoog, Rotterdam"}},
		{"nl", "Rokin 75, 1012 KL Amsterdam", []string{"ADDRESS:Rokin 75, 1012 KL Amsterdam"}},
		{"nl", "Mijn adres is Spui 21, 1012 WX Amsterdam.", []string{"ADDRESS:Spui 21, 1012 WX Amsterdam"}},
		{"nl", "Meir 50, 2000 Antwerpen", []string{"ADDRESS:Meir 50, 2000 Antwerpen"}},
		{"nl", "kerkstraat 12, 1234 ab utrecht", []string{"ADDRESS:kerkstraat 12, 1234 ab utrecht"}},
		{"nl", "Adres: Kerkstraat 12\n1234AB  Utrecht", []string{"ADDRESS:Kerkstraat 12\n1234AB  Utrecht"}},
		{"nl", "Stuur naar Oranjestraat 7 t.a.v. Pieter Visser", []string{"ADDRESS:Oranjestraat 7", "PERSON:Pieter Visser"}},
		// it: via/viale/piazza/corso + civico + CAP + città (provincia).
		{"it", "Via G. Verdi 7, Parma", []string{"ADDRESS:Via G. Verdi 7, Parma"}},
		{"it", "Via S. Francesco 3, 35121 Padova", []string{"ADDRESS:Via S. Francesco 3, 35121 Padova"}},
		{"it", "Vico II San Nicola alla Carità 3, Napoli", []string{"ADDRESS:Vico II San Nicola alla Carità 3, Napoli"}},
		{"it", "Lungotevere Flaminio 22, 00196 Roma", []string{"ADDRESS:Lungotevere Flaminio 22, 00196 Roma"}},
		{"it", "Circonvallazione Nomentana 100, 00162 Roma", []string{"ADDRESS:Circonvallazione Nomentana 100, 00162 Roma"}},
		{"it", "Via Roma civico 12, Torino", []string{"ADDRESS:Via Roma civico 12, Torino"}},
		{"it", "via roma 12, 20121 milano", []string{"ADDRESS:via roma 12, 20121 milano"}},
		{"it", "Via Roma snc, 09010 Pula (CA)", []string{"ADDRESS:Via Roma snc, 09010 Pula (CA)"}},
		{"it", "Frazione San Pietro 4, 12010 Valdieri", []string{"ADDRESS:Frazione San Pietro 4, 12010 Valdieri"}},
		{"it", "Spedire a Via Verdi 3, Marco sarà a casa dopo le 18.", []string{"ADDRESS:Via Verdi 3", "PERSON:Marco"}},
		// en: a unit note ending a clause, towns of more than one word, loops.
		{"en", "My address is Flat 2, 33 Wellington Road, Manchester M14 6EU", []string{"ADDRESS:Flat 2, 33 Wellington Road, Manchester M14 6EU"}},
		{"en", "350 Fifth Avenue, New York, NY 10118", []string{"ADDRESS:350 Fifth Avenue, New York, NY 10118"}},
		{"en", "1 Infinite Loop, Cupertino, CA 95014", []string{"ADDRESS:1 Infinite Loop, Cupertino, CA 95014"}},
		// de/fr/en layouts of the same kind.
		{"de", "Zeil 106, 60313 Frankfurt am Main", []string{"ADDRESS:Zeil 106, 60313 Frankfurt am Main"}},
		{"fr", "Résidence Les Pins, bât. B, 12 allée des Tilleuls, 33600 Pessac", []string{"ADDRESS:Résidence Les Pins, bât. B, 12 allée des Tilleuls, 33600 Pessac"}},
	})
}

// TestAddressEnds: an address stops where the sentence goes on; a greeting,
// a sign-off or a name after the city is not part of it.
func TestAddressEnds(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "Calle Mayor 15, 28013 Madrid Gracias por todo", []string{"ADDRESS:Calle Mayor 15, 28013 Madrid"}},
		{"es", "Calle Mayor 15, Madrid Saludos, Pedro", []string{"ADDRESS:Calle Mayor 15, Madrid", "PERSON:Pedro"}},
		{"it", "Via Roma 12, 20121 Milano Grazie mille", []string{"ADDRESS:Via Roma 12, 20121 Milano"}},
		{"it", "Via Roma 12, Milano Ciao Marco", []string{"ADDRESS:Via Roma 12, Milano", "PERSON:Marco"}},
		{"de", "Hauptstraße 5, 10115 Berlin Vielen Dank", []string{"ADDRESS:Hauptstraße 5, 10115 Berlin"}},
		{"nl", "Kerkstraat 12, 1234 AB Utrecht Groetjes Anna", []string{"ADDRESS:Kerkstraat 12, 1234 AB Utrecht", "PERSON:Anna"}},
		{"fr", "12 rue de la Paix, 75002 Paris Merci beaucoup", []string{"ADDRESS:12 rue de la Paix, 75002 Paris"}},
		{"en", "12 Elm Road, London Thanks a lot", []string{"ADDRESS:12 Elm Road, London"}},
		{"it", "Via Roma 12\n20121 Milano\nMario Rossi", []string{"ADDRESS:Via Roma 12\n20121 Milano", "PERSON:Mario Rossi"}},
		{"nl", "Kerkstraat 12\n1234 AB Utrecht\nJan de Vries", []string{"ADDRESS:Kerkstraat 12\n1234 AB Utrecht", "PERSON:Jan de Vries"}},
		// Not addresses.
		{"de", "Ist die Filiale am Marienplatz 8 Uhr geöffnet?", nil},
		{"nl", "De winkel op de Kalverstraat is om 9 uur open.", nil},
		{"it", "Ho pagato 12 euro via PayPal", nil},
		{"it", "Il negozio di Via Roma è chiuso.", nil},
		{"it", "Ordine 1234 via corriere espresso", nil},
		{"it", "Vi ho scritto via WhatsApp 3 volte", nil},
		{"es", "La tienda de la calle Preciados abre a las 10", nil},
		{"es", "Tengo 2 calles más abajo la tienda.", nil},
		{"nl", "Ik heb artikel 4411 en 4412 besteld", nil},
		{"nl", "Bestelling 12, 1234 stuks", nil},
	})
}

func TestBirthDatesRelativeToAPerson(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "I was born on 03.11.1969. My wife on 21 January 1972.", []string{"DATE_OF_BIRTH:03.11.1969", "DATE_OF_BIRTH:21 January 1972"}},
		{"en", "DOB for both: me 03/11/1969, my wife 21/01/1972", []string{"DATE_OF_BIRTH:03/11/1969", "DATE_OF_BIRTH:21/01/1972"}},
		{"de", "Ich bin am 03.11.1969 geboren, meine Frau am 21.01.1972.", []string{"DATE_OF_BIRTH:03.11.1969", "DATE_OF_BIRTH:21.01.1972"}},
		{"de", "Meine Tochter kam am 4. Mai 2010 zur Welt.", []string{"DATE_OF_BIRTH:4. Mai 2010"}},
		{"fr", "Je suis née le 3 mars 1980, mon mari le 12 juin 1978.", []string{"DATE_OF_BIRTH:3 mars 1980", "DATE_OF_BIRTH:12 juin 1978"}},
		{"fr", "Ma fille est venue au monde le 4 mai 2010.", []string{"DATE_OF_BIRTH:4 mai 2010"}},
		{"es", "Nací el 3 de marzo de 1980 y mi marido el 12 de junio de 1978.", []string{"DATE_OF_BIRTH:3 de marzo de 1980", "DATE_OF_BIRTH:12 de junio de 1978"}},
		{"es", "Mi hijo nació el 4/5/2010.", []string{"DATE_OF_BIRTH:4/5/2010"}},
		{"es", "Mi madre vino al mundo el 2 de febrero de 1950.", []string{"DATE_OF_BIRTH:2 de febrero de 1950"}},
		{"it", "Sono nata il 3 marzo 1980, mio marito il 12 giugno 1978.", []string{"DATE_OF_BIRTH:3 marzo 1980", "DATE_OF_BIRTH:12 giugno 1978"}},
		{"it", "Mia figlia è venuta al mondo il 4 maggio 2010.", []string{"DATE_OF_BIRTH:4 maggio 2010"}},
		{"nl", "Ik ben geboren op 3 maart 1980 en mijn man op 12 juni 1978.", []string{"DATE_OF_BIRTH:3 maart 1980", "DATE_OF_BIRTH:12 juni 1978"}},
		{"nl", "Mijn dochter is op 4 mei 2010 geboren.", []string{"DATE_OF_BIRTH:4 mei 2010"}},
		{"nl", "Mijn zoon kwam op 4 mei 2010 ter wereld.", []string{"DATE_OF_BIRTH:4 mei 2010"}},
		// Other dates of people are no birth dates.
		{"en", "My wife ordered it on 21 January 2024.", nil},
		{"en", "I was born in 1980 and have shopped here since 2001.", nil},
		{"de", "Ich bin am 03.11.2024 umgezogen, meine Frau am 05.11.2024.", nil},
		{"de", "Meine Frau hat am 21.01. Geburtstag, bestellt am 02.01.2024.", nil},
		{"es", "Mi marido lo pidió el 12 de junio de 2024.", nil},
		{"nl", "Mijn man is op 4 mei 2024 verhuisd.", nil},
		{"it", "Mio marito l'ha ordinato il 12 giugno 2024.", nil},
		{"fr", "Je suis née un 3 mars ; la commande date du 12 juin 2024.", nil},
		// The next sentence goes on with a relative, not with an order.
		{"en", "My DOB is 03.11.1969. My wife ordered on 21 January 2024.", []string{"DATE_OF_BIRTH:03.11.1969"}},
		{"en", "I was born on 03.11.1969.\nMy order 12/05/2024 is late.", []string{"DATE_OF_BIRTH:03.11.1969"}},
		{"nl", "Ik ben op 3 november 1969 geboren. Mijn pakket van 12 mei 2024 is zoek.", []string{"DATE_OF_BIRTH:3 november 1969"}},
		{"de", "Ich bin am 3.11.1969 geboren. Mein Paket kam am 12.05.2024 an.", []string{"DATE_OF_BIRTH:3.11.1969"}},
	})
}

func TestNamesWithoutCues(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Can Niamh collect it tomorrow?", []string{"PERSON:Niamh"}},
		{"en", "Thaddeus will be home after six.", []string{"PERSON:Thaddeus"}},
		{"de", "Kann Jorinde das Paket annehmen?", []string{"PERSON:Jorinde"}},
		{"de", "Hannelore Brinkmann hat gestern angerufen.", []string{"PERSON:Hannelore Brinkmann"}},
		{"fr", "Gwenaëlle récupérera le colis samedi.", []string{"PERSON:Gwenaëlle"}},
		{"fr", "C'est pour Ségolène Marchetti, ma collègue.", []string{"PERSON:Ségolène Marchetti"}},
		{"es", "Nerea recogerá el pedido por la tarde.", []string{"PERSON:Nerea"}},
		{"es", "El paquete lo firmó Iñaki Etxeberria.", []string{"PERSON:Iñaki Etxeberria"}},
		{"it", "Ludovica passerà a ritirarlo domani.", []string{"PERSON:Ludovica"}},
		{"it", "L'ha firmato Gianluca Pellegrino.", []string{"PERSON:Gianluca Pellegrino"}},
		{"nl", "Sjoerd haalt het pakket morgen op.", []string{"PERSON:Sjoerd"}},
		{"nl", "Femke Brouwer is mijn buurvrouw.", []string{"PERSON:Femke Brouwer"}},
		// Who signed for or collected a parcel, form labels that ask for a
		// name, an agent before their team, surname-first names.
		{"en", "It was signed for by Kwabena, our receptionist.", []string{"PERSON:Kwabena"}},
		{"de", "Unterschrieben hat Mirela, meine Mitbewohnerin.", []string{"PERSON:Mirela"}},
		{"es", "Lo recogió Xiomara, mi vecina del quinto.", []string{"PERSON:Xiomara"}},
		{"nl", "Afgegeven aan Sjoukje, de buurvrouw.", []string{"PERSON:Sjoukje"}},
		{"fr", "Nom sur la boîte aux lettres : Kervella", []string{"PERSON:Kervella"}},
		{"nl", "Naam op de deurbel: Hoekstra", []string{"PERSON:Hoekstra"}},
		{"en", "Kemi from the store called me.", []string{"PERSON:Kemi"}},
		{"de", "Ornella vom Kundenservice hat mir geholfen.", []string{"PERSON:Ornella"}},
		{"en", "Trần Văn Minh will collect it on Friday.", []string{"PERSON:Trần Văn Minh"}},
		{"it", "Bianchi Giulia, Via Roma 12, 20121 Milano", []string{"PERSON:Bianchi Giulia", "ADDRESS:Via Roma 12, 20121 Milano"}},
		// An unknown first name before a known surname is one name.
		{"de", "Das Paket hat Wendelin Schäfer angenommen.", []string{"PERSON:Wendelin Schäfer"}},
		// Look-alikes: brands, places, nouns after names.
		{"de", "Wann kommt der Paul Hewitt Armreif wieder?", nil},
		{"de", "Im Jahr 1985 gegründet, steht auf eurer Seite.", nil},
		{"it", "Il corriere Bartolini ha lasciato il pacco dal vicino.", nil},
		{"es", "¿Tienen perfumes de Carolina Herrera o de Paco Rabanne?", nil},
		{"fr", "Vous livrez à Saint-Étienne et à Aix-en-Provence ?", nil},
		{"nl", "Is de Jan Linders in Venlo open?", nil},
		{"en", "Is the Calvin Klein jacket back?", nil},
		{"fr", "Le code reçu par SMS : 739 104", []string{"SECRET:739 104"}},
		{"es", "IPs del almacén: 10.20.30.41", []string{"IP:10.20.30.41"}},
		{"de", "Bitte liefern:\n- Becher Weiß\n- Teller Rund", nil},
		{"de", "Angenommen von der Nachbarin.", nil},
		{"en", "Signed by: Customer Service Team", nil},
		{"es", "Lo recogió el portero.", nil},
		{"en", "Product name: Ralph Lauren Polo", nil},
		{"en", "The King Charles spaniel mug arrived broken.", nil},
		{"en", "Amazon Alexa won't connect to the speaker.", nil},
		{"fr", "Je cherche la poupée Corolle Marie.", nil},
		{"es", "La sartén de Jamie Oliver llegó rota.", nil},
		{"it", "Nello specifico, il pacco è arrivato aperto.", nil},
		{"it", "Donna incinta, posso restituire il vestito?", nil},
		{"nl", "Mei is een drukke maand voor bezorging.", nil},
		// Thanks and greetings addressed to a shop or a team.
		{"it", "Grazie Amazon, ma il pacco non c'è.", nil},
		{"de", "Danke Zalando!", nil},
		{"fr", "Merci Cdiscount, mais rien reçu.", nil},
		{"nl", "Hoi Bol, waar blijft mijn pakket?", nil},
		{"it", "Grazie Mille per la risposta!", nil},
		{"it", "Cara Redazione, il prodotto è difettoso.", nil},
		{"en", "Cheers Mate!", nil},
	})
}

// TestCleanShopChat: messages without PII but full of look-alikes stay
// clean in every language.
func TestCleanShopChat(t *testing.T) {
	t.Parallel()
	var cases []detectCase
	for _, c := range []struct{ lang, text string }{
		{"en", "Order 4500123456 still hasn't arrived, tracking says 'in transit' since 12/03/2024."},
		{"en", "The Tommy Hilfiger jacket in size 52 costs £129.99, is it on sale?"},
		{"en", "Firmware 2.4.0.17 installed, build 10.0.22631.2861, still broken."},
		{"en", "Can you ship to Santa Monica or Victoria BC?"},
		{"de", "Die Hugo Boss Uhr ist defekt, Modell HB1513123."},
		{"de", "Die Lieferung ging an die Packstation in der Bahnhofstraße, nicht nach Hause."},
		{"de", "Wir sind von 9 bis 18 Uhr erreichbar, Samstag bis 14 Uhr."},
		{"de", "Beim Öffnen kam Fehler 0x80070005, App-Version 3.2.1.5."},
		{"de", "Können Sie mir sagen, ob Lindt Schokolade glutenfrei ist?"},
		{"de", "Meine USt-IdNr. ist DE123456789, bitte auf die Rechnung."},
		{"de", "Die Tracking-ID 1Z999AA10123456784 zeigt nichts an."},
		{"de", "Das Angebot gilt bis 31.12.2024, oder?"},
		{"fr", "La commande 2024-88123 est arrivée le 3 mars, mais le colis était abîmé."},
		{"fr", "Vous avez le parfum Jean Paul Gaultier en 100 ml ?"},
		{"fr", "Mon SIRET est 362 521 879 00034, merci de corriger la facture."},
		{"es", "Hola, mi pedido 4500123456 no ha llegado todavía."},
		{"es", "Compré un perfume de Carolina Herrera y llegó roto."},
		{"es", "La versión 4.3.2.1 de la app no me deja pagar."},
		{"es", "Tengo una duda sobre el producto con EAN 8410076472885."},
		{"es", "¿Me pueden mandar la factura con el CIF B12345678?"},
		{"it", "Buongiorno, il mio ordine 2024-5561 non è ancora arrivato."},
		{"it", "La versione 3.2.0.11 dell'app non funziona."},
		{"it", "Il tracking BRT 123456789012 non funziona."},
		{"it", "Il codice a barre è 8001234567890."},
		{"it", "La P.IVA della mia azienda è 01234567890."},
		{"nl", "Mijn bestelling 778812 is nog niet binnen, het pakket staat op 'onderweg'."},
		{"nl", "Is de Albert Heijn aan de Kerkstraat ook een afhaalpunt?"},
		{"nl", "Het KvK-nummer is 12345678 en het btw-nummer NL123456789B01."},
	} {
		cases = append(cases, detectCase{c.lang, c.text, nil})
	}
	runCases(t, cases)
}

// TestMoreSecretAndBirthDateForms: codes that came by text, Wi-Fi
// passwords, discount-shaped codes and order codes with an elided article;
// age checks that ask for a birth date and two-digit years after "del".
func TestMoreSecretAndBirthDateForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The code I got by text is 482913", []string{"SECRET:482913"}},
		{"it", "La password del Wi-Fi è Casa2024!", []string{"SECRET:Casa2024!"}},
		{"en", "Use code WELCOME10 at checkout.", nil},
		{"it", "Il codice dell'ordine è 2024-5561.", nil},
		{"en", "We'll send you a 6-digit code by SMS, it expires in 10 minutes.", nil},
		{"de", "Der Rabattcode FRÜHLING15 funktioniert nicht.", nil},
		{"en", "For the age verification: 14 March 1990.", []string{"DATE_OF_BIRTH:14 March 1990"}},
		{"de", "Für die Altersprüfung: 14.03.1990", []string{"DATE_OF_BIRTH:14.03.1990"}},
		{"fr", "Pour la vérification d'âge : 14 mars 1990", []string{"DATE_OF_BIRTH:14 mars 1990"}},
		{"es", "Para la verificación de edad: 14 de marzo de 1990", []string{"DATE_OF_BIRTH:14 de marzo de 1990"}},
		{"it", "Per la verifica dell'età: 14/03/1990", []string{"DATE_OF_BIRTH:14/03/1990"}},
		{"nl", "Voor de leeftijdscheck: 14-03-1990", []string{"DATE_OF_BIRTH:14-03-1990"}},
		{"es", "Nací el 4 de julio del 85.", []string{"DATE_OF_BIRTH:4 de julio del 85"}},
		{"en", "D.O.B. 1985-07-04", []string{"DATE_OF_BIRTH:1985-07-04"}},
		{"de", "Die Altersprüfung hat am 12.05.2024 nicht geklappt.", nil},
		{"en", "The age check failed on 12/05/2024 again.", nil},
		{"es", "Edad: 34 años, pedido del 12/05/2024", nil},
		{"nl", "Leeftijd 34, besteld op 12-05-2024", nil},
	})
}
