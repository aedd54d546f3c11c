package pii

import "testing"

// Round 11: blind7's failure classes and an outside probe's findings,
// described in words by the lead (blind7's texts were never read here).
// Every sentence below is our own, beside look-alikes of the same shape
// that must stay clean.

// S1: a building, gate or key-box code the customer writes so someone can
// get in: 4-6 digits, digits with one letter at an end, or single digits
// joined by dashes.
func TestRound11EntryCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Der Haustor-Code ist 4829B, dann zweiter Stock links.", []string{"SECRET:4829B"}},
		{"de", "Bitte klingeln, sonst Haustürcode 73915 eingeben.", []string{"SECRET:73915"}},
		{"fr", "Le digicode de l'immeuble est B4471, troisième étage.", []string{"SECRET:B4471"}},
		{"fr", "Pour le livreur : code de la boîte à colis 3-6-0-2.", []string{"SECRET:3-6-0-2"}},
		{"it", "Il codice del portone è 58210, scala B.", []string{"SECRET:58210"}},
		{"nl", "De deurcode van het appartementsgebouw is 2281, tweede verdieping.", []string{"SECRET:2281"}},
		{"nl", "Het sleutelkastje naast de deur heeft code 7-1-9-4.", []string{"SECRET:7-1-9-4"}},
		{"en", "The key safe by the back door, code 60417, has the spare key.", []string{"SECRET:60417"}},
		{"en", "The padlock on the side gate is 3391 if nobody answers.", []string{"SECRET:3391"}},
		{"es", "El código del portal es 4406A, cuarto piso.", []string{"SECRET:4406A"}},
		{"en", "Gate code: 2-8-8-5, then the second door on the left.", []string{"SECRET:2-8-8-5"}},
		// Look-alikes: an order, a floor plan, a postcode, a version.
		{"de", "Das Haustor ist neu, Bestellung 4829 ist angekommen.", nil},
		{"fr", "L'immeuble a bien reçu la commande 44710 hier.", nil},
		{"en", "The padlock on the side gate is broken, order 3391 please.", nil},
		{"it", "Il portone è stato riparato, fattura 58210 pagata.", nil},
		{"en", "The key safe model KS-4000 is out of stock.", nil},
		{"nl", "De deurcode werkt niet meer, kunt u bellen?", nil},
		{"en", "Size chart: 3-6-9-12 months.", nil},
	})
}

// S2: collection and locker codes: a letter-digit code with one space, a
// code after an intervening tracking number, digits split by one space.
func TestRound11CollectionCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "My collection code K4T 9ZQ is not accepted at the counter.", []string{"SECRET:K4T 9ZQ"}},
		{"fr", "Le code de retrait KX 7421 ne marche pas au relais.", []string{"SECRET:KX 7421"}},
		{"de", "Der Abholcode für Sendung 00340434161234567890 ist 7716, aber das Fach bleibt zu.", []string{"SECRET:7716"}},
		{"en", "The locker code for my parcel came by SMS: 863 105", []string{"SECRET:863 105"}},
		{"es", "El código de la consigna para recoger el paquete es 774 0913.", []string{"SECRET:774 0913"}},
		{"nl", "De ophaalcode voor zending 3SABCD1234567 is 5520, maar het kluisje opent niet.", []string{"SECRET:5520"}},
		{"it", "Il codice di ritiro per la spedizione 123456789012 è 3391.", []string{"SECRET:3391"}},
		// Look-alikes: the tracking number alone, a postcode, a price.
		{"de", "Die Sendung 00340434161234567890 ist noch nicht da.", nil},
		{"en", "The locker is at SW1A 1AA, the parcel is 2 kg.", nil},
		{"es", "La consigna cuesta 774 pesos al mes.", nil},
		{"en", "The promo code SAVE 20 did not apply.", nil},
	})
}

