package pii

import "testing"

// Round 8: blind4's failure classes, described in words by the lead (its
// texts were never read here). Every sentence below is our own, in each
// language where the class applies, beside look-alikes of the same shape
// that must stay clean.

// P1: a lone first name signing off an agent's message, after the last
// sentence, alone or with the shop it writes for.
func TestRound8SignoffName(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Your refund went out this morning. Anything else I can do for you? Joris", []string{"PERSON:Joris"}},
		{"en", "Cheers, Rob at Lampenhuis", []string{"PERSON:Rob"}},
		{"en", "The parcel left our warehouse today. Henrike from Kettle & Co", []string{"PERSON:Henrike"}},
		{"fr", "Le colis arrivera sous trois jours. Corentin, Maison Bleuet", []string{"PERSON:Corentin"}},
		{"de", "Die Ware ist unterwegs. Ilse, Gartenglück Versand", []string{"PERSON:Ilse"}},
		{"es", "Ya hemos tramitado el cambio. Teodoro, Tienda Sol", []string{"PERSON:Teodoro"}},
		{"nl", "Het pakket is onderweg. Fenna", []string{"PERSON:Fenna"}},
		{"it", "Il rimborso è stato emesso. Fabrizio, Casa Verde", []string{"PERSON:Fabrizio"}},
		{"en", "Please update my account, I was born 19/08/1977. Ottilie Brandt", []string{"DATE_OF_BIRTH:19/08/1977", "PERSON:Ottilie Brandt"}},
		// Look-alikes: a closing word that is not a name.
		{"en", "Your refund went out this morning. Anything else? Thanks", nil},
		{"de", "Die Ware ist unterwegs. Bis bald", nil},
		{"en", "The parcel left our warehouse today. Tracking to follow", nil},
		{"fr", "Le colis arrivera sous trois jours. Service client, Maison Bleuet", nil},
	})
}

// P2: a first name as a vocative, set off by commas.
func TestRound8VocativeName(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Sibylle, your slot is booked for Friday.", []string{"PERSON:Sibylle"}},
		{"en", "Yes Mirthe, we can swap the size.", []string{"PERSON:Mirthe"}},
		{"de", "Ja Jolien, das geht klar.", []string{"PERSON:Jolien"}},
		{"fr", "Oui Brigida, on peut l'échanger.", []string{"PERSON:Brigida"}},
		{"es", "Sí Mirthe, te lo cambiamos.", []string{"PERSON:Mirthe"}},
		{"en", "Invoice redone, Sibylle: you find it in your inbox.", []string{"PERSON:Sibylle"}},
		{"en", "Check it again, Brigida.", []string{"PERSON:Brigida"}},
		{"de", "Schau bitte nochmal nach, Henrike.", []string{"PERSON:Henrike"}},
		{"it", "Tutto a posto, Brigida, arriva mercoledì.", []string{"PERSON:Brigida"}},
		{"nl", "Komt goed, Mirthe, het komt woensdag.", []string{"PERSON:Mirthe"}},
		{"fr", "C'est noté, Sibylle, il arrive mercredi.", []string{"PERSON:Sibylle"}},
		{"es", "Todo listo, Jolien.", []string{"PERSON:Jolien"}},
		{"it", "Va bene Brigida, lo rispedisco.", []string{"PERSON:Brigida"}},
		{"nl", "Ok Roos, dank je.", []string{"PERSON:Roos"}},
		{"de", "Alles klar Jolien, ich melde mich.", []string{"PERSON:Jolien"}},
		// Look-alikes: capitalised common words, weekdays, months, places and
		// products in the same position.
		{"en", "Yes, Friday works.", nil},
		{"en", "Check it again, Monday.", nil},
		{"en", "Delivered to the depot, Manchester.", nil},
		{"de", "Ja, Montag passt.", nil},
		{"en", "Size swapped, Medium: you find it in your basket.", nil},
		{"fr", "Oui, Paris, c'est bien ça.", nil},
		{"en", "Thanks, Amazon.", nil},
		{"en", "Order placed, Express: arrives tomorrow.", nil},
		{"es", "Sí, Madrid.", nil},
		{"nl", "Ok, rood of groen?", nil},
		{"it", "Va bene, Grazie.", nil},
		{"it", "Tutto a posto, Grazie.", nil},
		// German capitalises nouns: in mid-sentence an unknown word is one.
		{"de", "Bitte vorher anrufen, Hund!", nil},
		{"de", "Bitte nochmal prüfen, Lieferschein.", nil},
		// Imperatives with a pronoun, adverbs, participles and questions.
		{"es", "Ya está, Revísalo.", nil},
		{"nl", "Uiteraard, je krijgt je geld terug.", nil},
		{"it", "Grazie mille, Risolto.", nil},
		{"nl", "Staat er iets op de doos? Garantie?", nil},
	})
}

