package pii

import "testing"

// Round 10: blind6's failure classes, described in words by the lead (its
// texts were never read here). Every sentence below is our own, beside
// look-alikes of the same shape that must stay clean.

// S1: a device or lock code whose cue comes earlier in the sentence and
// whose digits come last, after a colon.
func TestRound10DeviceCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The lock code for the e-scooter I rented is not working, the app says: 48213", []string{"SECRET:48213"}},
		{"en", "Can you reset the bike lock code, the current one is: 7730", []string{"SECRET:7730"}},
		{"de", "Das Entsperrcode vom Handy hab ich notiert, er lautet: 582914", []string{"SECRET:582914"}},
		{"de", "Mein Entsperrcode für das Tablet, falls Sie es testen müssen: 2468", []string{"SECRET:2468"}},
		{"it", "Il PIN del telefono, se serve per il test: 90317", []string{"SECRET:90317"}},
		{"fr", "Le code de déverrouillage du téléphone, pour le technicien : 135790", []string{"SECRET:135790"}},
		{"es", "El código de desbloqueo del móvil, por si lo necesitan: 4512", []string{"SECRET:4512"}},
		{"nl", "De ontgrendelcode van de telefoon, voor de reparatie: 80912", []string{"SECRET:80912"}},
		{"de", "Das Schloss vom E-Scooter hat den Code: 48213", []string{"SECRET:48213"}},
		{"de", "Der Entsperrcode meines Handys, falls nötig: 5829", []string{"SECRET:5829"}},
		// Look-alikes: an order or a tracking number after a colon.
		{"en", "The scooter I ordered has not arrived, order number: 48213", nil},
		{"it", "Il telefono non è ancora arrivato, numero ordine: 90317", nil},
		{"de", "Das Handy kam kaputt an, Bestellung: 582914", nil},
		{"en", "The lock code for the scooter works now, thanks, order: 48213", nil},
		{"de", "Entsperrcode vergessen, Bestellnummer: 582914", nil},
		{"it", "Il PIN del telefono non serve, modello: 2024", nil},
	})
}

// S2: a code with one inner dash and unequal groups after a code cue; the
// whole dashed code is one span.
func TestRound10DashCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The code is wrong, it's 48-2913 on my screen.", []string{"SECRET:48-2913"}},
		{"en", "The app shows the code 7391-22 but the door stays shut.", []string{"SECRET:7391-22"}},
		{"nl", "Ik krijg ongeldige code bij 3318-07 in de app.", []string{"SECRET:3318-07"}},
		{"nl", "Vak 14 gaat niet open met code 52-8841.", []string{"SECRET:52-8841"}},
		{"de", "Das Fach öffnet nicht, Code 6620-19 wird abgelehnt.", []string{"SECRET:6620-19"}},
		{"fr", "Le casier ne s'ouvre pas avec le code 17-4402.", []string{"SECRET:17-4402"}},
		{"es", "La taquilla no abre con el código 2290-61.", []string{"SECRET:2290-61"}},
		{"de", "Das Schließfach geht nicht auf, Code: 17-4402", []string{"SECRET:17-4402"}},
		{"it", "L'armadietto non si apre, il codice è 83-1177.", []string{"SECRET:83-1177"}},
		// Look-alikes: an order number, a date range, a product code.
		{"en", "Order 48-2913 is wrong, it's the blue one I wanted.", nil},
		{"nl", "Artikel 3318-07 is niet op voorraad.", nil},
		{"de", "Öffnungszeiten 9-17 Uhr, Fach 14.", nil},
		{"en", "The discount code is wrong, it's 48-2913.", nil},
		{"en", "The code on the box is wrong, it's 48-2913.", nil},
	})
}