// S3: recovery or backup codes: three or four dash-joined groups of four
// lower-case letters and digits.
func TestRound11RecoveryCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Recovery code for the account: w7hk-22pq-x9ma", []string{"SECRET:w7hk-22pq-x9ma"}},
		{"nl", "Mijn herstelcode voor de app: rk7q-m2xp-9d4w-h8tn", []string{"SECRET:rk7q-m2xp-9d4w-h8tn"}},
		{"de", "Der Wiederherstellungscode lautet 8fzq-k2m7-p4wx.", []string{"SECRET:8fzq-k2m7-p4wx"}},
		{"en", "One of my backup codes is q9r2-ld7k-3mzx, does it still work?", []string{"SECRET:q9r2-ld7k-3mzx"}},
		{"fr", "Le code de récupération : t4bn-97kc-w2ra", []string{"SECRET:t4bn-97kc-w2ra"}},
		// Look-alikes: a product slug, a date, a UUID-ish order id with no cue.
		{"en", "The product page is blue-sofa-with-legs.", nil},
		{"en", "Order ref 2024-1130-0042 is delayed.", nil},
		{"en", "My tracking is abcd-efgh-ijkl on the label.", nil},
	})
}

// S4: a one-time code sent by mail in dash-joined groups of three, after
// a presenting phrase.
func TestRound11MailedCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "J'ai un code reçu par mail pour me connecter, le voici : HT7-KQ2-9ZR", []string{"SECRET:HT7-KQ2-9ZR"}},
		{"en", "I got a login code by email, here it is: P4X-7QM-2RT", []string{"SECRET:P4X-7QM-2RT"}},
		{"de", "Der Anmeldecode aus der Mail, hier ist er: K8D-2NM-Q7W", []string{"SECRET:K8D-2NM-Q7W"}},
		{"es", "Me llegó un código por correo, aquí está: ZT4-9KP-M2X", []string{"SECRET:ZT4-9KP-M2X"}},
		// Look-alikes: a product reference in the same shape.
		{"fr", "La référence du produit, la voici : HT7-KQ2-9ZR", nil},
		{"en", "The part number is P4X-7QM-2RT.", nil},
	})
}

// S5: a code received by SMS that a technician asked for.
func TestRound11TechnicianCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "Il tecnico mi chiede il codice che mi è arrivato via SMS per l'attivazione: 827361", []string{"SECRET:827361"}},
		{"en", "Your technician asked for the code I got by text for the activation: 502913", []string{"SECRET:502913"}},
		{"de", "Der Techniker will den Code, der per SMS kam, für die Freischaltung: 661204", []string{"SECRET:661204"}},
		{"es", "El técnico me pide el código que me llegó por SMS para la activación: 390125", []string{"SECRET:390125"}},
		// Look-alikes: an order number in the same place.
		{"it", "Il tecnico mi chiede il numero d'ordine per l'attivazione: 827361", nil},
		{"en", "The technician asked for the invoice number: 502913", nil},
	})
}

// S6: a password after the password word and a user name.
func TestRound11UserPasswords(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "Per il gestionale: password admin Negozio!Salumi2025", []string{"SECRET:Negozio!Salumi2025"}},
		{"en", "The router login is password admin Tulip#Garden88", []string{"SECRET:Tulip#Garden88"}},
		{"de", "Kasse: Passwort kasse1 Brezel$Laden19", []string{"SECRET:Brezel$Laden19"}},
		{"fr", "Le mot de passe admin est Fromage!Cave2024", []string{"SECRET:Fromage!Cave2024"}},
		// Look-alikes: the word password with no value.
		{"en", "I forgot the password admin told me, can you reset it?", nil},
		{"it", "La password admin non funziona più.", nil},
	})
}

// F13: a pet named like a person: an animal noun before the naming verb,
// or as an appositive, says the name is no person's.
func TestRound11PetNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Le harnais est pour la chienne (elle s'appelle Margot), taille M.", nil},
		{"es", "El loro se llama Ramón y rompe todas las jaulas.", nil},
		{"es", "¡Ramón es un nombre estupendo para un loro!", nil},
		{"it", "La cavalla si chiama Giulia e ha bisogno di una coperta.", nil},
		{"nl", "Het aquarium is voor Henk de goudvis.", nil},
		{"en", "Our dog Charlie chewed the cable, can I get a new one?", nil},
		{"de", "Unser Kater heißt Oskar und mag das Futter nicht.", nil},
		{"en", "The hamster is called Gerald and he loves the wheel.", nil},
		{"de", "Das Kaninchen Hoppel braucht einen größeren Stall.", nil},
		// Look-alikes: a person beside a pet word.
		{"en", "My neighbour Charlie Watson feeds our dog while we are away.", []string{"PERSON:Charlie Watson"}},
		{"es", "Mi hermano se llama Ramón Ortega y compró la jaula.", []string{"PERSON:Ramón Ortega"}},
		{"it", "Marco Bellini, loro sono arrivati ieri con il pacco.", []string{"PERSON:Marco Bellini"}},
		{"it", "Chiara Conti, il mare era mosso e il traghetto in ritardo.", []string{"PERSON:Chiara Conti"}},
	})
}