// P3: chat self-introductions and greetings, often in lower case, and an
// agent introducing themself with the shop they write from.
func TestRound8ChatIntroductions(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "hey its marlene again, did the lamp ship?", []string{"PERSON:marlene"}},
		{"en", "ya its me tobias, the one with the broken kettle", []string{"PERSON:tobias"}},
		{"de", "hallo ich bin die hannelore, wo bleibt mein paket", []string{"PERSON:hannelore"}},
		{"nl", "hoi ik ben joris, waar blijft mijn bestelling", []string{"PERSON:joris"}},
		{"fr", "bjr c'est gaspard, toujours rien reçu", []string{"PERSON:gaspard"}},
		{"es", "hola soy teodoro, no me ha llegado nada", []string{"PERSON:teodoro"}},
		{"it", "ciao sono fabrizio, il pacco non è arrivato", []string{"PERSON:fabrizio"}},
		{"it", "ok grazie mille ciao Aurelio", []string{"PERSON:Aurelio"}},
		{"fr", "bjr Corentin, du nouveau pour ma commande ?", []string{"PERSON:Corentin"}},
		{"fr", "ok merci bcp gaspard", []string{"PERSON:gaspard"}},
		{"en", "great thanks tobias", []string{"PERSON:tobias"}},
		{"en", "ok thank u kasia x", []string{"PERSON:kasia"}},
		{"fr", "merci margaux", []string{"PERSON:margaux"}},
		{"nl", "bedankt roos!", []string{"PERSON:roos"}},
		{"es", "vale, gracias amparo", []string{"PERSON:amparo"}},
		{"en", "thanks again", nil},
		{"fr", "merci beaucoup", nil},
		{"en", "thanks, will do", nil},
		{"es", "hola teodoro, ya lo tengo", []string{"PERSON:teodoro"}},
		{"en", "You're chatting with Kasia from Lampenhuis. How can I help?", []string{"PERSON:Kasia"}},
		{"fr", "Vous échangez avec Margaux, comment puis-je vous aider ?", []string{"PERSON:Margaux"}},
		{"nl", "Je spreekt met Loes van Lampenfabriek Noord, waarmee kan ik helpen?", []string{"PERSON:Loes"}},
		{"nl", "Je spreekt met Wim van Fietsenwinkel De Spaak.", []string{"PERSON:Wim"}},
		{"nl", "Beste Meubelfabriek Hoorn, mijn kast is beschadigd.", nil},
		// Look-alikes: the same frames around ordinary words, and a real
		// surname particle.
		{"en", "its fine, the lamp shipped", nil},
		{"de", "ich bin die ganze Woche weg", nil},
		{"nl", "ik ben blij met de lamp", nil},
		{"fr", "c'est bon, merci bcp", nil},
		{"es", "hola, soy nueva aquí", nil},
		{"nl", "Je spreekt met Loes van Dijk.", []string{"PERSON:Loes van Dijk"}},
	})
}

// P4: names after role, relation and form-field words.
func TestRound8RoleNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "my sister Anna Maria will pick it up", []string{"PERSON:Anna Maria"}},
		{"en", "my cousin Mei Ling collects it", []string{"PERSON:Mei Ling"}},
		{"nl", "mijn dochter komt in mei langs", nil},
		{"es", "se lo di al jefe teodoro ayer", []string{"PERSON:teodoro"}},
		{"es", "Llamaron preguntando por Amparo esta mañana.", []string{"PERSON:Amparo"}},
		{"it", "Al telefono chiedete di Benedetta, per favore.", []string{"PERSON:Benedetta"}},
		{"nl", "Het is voor ons kind Fenna, ze is zes.", []string{"PERSON:Fenna"}},
		{"es", "el pedido está a nombre de amparo ruiz", []string{"PERSON:amparo ruiz"}},
		{"en", "please send it to ilse in accounts", []string{"PERSON:ilse"}},
		{"en", "the account name is J Whitcombe", []string{"PERSON:J Whitcombe"}},
		{"en", "order 5512 and name O'Donoghue please", []string{"PERSON:O'Donoghue"}},
		{"nl", "bel aan bij de Jong, tweede verdieping", []string{"PERSON:de Jong"}},
		{"nl", "Mag het pakket bij de Wit op nummer 14?", []string{"PERSON:de Wit"}},
		{"nl", "Ik heb het bij de Action gekocht", nil},
		{"en", "Register me for the loyalty card: Rosalind Ashworth-Pryce\n14 Mill Lane\nYork YO1 7HP", []string{"PERSON:Rosalind Ashworth-Pryce", "ADDRESS:14 Mill Lane\nYork YO1 7HP"}},
		{"en", "Parcel addressed to T. Greaves never arrived", []string{"PERSON:T. Greaves"}},
		{"en", "The courier said Greaves signed for it", []string{"PERSON:Greaves"}},
		{"es", "El repartidor dice que Urquijo firmó la entrega", []string{"PERSON:Urquijo"}},
		// Look-alikes.
		{"en", "The courier said Reception signed for it", nil},
		{"en", "Parcel addressed to the wrong flat", nil},
		{"en", "my sister said it was fine", nil},
		{"es", "se lo di al jefe ayer", nil},
		{"en", "please send it to accounts in the morning", nil},
		{"en", "the account name is wrong", nil},
	})
}