// S3: a bank TAN or one-time payment code quoted by the customer.
func TestRound10BankCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Die TAN für die Überweisung lautet 482 913, aber sie geht nicht.", []string{"SECRET:482 913"}},
		{"de", "TAN: 731 206 – bitte schnell prüfen.", []string{"SECRET:731 206"}},
		{"fr", "Le code de validation de ma banque ne marche pas, c'est 48291377.", []string{"SECRET:48291377"}},
		{"fr", "J'ai saisi le code reçu par SMS, 73120644, et le paiement a échoué.", []string{"SECRET:73120644"}},
		{"fr", "La banque m'a envoyé 90317722 mais le site le refuse.", []string{"SECRET:90317722"}},
		{"es", "El banco me ha enviado 55102938 y la compra sigue rechazada.", []string{"SECRET:55102938"}},
		{"de", "Die Bank hat mir 55102938 geschickt, aber es klappt nicht.", []string{"SECRET:55102938"}},
		{"nl", "De bank heeft me 66120390 gestuurd maar de betaling mislukt.", []string{"SECRET:66120390"}},
		{"es", "Metí el código recibido por SMS, 66120390, y nada.", []string{"SECRET:66120390"}},
		{"it", "La banca mi ha mandato 40918273 ma il pagamento non passa.", []string{"SECRET:40918273"}},
		{"it", "Il codice ricevuto via SMS, 11930284, non viene accettato.", []string{"SECRET:11930284"}},
		// Look-alikes: an amount, an order number, a bank's transfer reference.
		{"de", "Die Überweisung lautet auf 482 Euro.", nil},
		{"fr", "La banque m'a remboursé 90 euros hier.", nil},
		{"es", "El banco me ha cobrado dos veces el pedido 55102938.", nil},
		{"fr", "La banque m'a envoyé 150000 euros.", nil},
		{"de", "Die Bank hat mir 150000 Euro geschickt.", nil},
		{"es", "El banco me ha enviado el extracto 20231130.", nil},
	})
}

// S4: reset and login links: the 32-hex token as a key-named query value or
// as the last path segment after a reset word.
func TestRound10ResetLinks(t *testing.T) {
	t.Parallel()
	const hex = "9f3a6c1e0b7d4a2f8e5c3b1a0d9e7f6c"
	runCases(t, []detectCase{
		{"fr", "Le lien https://boutique.fr/compte/reinitialiser?cle=" + hex + " a expiré.", []string{"SECRET:" + hex}},
		{"fr", "Voici le lien : https://boutique.fr/mdp?clé=" + hex, []string{"SECRET:" + hex}},
		{"en", "Link https://shop.example/login?t=" + hex + "&lang=en does nothing.", []string{"SECRET:" + hex}},
		{"en", "https://shop.example/auth?key=" + hex, []string{"SECRET:" + hex}},
		{"es", "El enlace https://tienda.es/cuenta/restablecer/" + hex + " no funciona.", []string{"SECRET:" + hex}},
		{"nl", "De link https://winkel.nl/wachtwoord/herstel/" + hex + " werkt niet.", []string{"SECRET:" + hex}},
		{"fr", "https://boutique.fr/reinitialiser/" + hex + " renvoie une erreur.", []string{"SECRET:" + hex}},
		{"de", "Der Link https://laden.de/konto/zuruecksetzen/" + hex + " geht nicht.", []string{"SECRET:" + hex}},
		{"it", "Il link https://negozio.it/password/reimposta/" + hex + " è scaduto.", []string{"SECRET:" + hex}},
		{"es", "https://tienda.es/recuperar/" + hex, []string{"SECRET:" + hex}},
		// Look-alikes: a product page, a commit hash in a docs link, a tracking link.
		{"en", "See https://shop.example/products/" + hex + " for the lamp.", nil},
		{"en", "Tracking: https://track.example/parcel/" + hex, nil},
		{"de", "Anleitung: https://laden.de/hilfe/zuruecksetzen-des-routers", nil},
	})
}