// F14: sentence-initial common nouns and greetings taken as names, a book
// title in a list.
func TestRound11SentenceStarts(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Schrank und Kommode kommen zusammen per Spedition.", nil},
		{"de", "Tisch und Stühle werden getrennt geliefert.", nil},
		{"it", "Installazione e ritiro dell'usato sono compresi.", nil},
		{"it", "Consegna e montaggio sono gratuiti sopra 500 euro.", nil},
		{"nl", "Goedendag, ik wacht nog op mijn bestelling.", nil},
		{"nl", "Goedemiddag, de levering is niet compleet.", nil},
		{"it", "Ho ordinato:\n- Matematica in azione 2, ISBN 9788808123456\n- Storia viva 1", nil},
		// Look-alike: a real name at a sentence start.
		{"de", "Jonas Becker und ich kommen zusammen zur Abholung.", []string{"PERSON:Jonas Becker"}},
	})
}

// F15: a company as account holder is no person.
func TestRound11CompanyHolders(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "La fattura va intestata a Centro Ippico La Quercia.", nil},
		{"it", "Il conto è intestato a Studio Dentistico Ferri.", nil},
		{"de", "Die Rechnung bitte an Reitverein Lindenhof e.V. ausstellen.", nil},
		{"es", "La factura a nombre de Talleres Ortega SL, por favor.", nil},
		{"de", "Kontoinhaber ist die Bäckerei Huber GmbH.", nil},
		// Look-alike: a person as account holder.
		{"it", "La fattura va intestata a Giulia Ferri.", []string{"PERSON:Giulia Ferri"}},
		{"de", "Die Rechnung bitte an Jonas Huber, nicht an den Verein.", []string{"PERSON:Jonas Huber"}},
	})
}

// F16: a phone-shaped window inside a longer run of digit groups (a social
// security number) is no phone.
func TestRound11LongDigitRuns(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Pour la mutuelle, mon numéro c'est 2 16 12 06 111 295 81.", nil},
		{"fr", "Numéro de sécu : 1 84 05 75 118 042 36, merci.", nil},
		// Look-alike: a real phone in groups.
		{"fr", "Mon numéro c'est 06 12 34 56 78.", []string{"PHONE:06 12 34 56 78"}},
		{"fr", "Mes numéros : 06 12 34 56 78 06 98 76 54 32", []string{"PHONE:06 12 34 56 78", "PHONE:06 98 76 54 32"}},
	})
}