// F1-F4: person false alarms.
func TestRound8PersonFalseAlarms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The SMS said \"Don't miss your delivery\" and then nothing.", nil},
		{"en", "Got a text: \"Won't be able to deliver today. Can't reach you.\"", nil},
		{"en", "I paid for next-day, Express.", nil},
		{"de", "Ich habe extra bezahlt, Premium.", nil},
		{"en", "Please switch it to Standard.", nil},
		{"de", "Danke, Express!", nil},
		{"en", "Thanks, Premium", nil},
		{"en", "I love the \"Frieda\" in brass, is it back in stock?", nil},
		{"de", "Ist die \"Luna\" in Eiche noch lieferbar?", nil},
		{"fr", "La \"Margot\" en noyer est-elle disponible ?", nil},
		{"en", "I asked to be handed to an agent. Handed over after ten minutes.", nil},
		{"en", "I spoke to an agent. Nobody called back.", nil},
	})
}

// S1-S3: secrets named earlier in the sentence than the value.
func TestRound8SecretNarrative(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// S1: a password disclosed in narrative after the password cue.
		{"en", "The caller asked for my password. I told them it was Kestrel!88 and now I regret it.", []string{"SECRET:Kestrel!88"}},
		{"de", "Ich hab ihm mein Passwort gesagt, es war Moosbach#2024.", []string{"SECRET:Moosbach#2024"}},
		{"fr", "Il m'a demandé mon mot de passe, je lui ai dit que c'était Lavande_77.", []string{"SECRET:Lavande_77"}},
		{"es", "Me pidió la contraseña y le dije que era Girasol.2024", []string{"SECRET:Girasol.2024"}},
		{"nl", "Hij vroeg om mijn wachtwoord en ik zei dat het Tulpen!9 was.", []string{"SECRET:Tulpen!9"}},
		{"it", "Mi ha chiesto la password, gli ho detto che era Gabbiano*31.", []string{"SECRET:Gabbiano*31"}},
		// S2: a token after a token cue with words in between.
		{"de", "Hier unser Shopware-API-Token für den Export: SWIAQ1ZRNDJXRKT2YMRFS0VHZW", []string{"SECRET:SWIAQ1ZRNDJXRKT2YMRFS0VHZW"}},
		{"en", "The API key for the product feed is K7PQ2MZX9WRT4LBN8YHC3DFV6J", []string{"SECRET:K7PQ2MZX9WRT4LBN8YHC3DFV6J"}},
		{"nl", "Onze API-token voor de koppeling: QMWRTZKXHPVN7BLDFGJSYCETAU", []string{"SECRET:QMWRTZKXHPVN7BLDFGJSYCETAU"}},
		{"fr", "La clé API pour le flux produit est 9XKQ2MT7ZPW4RBN8LHC3DFV6YJ", []string{"SECRET:9XKQ2MT7ZPW4RBN8LHC3DFV6YJ"}},
		// S3: locker and pickup codes with a hyphen.
		{"fr", "Votre code casier Pickup : 5H2-M71", []string{"SECRET:5H2-M71"}},
		{"it", "Il codice del locker che mi avete mandato: 8K3-4T62 non funziona", []string{"SECRET:8K3-4T62"}},
		{"en", "The pickup code for the parcel locker you sent me, 3R9-D45, is rejected.", []string{"SECRET:3R9-D45"}},
		{"de", "Der Abholcode für die Packstation lautet 6W1-8N3", []string{"SECRET:6W1-8N3"}},
		{"nl", "De ophaalcode van de pakketautomaat is 2Q7-5B82", []string{"SECRET:2Q7-5B82"}},
		{"es", "El código de recogida del locker: 9T4-H26", []string{"SECRET:9T4-H26"}},
		// Look-alikes: no secret named, or a reference.
		{"en", "The caller asked for my password. I told them no and hung up.", nil},
		{"de", "Ich hab mein Passwort vergessen, es war irgendwas mit Sommer.", nil},
		{"en", "The API docs for the feed are at version 2, see section 4.", nil},
		{"it", "Il codice articolo del locker è LK-200.", nil},
		{"en", "Return reference for the locker parcel: RMA-88213", nil},
	})
}