// S5: a word-plus-digits passcode after an access-code word.
func TestRound10AccessCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "De toegangscode van de tablet is Zomer2019, voor de reparatie.", []string{"SECRET:Zomer2019"}},
		{"de", "Der Zugangscode vom Tablet ist Sonne1987.", []string{"SECRET:Sonne1987"}},
		{"fr", "Le code d'accès de la tablette est Soleil2020.", []string{"SECRET:Soleil2020"}},
		{"en", "The access code of the tablet is Harbour2018.", []string{"SECRET:Harbour2018"}},
		{"de", "Der Zugangscode des Laptops lautet Sommer2021.", []string{"SECRET:Sommer2021"}},
		{"it", "Il codice di accesso del tablet è Mare2017.", []string{"SECRET:Mare2017"}},
		// Look-alikes: a model name with a year.
		{"nl", "De tablet is een Galaxy2019, graag reparatie.", nil},
		{"nl", "De toegangscode van de tablet is kwijt.", nil},
		{"de", "Der Zugangscode vom Tablet funktioniert nicht.", nil},
		{"en", "The access code of the tablet is on the Galaxy2019 box.", nil},
	})
}

// O15: phones: a parenthesised US area code, a spelled-out mobile, a
// shop's own landline.
func TestRound10Phones(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "You can reach me at (312) 555-0187 after six.", []string{"PHONE:(312) 555-0187"}},
		{"fr", "Vous pouvez contacter notre service client au 01 45 22 67 80.", []string{"PHONE:01 45 22 67 80"}},
		{"es", "Llame a nuestro servicio al cliente al 912 345 678.", []string{"PHONE:912 345 678"}},
		{"en", "Call customer service on 020 7946 0321.", []string{"PHONE:020 7946 0321"}},
		{"en", "My mobile is oh seven seven double-oh, nine one two, double six four.", []string{"PHONE:oh seven seven double-oh, nine one two, double six four"}},
		{"en", "It's oh eight six, double-oh, four five, double six, one.", []string{"PHONE:oh eight six, double-oh, four five, double six, one"}},
		{"en", "Mobile is 07 double-oh 912 664, after five please.", []string{"PHONE:07 double-oh 912 664"}},
		// Look-alikes: a price and a quantity in brackets.
		{"en", "The lamp (312) costs 555 dollars.", nil},
		{"fr", "Votre numéro client est 01452267.", nil},
		{"en", "I ordered a double-oh gauge train set, model six.", nil},
		{"en", "We need 2 double beds and 3 singles, 1200 in total.", nil},
		{"en", "Room 12 double 4512 is booked.", nil},
	})
}

// O16: an Irish address with an Eircode; an Italian street with a floor.
func TestRound10Addresses(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Deliver to Apartment 6, Riverside Court, Dublin Road, Athlone, Co. Westmeath N37 F4E2 please.", []string{"ADDRESS:Apartment 6, Riverside Court, Dublin Road, Athlone, Co. Westmeath N37 F4E2"}},
		{"it", "Spedite a Via Libertà 14, piano terra, 90139 Palermo (PA).", []string{"ADDRESS:Via Libertà 14, piano terra, 90139 Palermo (PA)"}},
		{"it", "Indirizzo: Via Roma 3, primo piano, 20121 Milano.", []string{"ADDRESS:Via Roma 3, primo piano, 20121 Milano"}},
		{"en", "Address: 14 Main Street, Kinsale, Co. Cork P17 X285", []string{"ADDRESS:14 Main Street, Kinsale, Co. Cork P17 X285"}},
		{"en", "Please send it to Apartment 6, The Maltings, Bridge Street, Thomastown, Co. Kilkenny R95 X2Y3.", []string{"ADDRESS:Apartment 6, The Maltings, Bridge Street, Thomastown, Co. Kilkenny R95 X2Y3"}},
		{"en", "Flat 3, Harbour View, Strand Road, Bundoran, Co. Donegal F94 A2C4", []string{"ADDRESS:Flat 3, Harbour View, Strand Road, Bundoran, Co. Donegal F94 A2C4"}},
		{"it", "Via dei Mille 14, scala B, primo piano, 90139 Palermo PA", []string{"ADDRESS:Via dei Mille 14, scala B, primo piano, 90139 Palermo PA"}},
		// Look-alikes: a floor word without an address, a company "Co.".
		{"it", "Il negozio è al primo piano, vicino alla scala B.", nil},
		{"en", "Smith & Co. Cork branch sent the wrong lamp.", nil},
		{"en", "Apartment 6, The Maltings is the block we liked best.", nil},
	})
}