// P22: a full name in lower case or in capitals after "my name is" or
// "this is ... speaking", in the six languages.
func TestRound11CaseNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "hi my name is daniel whitaker and my order is late", []string{"PERSON:daniel whitaker"}},
		{"en", "this is priya raman speaking, I called yesterday", []string{"PERSON:priya raman"}},
		{"en", "MY NAME IS DANIEL WHITAKER AND I WANT A REFUND", []string{"PERSON:DANIEL WHITAKER"}},
		{"en", "This is PRIYA RAMAN speaking about the broken kettle.", []string{"PERSON:PRIYA RAMAN"}},
		{"de", "hallo, mein name ist jonas becker, die lieferung fehlt", []string{"PERSON:jonas becker"}},
		{"de", "ICH HEISSE JONAS BECKER UND WARTE AUF MEIN PAKET", []string{"PERSON:JONAS BECKER"}},
		{"fr", "bonjour je m'appelle camille laurent, ma commande est incomplète", []string{"PERSON:camille laurent"}},
		{"fr", "JE M'APPELLE CAMILLE LAURENT, COLIS ABÎMÉ", []string{"PERSON:CAMILLE LAURENT"}},
		{"es", "hola me llamo lucía fernández y no me ha llegado nada", []string{"PERSON:lucía fernández"}},
		{"es", "MI NOMBRE ES LUCÍA FERNÁNDEZ, QUIERO DEVOLVER EL PEDIDO", []string{"PERSON:LUCÍA FERNÁNDEZ"}},
		{"nl", "hoi, mijn naam is sanne de vries en mijn pakket is kwijt", []string{"PERSON:sanne de vries"}},
		{"it", "salve, mi chiamo giulia ferri e il pacco è rotto", []string{"PERSON:giulia ferri"}},
		{"it", "SONO GIULIA FERRI, IL PACCO È ROTTO", []string{"PERSON:GIULIA FERRI"}},
		// Look-alikes: the cue with no name after it.
		{"en", "my name is on the order, can you check", nil},
		{"en", "MY NAME IS SPELLED WRONG ON THE INVOICE", nil},
		{"de", "mein name ist falsch geschrieben", nil},
		{"en", "this is about the order speaking of refunds", nil},
		{"en", "the price is lower, it's mark down, the sale tag says so", nil},
		{"en", "MY NAME IS ON THE PARCEL, PLEASE CHECK", nil},
		{"it", "mi chiamo giulia e il pacco è rotto", []string{"PERSON:giulia"}},
		{"en", "MY NAME IS DANIEL PLEASE HELP", []string{"PERSON:DANIEL"}},
		{"en", "hi my name is anna maria and i need help", []string{"PERSON:anna maria"}},
	})
}

// P23: an e-mail address with its @ written as %40, &#64; or &commat;.
func TestRound11ObfuscatedEmails(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "write to anna.berg%40example.com please", []string{"EMAIL:anna.berg%40example.com"}},
		{"en", "mail: anna.berg%2Bshop%40example.com", []string{"EMAIL:anna.berg%2Bshop%40example.com"}},
		{"de", "Meine Adresse: jonas.becker&#64;beispiel.de", []string{"EMAIL:jonas.becker&#64;beispiel.de"}},
		{"fr", "Écrivez à camille&commat;exemple.fr merci", []string{"EMAIL:camille&commat;exemple.fr"}},
		{"en", "Contact: PRIYA.RAMAN%40MAIL.CO.UK", []string{"EMAIL:PRIYA.RAMAN%40MAIL.CO.UK"}},
		// Look-alikes: a percentage, an encoded URL path.
		{"en", "Prices rose 40% at example.com this year.", nil},
		{"en", "See https://shop.example/search?q=red%20shoes%40home for more.", nil},
	})
}

// O16: a mobile number in an agent's notification sentence after "SMS".
func TestRound11NotifiedPhones(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "Respuesta enviada por SMS al 612 345 678 hace un momento.", []string{"PHONE:612 345 678"}},
		{"it", "Le mandiamo un SMS al 347 123 4567 quando il corriere parte.", []string{"PHONE:347 123 4567"}},
		{"de", "Falls der Fahrer nicht durchkommt: 0172 3456789, ich bin den ganzen Tag da.", []string{"PHONE:0172 3456789"}},
		{"fr", "Nous vous enverrons un SMS au 06 12 34 56 78 avant la livraison.", []string{"PHONE:06 12 34 56 78"}},
		// Look-alike: an SMS short code.
		{"es", "Envía BAJA por SMS al 22555 para darte de baja.", nil},
	})
}

// O17–O18: an address with a middle dot in a signature, a Mexican address.
func TestRound11AddressForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Gärtnerei am Deich\nDeichstraße 12 · 28195 Bremen", []string{"ADDRESS:Deichstraße 12 · 28195 Bremen"}},
		{"de", "Kontakt: Lindenweg 4 · 20095 Hamburg", []string{"ADDRESS:Lindenweg 4 · 20095 Hamburg"}},
		{"es", "Envíenlo a Av. Constitución 2501 Sur, Col. Centro, 64000 Monterrey, N.L.", []string{"ADDRESS:Av. Constitución 2501 Sur, Col. Centro, 64000 Monterrey, N.L."}},
		{"es", "Mi domicilio: Calle Morelos 118 Pte, Col. Obispado, 64060 Monterrey, N.L.", []string{"ADDRESS:Calle Morelos 118 Pte, Col. Obispado, 64060 Monterrey, N.L."}},
		// Look-alike: a price list with middle dots.
		{"de", "Preise: 12 · 28 · 45 Euro", nil},
	})
}