// A1: a room, flat or unit after the house number belongs to the address;
// a facility's name on the line above the street does not.
// A2: street names without a street-type word (preposition, article or
// adjective and a noun) before a house number and a postcode.
func TestRound8AddressForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Bitte an meine Mutter:\nSeniorenstift Lindenhof\nGartenweg 7, Zimmer 112\n35390 Gießen", []string{"ADDRESS:Gartenweg 7, Zimmer 112\n35390 Gießen"}},
		{"de", "Lieferadresse: Bahnhofstraße 21, Wohnung 4, 79098 Freiburg", []string{"ADDRESS:Bahnhofstraße 21, Wohnung 4, 79098 Freiburg"}},
		{"en", "Send it to 48 Quarry Road, Flat 3, Leeds LS6 2BT", []string{"ADDRESS:48 Quarry Road, Flat 3, Leeds LS6 2BT"}},
		{"en", "Address: 210 Harbor Street, Apt 4B, Portland, ME 04101", []string{"ADDRESS:210 Harbor Street, Apt 4B, Portland, ME 04101"}},
		{"fr", "Livrez au 17 rue des Tanneurs, app. 12, 67000 Strasbourg", []string{"ADDRESS:17 rue des Tanneurs, app. 12, 67000 Strasbourg"}},
		{"es", "Mi dirección: Calle Olmo 9, piso 3º, 28014 Madrid", []string{"ADDRESS:Calle Olmo 9, piso 3º, 28014 Madrid"}},
		{"it", "Via dei Mille 14, interno 6, 40121 Bologna", []string{"ADDRESS:Via dei Mille 14, interno 6, 40121 Bologna"}},
		{"nl", "Kastanjelaan 3, kamer 208\n3581 KL Utrecht", []string{"ADDRESS:Kastanjelaan 3, kamer 208\n3581 KL Utrecht"}},
		// A2.
		{"de", "Neue Anschrift: Am Lerchenberg 5, 34117 Kassel", []string{"ADDRESS:Am Lerchenberg 5, 34117 Kassel"}},
		{"de", "Wir wohnen jetzt Untere Wiese 3\n72070 Tübingen", []string{"ADDRESS:Untere Wiese 3\n72070 Tübingen"}},
		{"de", "Lieferung an: Auf der Höhe 12, 53340 Meckenheim", []string{"ADDRESS:Auf der Höhe 12, 53340 Meckenheim"}},
		{"de", "Im Grund 4\n69117 Heidelberg", []string{"ADDRESS:Im Grund 4\n69117 Heidelberg"}},
		{"nl", "Mijn adres: Hoge Akker 17, 7411 KP Deventer", []string{"ADDRESS:Hoge Akker 17, 7411 KP Deventer"}},
		{"de", "Neue Adresse: Obere Mühle 3, 34576 Homberg", []string{"ADDRESS:Obere Mühle 3, 34576 Homberg"}},
		{"de", "Bitte an Untere Aue 8, 83022 Rosenheim liefern", []string{"ADDRESS:Untere Aue 8, 83022 Rosenheim"}},
		// Look-alikes: a number after such words without a postcode, and a
		// room number alone.
		{"de", "Am Montag 5 Pakete, bitte.", nil},
		{"de", "Im Grund 4 Stück bestellt.", nil},
		{"de", "Obere Schublade 3, 12 Teile fehlen", nil},
		{"en", "Room 214 was cold, the flat 3 was fine.", nil},
	})
}