// O17: a private address in a technician's note that also speaks of firmware.
func TestRound10NetworkIP(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "El portátil responde en la red del taller en 10.0.4.27, BIOS reinstalada.", []string{"IP:10.0.4.27"}},
		{"en", "It answers on the workshop network at 192.168.8.41, firmware updated.", []string{"IP:192.168.8.41"}},
		// Look-alike: a firmware version.
		{"es", "BIOS actualizada a la versión 10.0.4.27.", nil},
		{"en", "The network card driver is version 12.1.3.4 now.", nil},
		{"en", "The red lamp is model 1.2.3.4 in the catalogue.", nil},
	})
}

// O18: a Dutch BSN in the dotted form.
func TestRound10DottedBSN(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Het BSN van mijn dochter voor de garantie: 1234.56.782", []string{"NATIONAL_ID:1234.56.782"}},
		{"nl", "Het BSN van mijn dochter (ze is 16), voor de zorgverzekering: 1234.56.782", []string{"NATIONAL_ID:1234.56.782"}},
		{"nl", "BSN van mijn dochter:\n1234.56.782", []string{"NATIONAL_ID:1234.56.782"}},
		{"nl", "BSN van mijn dochter: 123.456.782", []string{"NATIONAL_ID:123.456.782"}},
		// Look-alikes: a dotted number failing the 11-proof, three groups without a BSN cue.
		{"nl", "Het BSN van mijn dochter: 1234.56.789", nil},
		{"nl", "Het bedrag was 123.456.782 volgens de bank.", nil},
	})
}

// O19: German d.m.yyyy after "das ganze Datum" with a birth-year cue earlier.
func TestRound10GermanDOB(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Ich bin Jahrgang 1952 und möchte die Seniorenkarte, das ganze Datum: 3.7.1952", []string{"DATE_OF_BIRTH:3.7.1952"}},
		// Look-alike: a delivery date.
		{"de", "Für die Seniorenkarte: Jahrgang 1948, das ganze Datum ist 9.11.1948.", []string{"DATE_OF_BIRTH:9.11.1948"}},
		{"de", "Jahrgang 52, genaue Datum: 14.2.1952", []string{"DATE_OF_BIRTH:14.2.1952"}},
		{"de", "Die Lieferung kam, das ganze Datum: 3.7.2026", nil},
		{"de", "Ich bin Jahrgang 1952, die Lieferung kam am 3.7.2026.", nil},
	})
}

// P6: doorbell and intercom names; a courier's role word opening the
// message is no name.
func TestRound10DoorbellNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Driver here — I pressed the buzzer for Hollings but nobody answered.", []string{"PERSON:Hollings"}},
		{"fr", "Livreur : l'interphone « Barthélemy » ne répond pas.", []string{"PERSON:Barthélemy"}},
		{"es", "Repartidor: el telefonillo del segundo pone «Carrasco» y no contesta nadie.", []string{"PERSON:Carrasco"}},
		{"nl", "Bezorger: bij de bel staat \"Mulder\" en \"Brink\", welke is het?", []string{"PERSON:Mulder", "PERSON:Brink"}},
		{"de", "Fahrer hier, an der Klingel steht Kowalczyk, passt das?", []string{"PERSON:Kowalczyk"}},
		{"it", "Corriere: sul citofono c'è scritto \"Bellomo\", è giusto?", []string{"PERSON:Bellomo"}},
		{"en", "Courier here, the intercom says \"Pemberton\" not your name.", []string{"PERSON:Pemberton"}},
		// Look-alikes: the role word alone.
		{"en", "Driver here — I'm outside with the parcel.", nil},
		{"de", "Fahrer hier, bin in fünf Minuten da.", nil},
		{"fr", "Livreur : je suis devant la porte.", nil},
		{"nl", "Bezorger: ik sta voor de deur.", nil},
		{"es", "Repartidor: estoy en la puerta.", nil},
		{"en", "The doorbell is broken, please knock.", nil},
		{"de", "An der Klingel steht nichts, bitte anrufen.", nil},
	})
}