// O19–O21: dates of birth: an ordinal with "of", a system default that is
// no birth date, a French two-digit year, a name between cue and date.
func TestRound11BirthDates(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The account shows the wrong DOB, it says 01/01/1900. Correct one is 7th of May 1979.", []string{"DATE_OF_BIRTH:7th of May 1979"}},
		{"en", "My date of birth is wrong, it shows 1900-01-01, it should be 3rd of June 1985.", []string{"DATE_OF_BIRTH:3rd of June 1985"}},
		{"fr", "Pour la date de naissance j'ai mis 30 avril 88 par erreur.", []string{"DATE_OF_BIRTH:30 avril 88"}},
		{"fr", "Date de naissance : j'ai mis 12 mars 91.", []string{"DATE_OF_BIRTH:12 mars 91"}},
		{"es", "Fecha de nacimiento del titular: Andrés Molina, 15-03-1977.", []string{"PERSON:Andrés Molina", "DATE_OF_BIRTH:15-03-1977"}},
		// Look-alike: the default date alone.
		{"en", "The system shows a DOB of 01/01/1900 for everyone.", nil},
		{"en", "DOB: 01/01/1900", nil},
		{"fr", "Commande du 30 avril, livrée le 2 mai.", nil},
	})
}

// P7: sign-offs at the end of an agent's message: after a pipe or a dash,
// with a job title before the name, in lower case.
func TestRound11Signoffs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Your new lenses ship on Monday.\n| Hannah Price | Lens lab", []string{"PERSON:Hannah Price"}},
		{"en", "Tickets are reissued to your email.\n- Oliver Grant, Box Office", []string{"PERSON:Oliver Grant"}},
		{"fr", "Votre avoir est disponible.\nCamille Laurent – service client", []string{"PERSON:Camille Laurent"}},
		{"fr", "La commande de gâteaux est confirmée. Signé Julien Moreau, chef pâtissier", []string{"PERSON:Julien Moreau"}},
		{"de", "Die Torte ist am Samstag fertig.\nViele Grüße, Konditormeisterin Sabine Krüger", []string{"PERSON:Sabine Krüger"}},
		{"de", "danke für die info, passt so. gruesse becker", []string{"PERSON:becker"}},
		{"en", "thanks anna, sorted now. mike", []string{"PERSON:anna", "PERSON:mike"}},
		{"nl", "Alles is binnen, thanks Sanne en de rest!", []string{"PERSON:Sanne"}},
		// Look-alikes: a team, a product line after a pipe.
		{"en", "Your new lenses ship on Monday.\n| Lens lab | Support", nil},
		{"fr", "Votre avoir est disponible.\nService client – Boutique Lyon", nil},
	})
}

// P8–P10: self-identification, kinship, who to ask for.
func TestRound11NamedPeople(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Das Paket kann beim Nachbarn bleiben, ich bin Jonas Becker", []string{"PERSON:Jonas Becker"}},
		{"de", "ja hallo, Maria hier, wegen der Lieferung morgen", []string{"PERSON:Maria"}},
		{"de", "hallo ich bin's, sabine, wegen der Rechnung", []string{"PERSON:sabine"}},
		{"en", "My sister in law Priya will pick it up on Friday.", []string{"PERSON:Priya"}},
		{"nl", "Mijn neefje Daan komt het pakket halen.", []string{"PERSON:Daan"}},
		{"en", "Can you add a card: love Nora x", []string{"PERSON:Nora"}},
		{"en", "At the door ask for Maggie or Tom.", []string{"PERSON:Maggie", "PERSON:Tom"}},
		{"de", "Ansprechpartner vor Ort Markus Vogel, Tel. folgt.", []string{"PERSON:Markus Vogel"}},
		{"es", "El montador, Javier Ruiz, irá el martes por la mañana.", []string{"PERSON:Javier Ruiz"}},
		{"it", "Come Le ha detto Chiara, il reso è gratuito.", []string{"PERSON:Chiara"}},
		{"es", "Perfecto, se lo indico a Lucía ahora mismo.", []string{"PERSON:Lucía"}},
		// Look-alikes.
		{"en", "My sister in law will pick it up on Friday.", nil},
		{"en", "At the door ask for the manager.", nil},
		{"en", "At the door ask for Maggie or the manager.", []string{"PERSON:Maggie"}},
		{"de", "Viele Grüße, Ihr Filialleiter", nil},
	})
}