// D1: a birth-date cue with words before the value; D2: the ordinal first
// of a month in Italian, French and Spanish.
func TestRound8BirthDates(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "the form wants \"DOB (MM/DD/YYYY)\", i put 03/14/1991 and it errors", []string{"DATE_OF_BIRTH:03/14/1991"}},
		{"de", "Geburtsdatum vom Kind für die Garantie: 4. Mai 2018", []string{"DATE_OF_BIRTH:4. Mai 2018"}},
		{"fr", "Date de naissance de ma fille pour l'inscription : 9 avril 2016", []string{"DATE_OF_BIRTH:9 avril 2016"}},
		{"es", "Fecha de nacimiento del titular para la garantía: 22/06/1979", []string{"DATE_OF_BIRTH:22/06/1979"}},
		{"nl", "Geboortedatum van mijn zoon voor het account: 11-02-2015", []string{"DATE_OF_BIRTH:11-02-2015"}},
		{"it", "Data di nascita del bambino per la garanzia: 30/09/2019", []string{"DATE_OF_BIRTH:30/09/2019"}},
		// D2.
		{"it", "Sono nata il 1° maggio 1980, serve altro?", []string{"DATE_OF_BIRTH:1° maggio 1980"}},
		{"fr", "Je suis né le 1er mars 1975.", []string{"DATE_OF_BIRTH:1er mars 1975"}},
		{"es", "Nací el 1º de junio de 1988.", []string{"DATE_OF_BIRTH:1º de junio de 1988"}},
		{"it", "data di nascita: 1º ottobre 1969", []string{"DATE_OF_BIRTH:1º ottobre 1969"}},
		// Look-alikes: other dates after the cue's words.
		{"de", "Geburtsdatum vom Kind ändern geht nicht, Bestellung vom 4. Mai 2025", nil},
		{"it", "Consegna prevista il 1° maggio 2026.", nil},
		{"fr", "Livraison le 1er mars 2026.", nil},
	})
}

// T1: international numbers of every region of the message's language
// (PII-LABELS.md: a +CC number counts when its country is one of them, so
// a Swiss number in a French or Italian message, not a Spanish one in a
// German message); T2: Italian landlines.
func TestRound8Phones(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Vous pouvez me joindre au +41 22 839 17 50 en journée.", []string{"PHONE:+41 22 839 17 50"}},
		{"it", "Il mio ufficio a Lugano: +41 91 923 48 15", []string{"PHONE:+41 91 923 48 15"}},
		{"de", "Mein Handy in Wien: +43 664 3812907", []string{"PHONE:+43 664 3812907"}},
		{"nl", "Bel mijn Belgische nummer: +32 470 18 42 93", []string{"PHONE:+32 470 18 42 93"}},
		{"es", "Mi móvil mexicano es +52 55 1234 5678", []string{"PHONE:+52 55 1234 5678"}},
		{"en", "Call my office in Dublin, +353 1 874 6502.", []string{"PHONE:+353 1 874 6502"}},
		{"fr", "Le standard de l'hôtel à Genève, +41 22 839 17 50, ne répond pas.", []string{"PHONE:+41 22 839 17 50"}},
		{"nl", "Mijn pas 4772 9708 1627 0591 werkt niet", []string{"CARD:4772 9708 1627 0591"}},
		{"it", "Potete richiamarmi allo 02 8417 3396, per la fattura", []string{"PHONE:02 8417 3396"}},
		// T2.
		{"it", "Chiamatemi allo 02 8417 3396 dopo le 15.", []string{"PHONE:02 8417 3396"}},
		{"it", "Il numero dell'ufficio è 06 4471 2290", []string{"PHONE:06 4471 2290"}},
		{"it", "al numero 011 564 8821 risponde il magazzino", []string{"PHONE:011 564 8821"}},
		// Look-alikes: outside the language's regions (the contract's
		// reading), and references.
		{"de", "Mein Handy in Spanien: +34 612 48 93 27", nil},
		{"it", "Ordine 02 8417 3396 00 annullato", nil},
		{"fr", "Montant +41 22 euros", nil},
	})
}

// C1: Diners 4-6-4, Amex 4-6-5 and hyphenated Mastercards after card words
// in French and Spanish (numbers from the labelset generator, seed 808).
func TestRound8Cards(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Carte Diners de l'entreprise : 3054 946650 3091", []string{"CARD:3054 946650 3091"}},
		{"es", "Tarjeta de empresa: 3407 048900 99845", []string{"CARD:3407 048900 99845"}},
		{"es", "Mastercard de la empresa: 5501-4944-8534-9169, pago de 1.240,00 €", []string{"CARD:5501-4944-8534-9169"}},
		{"fr", "Carte de la société : 3006 654571 2908, merci", []string{"CARD:3006 654571 2908"}},
		{"it", "Carta aziendale Amex: 3498 137559 04469", []string{"CARD:3498 137559 04469"}},
		// Luhn-failing look-alikes.
		{"fr", "Carte Diners de l'entreprise : 3054 946650 3092", nil},
		{"es", "Tarjeta de empresa: 3407 048900 99846", nil},
	})
}