// P7: staff sign-offs after a dash at the end of an agent message.
func TestRound10DashSignoffs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Your bike is ready for collection. — Ciarán @ the workshop", []string{"PERSON:Ciarán"}},
		{"en", "The refund went out this morning.\n— Aoife Ní Bhriain", []string{"PERSON:Aoife Ní Bhriain"}},
		{"en", "We've booked the repair for Tuesday. — Seán", []string{"PERSON:Seán"}},
		{"fr", "Votre remboursement est validé. — Maëlle, service client", []string{"PERSON:Maëlle"}},
		{"es", "Le enviamos la etiqueta hoy. — Begoña @ atención al cliente", []string{"PERSON:Begoña"}},
		{"en", "Thanks for waiting.\n— Róisín", []string{"PERSON:Róisín"}},
		// Look-alikes: a dash before a product or a team.
		{"en", "Your bike is ready for collection. — The Workshop", nil},
		{"fr", "Votre remboursement est validé. — Service client", nil},
		{"de", "Bitte mitbringen:\n- Rechnung\n- Karton", nil},
		{"en", "Your parcel is on its way — Express", nil},
	})
}

// P8: role nouns in apposition, before or after the name.
func TestRound10RoleAppositions(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The delivery driver Tomasz said he left it at the back.", []string{"PERSON:Tomasz"}},
		{"it", "Il tecnico Gualtiero è passato ieri ma non ha finito.", []string{"PERSON:Gualtiero"}},
		{"es", "El transportista Anselmo dice que nadie abrió.", []string{"PERSON:Anselmo"}},
		{"es", "Se lo di a Eusebio, el conserje, ayer por la tarde.", []string{"PERSON:Eusebio"}},
		{"nl", "Het pakket is aangenomen door Wessel, mijn huisgenoot.", []string{"PERSON:Wessel"}},
		{"nl", "Het geld kwam van de rekening van Hidde Veenstra, mijn broer.", []string{"PERSON:Hidde Veenstra"}},
		{"fr", "Le livreur Anatole m'a dit de rappeler.", []string{"PERSON:Anatole"}},
		{"en", "The technician Ruairí came yesterday.", []string{"PERSON:Ruairí"}},
		// Look-alikes: a role without a name.
		{"es", "El transportista dice que nadie abrió.", nil},
		{"it", "Il tecnico è passato ieri ma non ha finito.", nil},
		{"en", "The driver Express option costs more.", nil},
		{"de", "Der Fahrer Termin wurde verschoben.", nil},
	})
}