// P11–P12: names in running text, form lines, pipe tables.
func TestRound11NameForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The parcel was signed by a J. Whitfield at the depot.", []string{"PERSON:J. Whitfield"}},
		{"es", "La cuenta es del titular João Conceição, mi cuñado.", []string{"PERSON:João Conceição"}},
		{"it", "Titolare Marco Ferrari, partita IVA in fattura.", []string{"PERSON:Marco Ferrari"}},
		{"es", "Se equivocaron con mi nombre, pone Nuria en vez de Núria.", []string{"PERSON:Nuria", "PERSON:Núria"}},
		{"en", "| name | Hannah Price |\n| phone | on file |", []string{"PERSON:Hannah Price"}},
		{"de", "| Name | Jonas Becker |", []string{"PERSON:Jonas Becker"}},
		{"it", "Titolare Marco Barilla, partita IVA in fattura.", []string{"PERSON:Marco Barilla"}},
		{"fr", "Santa Moreau, née le 12/03/1980 à Lyon", []string{"PERSON:Santa Moreau", "DATE_OF_BIRTH:12/03/1980"}},
		{"de", "Schöne Grüße aus der Gärtnerei, Vogel", []string{"PERSON:Vogel"}},
		{"it", "Il negozio vende Barilla, grazie.", nil},
		{"es", "Santa Cruz, nuestra tienda, abre a las 10.", nil},
		{"de", "Schöne Grüße aus Hamburg", nil},
		// Look-alikes: a pipe table of products.
		{"en", "| item | Blue Kettle |\n| qty | 2 |", nil},
	})
}

// S1–S2 in more wordings: a code word after the entrance, a combination,
// a letter-digit collection code in two groups.
func TestRound11EntryCodesMore(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Der Code für die Haustür ist 1357, Klingel geht nicht.", []string{"SECRET:1357"}},
		{"fr", "Le code du portail : 2580A, puis à droite.", []string{"SECRET:2580A"}},
		{"nl", "Het hek heeft een code: 4455, daarna links.", []string{"SECRET:4455"}},
		{"en", "Door code is 7-2-4-1.", []string{"SECRET:7-2-4-1"}},
		{"it", "Il codice del cancello è 9021B.", []string{"SECRET:9021B"}},
		{"es", "La clave del portal es 2468, segundo piso.", []string{"SECRET:2468"}},
		{"en", "The key box is on the left, combination 0427.", []string{"SECRET:0427"}},
		{"de", "Schlüsselkasten am Eingang, Code 8830.", []string{"SECRET:8830"}},
		{"en", "My pickup code is X7K 2MP but the locker won't open.", []string{"SECRET:X7K 2MP"}},
		{"it", "Codice di ritiro: 482 119", []string{"SECRET:482 119"}},
		{"nl", "Mijn ophaalcode is 6QK 8TR.", []string{"SECRET:6QK 8TR"}},
		{"en", "Gate code 4 8 2 9, then the second door.", []string{"SECRET:4 8 2 9"}},
		{"de", "Türcode: 58 21", []string{"SECRET:58 21"}},
		{"en", "Key safe code is 0 4 2 7.", []string{"SECRET:0 4 2 7"}},
		{"de", "Türcode geht nicht, wir kommen 10 12 Uhr.", nil},
		{"en", "The gate code is on the 2 3 4 5 6 7 8 page.", nil},
		// Look-alikes.
		{"de", "Der Eingang ist links, Hausnummer 12.", nil},
		{"en", "The gate code didn't work, order 44718 is still here.", nil},
		{"en", "The door was delivered damaged, code DM 4471 on the label.", nil},
		{"es", "La clave del problema es el portal web.", nil},
		{"en", "Combination lock size 2 in stock.", nil},
		{"en", "The building is from the 1920s, code compliance certificate 20331 attached.", nil},
		{"fr", "Le portail fait 3500 mm de large, code article 44710.", nil},
		{"it", "Il portone misura 2400, codice prodotto 58210.", nil},
		{"de", "Der Tür-Code-Leser Modell 8830 ist defekt.", nil},
	})
}

// P7–P9 with names the lexicons do not know: sign-off lines with a team
// after a dash, bar or comma, kin words, a possessive before a kin word.
func TestRound11UnknownNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Your new lenses ship on Monday.\n- Wiremu Parata, Box Office", []string{"PERSON:Wiremu Parata"}},
		{"fr", "Votre avoir est disponible.\nTavita Leota – service client", []string{"PERSON:Tavita Leota"}},
		{"en", "Tickets are reissued.\n| Wiremu Parata | Lens lab", []string{"PERSON:Wiremu Parata"}},
		{"en", "My sister in law Tavita will pick it up on Friday.", []string{"PERSON:Tavita"}},
		{"nl", "Mijn neefje Tavita komt het pakket halen.", []string{"PERSON:Tavita"}},
		{"en", "Tavita's dad will collect it tomorrow.", []string{"PERSON:Tavita"}},
		{"en", "Lily's mum says the size is wrong.", []string{"PERSON:Lily"}},
		{"es", "El montador, Tavita Leota, irá el martes por la mañana.", []string{"PERSON:Tavita Leota"}},
		{"en", "The fitter, Wiremu Parata, will come on Tuesday.", []string{"PERSON:Wiremu Parata"}},
		{"en", "The plumber, Monday or Tuesday, is fine.", nil},
		{"nl", "Alles is binnen, thanks Tavita en de rest!", []string{"PERSON:Tavita"}},
		{"fr", "La commande de gâteaux est confirmée. Signé Tavita Leota, chef pâtissier", []string{"PERSON:Tavita Leota"}},
		{"en", "Card message: \"Happy birthday! love Tavita x\"", []string{"PERSON:Tavita"}},
		{"es", "Se equivocaron con mi nombre, pone Tavita en vez de Tavite.", []string{"PERSON:Tavita", "PERSON:Tavite"}},
		{"en", "| name | Tavita Leota |", []string{"PERSON:Tavita Leota"}},
		{"en", "I love Paris x", nil},
		{"en", "Love Island x", nil},
		{"en", "Thanks, love Mum x", nil},
		{"en", "Love, Tavita xx", []string{"PERSON:Tavita"}},
		{"en", "We used Oak instead of Pine for the table.", nil},
		{"en", "Thanks Amazon and the rest of you.", nil},
		{"es", "Perfecto, se lo indico a Tavita ahora mismo.", []string{"PERSON:Tavita"}},
		{"it", "Come Le ha detto Tavita, il reso è gratuito.", []string{"PERSON:Tavita"}},
		{"es", "Se lo paso a Logística ahora.", nil},
		{"it", "Come Le ha detto il collega, il reso è gratuito.", nil},
		// Look-alikes: lists under a heading, table rows, possessives of
		// things.
		{"en", "Shopping list:\n- Blue Kettle, Kitchen", nil},
		{"en", "Order summary:\nOak Table – Store pickup", nil},
		{"en", "Thanks.\n| Oak Table | Store |", nil},
		{"en", "Thanks for your order.\n- Oak Table, Box Office pickup", nil},
		{"en", "Delivered.\nBlue Kettle – Store pickup", nil},
		{"en", "Santa Claus, born in Lapland, is on the card.", nil},
		{"en", "Mother's Day gift for my mum.", nil},
		{"en", "It's mum who ordered it.", nil},
	})
}

// P24: a card number whose first digits are spoken in words; Luhn and a
// brand's prefix decide.
func TestRound11SpokenCards(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "my card is four five three nine 4817 2630 7188", []string{"CARD:four five three nine 4817 2630 7188"}},
		{"fr", "la carte : cinq cinq cinq cinq 4444 3333 1111", []string{"CARD:cinq cinq cinq cinq 4444 3333 1111"}},
		// Look-alikes: the same digits failing Luhn, a spoken phone.
		{"en", "my card is four five three nine 4817 2630 7189", nil},
		{"en", "call me on oh seven seven zero zero nine double zero one two three", []string{"PHONE:oh seven seven zero zero nine double zero one two three"}},
	})
}