// P9: names after being-called verbs and phrases.
func TestRound10CalledNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Mijn buurvrouw heet trouwens echt Gerdientje, dus dat klopt.", []string{"PERSON:Gerdientje"}},
		{"nl", "Naam Lotte Brouwers. Het gaat om bestelling 5521.", []string{"PERSON:Lotte Brouwers"}},
		{"es", "Mi vecino, le dicen Chencho, recogió el paquete.", []string{"PERSON:Chencho"}},
		{"es", "Todos le llaman Pichi en el barrio.", []string{"PERSON:Pichi"}},
		{"de", "Hallo, ich bin's, Wendelin aus Bad Tölz.", []string{"PERSON:Wendelin"}},
		{"fr", "Oui c'est bien moi, Aurélien Castagnet.", []string{"PERSON:Aurélien Castagnet"}},
		{"en", "The account holder is Bartholomew Quigley (goes by Barty).", []string{"PERSON:Bartholomew Quigley", "PERSON:Barty"}},
		{"en", "Please address it to Ingrid in purchasing.", []string{"PERSON:Ingrid"}},
		{"it", "Mio zio, tutti lo chiamano Peppuccio, passerà a ritirare.", []string{"PERSON:Peppuccio"}},
		{"de", "Mein Nachbar heißt übrigens wirklich Eberhard.", []string{"PERSON:Eberhard"}},
		// Look-alikes.
		{"nl", "Het product heet trouwens echt Superglans, dus dat klopt.", nil},
		{"en", "Please address it to purchasing.", nil},
		{"nl", "Mijn hond heet trouwens echt Bello.", nil},
		{"en", "The lamp is called Aurora in the catalogue.", nil},
		{"de", "Die Kerze heißt übrigens Nachtblau.", nil},
	})
}

// P10: a name trailing a list of details after a comma.
func TestRound10TrailingName(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Booking for the eye test, DOB 04/09/1981, Marjorie Tulloch", []string{"DATE_OF_BIRTH:04/09/1981", "PERSON:Marjorie Tulloch"}},
	})
}

// P11: "läuft auf" and "on the name of"; three-part Vietnamese names.
func TestRound10OrderOnName(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Die Bestellung läuft auf Nguyen Thi Lan, nicht auf mich.", []string{"PERSON:Nguyen Thi Lan"}},
		{"en", "The order is on the name of Tran Van Minh.", []string{"PERSON:Tran Van Minh"}},
		// Look-alike.
		{"de", "Die Bestellung läuft auf Rechnung.", nil},
		{"de", "Unser Kassensystem läuft auf Magento 2.4 seit gestern.", nil},
		{"de", "Das Konto läuft auf Pham Van Duc, meinen Mann.", []string{"PERSON:Pham Van Duc"}},
	})
}

// P13: an initial and a surname in quotes after "in the name of".
func TestRound10QuotedInitial(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Het pakket staat op naam van \"J. Vos\".", []string{"PERSON:J. Vos"}},
		{"fr", "La commande est au nom de « M. Lefranc ».", []string{"PERSON:M. Lefranc"}},
		{"es", "Está a nombre de \"R. Ibarra\".", []string{"PERSON:R. Ibarra"}},
		{"nl", "De factuur staat op naam van \"P. Mol\".", []string{"PERSON:P. Mol"}},
	})
}

// P14: short first names as the object of call instructions.
func TestRound10CallName(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Bei Fragen Jörg anrufen.", []string{"PERSON:Jörg"}},
		{"en", "If the gate is shut call Bev on the number I gave.", []string{"PERSON:Bev"}},
		// Look-alike.
		{"en", "If the gate is shut call Reception.", nil},
	})
}

// P12: a given name that is also a word, used as a person in the message
// where the word names a colour, a material or a product; and brands,
// quoted titles and German trade nouns that stay clean.
func TestRound10WordNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Je voudrais le plaid bleu céleste. Céleste peut récupérer le colis samedi.", []string{"PERSON:Céleste"}},
		{"fr", "Le plan de travail en pierre naturelle est fissuré. C'est pour Pierre, mon fils.", []string{"PERSON:Pierre"}},
		{"it", "La candela \"Viola Notte\" è finita? Per Viola prendo quella alla lavanda.", []string{"PERSON:Viola"}},
		{"it", "Buon compleanno Rosa! Il vaso rosa è nel pacco.", []string{"PERSON:Rosa"}},
		{"fr", "Est-ce que Olive peut passer chercher la nappe vert olive ?", []string{"PERSON:Olive"}},
		{"en", "Happy birthday Amber! The amber lamp is in the box.", []string{"PERSON:Amber"}},
		{"es", "Feliz cumpleaños Rosa, el jarrón rosa va en la caja.", []string{"PERSON:Rosa"}},
		// Look-alikes: a brand named after its founder, a quoted title, a
		// description, German trades after an article.
		{"es", "Me encanta la marca Valentina Promesas, ¿tenéis la falda?", nil},
		{"it", "La candela \"Viola Notte\" è finita?", nil},
		{"fr", "Rose peut être une bonne couleur pour le canapé.", nil},
		{"en", "The gift card says \"Holly sale gift\" on the front, is that right?", nil},
		{"de", "Ich habe die Hose an den Schneider gegeben, der Koch hat sie gebracht.", nil},
		{"de", "Bitte an Herrn Schneider liefern.", []string{"PERSON:Schneider"}},
	})
}

// P9, P10, P14 in more wordings: a one-word name label without a colon,
// confirming who one is, an account's holder in a sentence, a name closing
// a list of details, whom to call, two names on one doorbell.
func TestRound10MoreNameForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Naam Fenneke Visser. Bestelling 44821.", []string{"PERSON:Fenneke Visser"}},
		{"fr", "Oui c'est bien moi, Honorine Lacaze, pour la commande.", []string{"PERSON:Honorine Lacaze"}},
		{"en", "Please address the invoice to Marguerite in accounts.", []string{"PERSON:Marguerite"}},
		{"en", "The account holder is Ottoline Fairweather (goes by Tilly).", []string{"PERSON:Ottoline Fairweather", "PERSON:Tilly"}},
		{"en", "Name for the booking, DOB 12/03/1979, Wilhelmina Okafor", []string{"DATE_OF_BIRTH:12/03/1979", "PERSON:Wilhelmina Okafor"}},
		{"en", "Sign-up for the loyalty card, email rob.k@example.com, Rowan Tattersall.", []string{"EMAIL:rob.k@example.com", "PERSON:Rowan Tattersall"}},
		{"en", "Call Dot on 020 7946 0321 if I'm out.", []string{"PERSON:Dot", "PHONE:020 7946 0321"}},
		{"de", "Bei Fragen bitte Uschi anrufen.", []string{"PERSON:Uschi"}},
		{"es", "Cualquier cosa, llamad a Paqui.", []string{"PERSON:Paqui"}},
		{"de", "Auf der Klingel steht \"Öztürk / Schmitz\".", []string{"PERSON:Öztürk", "PERSON:Schmitz"}},
		{"nl", "Bij de bel staat \"Jansen\" en \"de Groot\".", []string{"PERSON:Jansen", "PERSON:de Groot"}},
		{"fr", "Le transporteur Basile a laissé le colis chez la voisine.", []string{"PERSON:Basile"}},
		// Look-alikes: a label before a product, details ending in a place
		// or a thanks, a call to a service, a German noun before "anrufen".
		{"nl", "Naam Product Onbekend.", nil},
		{"en", "Delivery on Friday, DOB 12/03/1979, Thanks", []string{"DATE_OF_BIRTH:12/03/1979"}},
		{"en", "Call Reception on 020 7946 0321.", []string{"PHONE:020 7946 0321"}},
		{"de", "Bei Fragen bitte Hotline anrufen.", nil},
	})
}

// P8 with unknown names: a name that an apposition of kin or of the
// people at home follows.
func TestRound10KinApposition(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Het geld is overgemaakt van de rekening van Geertruida Zwaneveld, mijn moeder.", []string{"PERSON:Geertruida Zwaneveld"}},
		{"en", "I left it with Ottilie Brandwood, my neighbour.", []string{"PERSON:Ottilie Brandwood"}},
		{"es", "Se lo di a Eustaquia, mi vecina, por la tarde.", []string{"PERSON:Eustaquia"}},
		// Look-alikes: a sentence's first word, a German noun, a shop.
		{"en", "Yesterday, my son collected it.", nil},
		{"de", "Das Paket, mein Bruder hat es angenommen.", nil},
		{"en", "We bought it at Lampenhuis, my favourite shop.", nil},
	})
}
