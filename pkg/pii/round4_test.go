package pii

import "testing"

// Round 4: false-alarm classes found on the spent splits (dev, holdout,
// fresh, unseen) and in look-alikes of our own, each fixed by a general
// rule. The sentences are written for these tests, not taken from any
// split; every class has its look-alikes beside positives of the same shape.

// A title or label glued to an e-mail address or domain is its top-level
// domain (".fr", ".mx"), not a cue for the word after it.
func TestRound4DomainIsNoTitle(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Compte client : jeanne.morel@orange.fr. Le remboursement arrive quand ?", []string{"EMAIL:jeanne.morel@orange.fr"}},
		{"es", "Mi correo es pablo.ruiz@correo.mx. Dice el sistema que no existe.", []string{"EMAIL:pablo.ruiz@correo.mx"}},
		{"de", "Mehr unter www.laden-beispiel.de/fr. Neue Ware kommt Montag.", nil},
		// The same titles standing alone still open a name.
		{"fr", "Mme Roux a signé pour le colis.", []string{"PERSON:Roux"}},
		{"de", "Schreiben Sie an info@laden-beispiel.de. Frau Keller hat das bestätigt.", []string{"EMAIL:info@laden-beispiel.de", "PERSON:Keller"}},
		{"de", "Fr. Albrecht nimmt das Paket an.", []string{"PERSON:Albrecht"}},
	})
}

// "Don"/"Doña" after an article begin a work's or character's title; as an
// honorific they take no article.
func TestRound4DonAfterArticle(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "Busco el Don Quijote de bolsillo, ¿lo tenéis?", nil},
		{"es", "Don Ramón Ibáñez recogió el paquete ayer.", []string{"PERSON:Ramón Ibáñez"}},
		{"es", "Entregadlo a Don Ramón, el portero.", []string{"PERSON:Ramón"}},
	})
}

// "de cliente" straight after a word makes a compound noun (a form, a
// record), not a person from the customer team.
func TestRound4CustomerCompound(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "Ficha de cliente incompleta, faltan datos.", nil},
		{"es", "Registro de cliente — revisad por favor.", nil},
		{"es", "Yaretzi de atención al cliente me dijo que lo reenviaban.", []string{"PERSON:Yaretzi"}},
		{"en", "Stanley from the warehouse called me back.", []string{"PERSON:Stanley"}},
	})
}

// A given name in a product's noun phrase is the brand or model: between a
// determiner and a goods noun, after a goods noun in Romance word order, or
// right after a greeting with its product after it.
func TestRound4NameInProductPhrase(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The Stanley tumbler I got has a cracked lid.", nil},
		{"en", "my Kelly bag came without the dust cover", nil},
		{"es", "La taza Stanley llegó rota.", nil},
		{"it", "La borraccia Stanley perde acqua dal tappo.", nil},
		{"en", "Hey, River Island jeans sizing question: 30 or 32?", nil},
		// People in the same places.
		{"en", "The bag Emma ordered is torn.", []string{"PERSON:Emma"}},
		{"en", "Hi Stanley, the cup arrived.", []string{"PERSON:Stanley"}},
		{"en", "Thanks Anna, bag arrived fine.", []string{"PERSON:Anna"}},
	})
}

// A name that is also a word, opening the sentence, with an object pronoun
// and a verb after it is the subject ("Rosa lo quiere en rosa").
func TestRound4AmbiguousNameWithClitic(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "Rosa lo quiere en rosa, ¿hay talla M?", []string{"PERSON:Rosa"}},
		{"it", "Rosa la vuole rosa, c'è ancora?", []string{"PERSON:Rosa"}},
		{"es", "Rosa la tenéis en talla S?", nil},
		{"es", "Rosa o azul, ¿cuál queda mejor?", nil},
	})
}

// German and Dutch compounds that start with a given name are things
// ("Engel-Figur", "Fleur-print"); a double name is names throughout.
func TestRound4NameCompounds(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Engel-Figur kam kaputt an.", nil},
		{"de", "Heide-Honig wieder da?", nil},
		{"nl", "Fleur-print jurk nog leverbaar?", nil},
		{"nl", "Bas-gitaar snaren op voorraad?", nil},
		{"de", "Hans-Peter hat das Paket angenommen.", []string{"PERSON:Hans-Peter"}},
		{"fr", "Anne-Marie a récupéré la commande.", []string{"PERSON:Anne-Marie"}},
	})
}

// A team, an office or a role signs or is thanked, not a person; seasonal
// wishes after a sign-off are no name.
func TestRound4TeamsAndWishes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Grüße,\nFiliale Nord", nil},
		{"en", "Thanks,\nHead Office", nil},
		{"nl", "Bedankt Marktplaats-verkoper, alles goed ontvangen.", nil},
		{"de", "Grüße, Frohes Fest", nil},
		{"de", "Grüße,\nBirgit", []string{"PERSON:Birgit"}},
		{"en", "Thanks,\nOlusegun", []string{"PERSON:Olusegun"}},
	})
}

// A version word governs the device after "of": "the firmware of the
// router is 7.40.3.18" is a version, while "update the router" does not
// make a router's address one.
func TestRound4VersionOfDevice(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Die Firmware vom Router ist 7.62.3.14, seitdem ist das WLAN weg.", nil},
		{"en", "the firmware of the router is 7.40.3.18 and it keeps rebooting", nil},
		{"de", "Nach dem Update ist der Router unter 85.12.44.7 erreichbar.", []string{"IP:85.12.44.7"}},
		{"en", "update the router at 84.17.32.9 please", []string{"IP:84.17.32.9"}},
	})
}

// A lower-case street name is names, not a clause: a copula or function
// word between a street type and a number makes them no address.
func TestRound4StreetNameIsNoClause(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "Il negozio di via del Corso è aperto fino alle 19", nil},
		{"it", "Spedite in via roma 12, 20121 milano", []string{"ADDRESS:via roma 12, 20121 milano"}},
		{"es", "Vivo en calle mayor 15, Madrid", []string{"ADDRESS:calle mayor 15, Madrid"}},
	})
}

// A phone-valid window cut from the middle of a longer spaced number (short
// groups on both sides) is part of that number.
func TestRound4PhoneInsideLongerNumber(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Ce numéro en haut du formulaire, 2 81 07 75 218 904 17, sert à quoi ? Je crois que c'est un numéro de sécu mais pas le mien.", nil},
		{"fr", "Appelez-moi au 06 12 34 56 78 après 18h.", []string{"PHONE:06 12 34 56 78"}},
		{"de", "Tel. 030 12345678 ab 9 Uhr erreichbar.", []string{"PHONE:030 12345678"}},
	})
}

// "auth code" on a receipt or a charge is the issuer's authorisation code;
// without a payment it is an authenticator's code. A stock, item or part
// code is no credential, also when it opens the message.
func TestRound4AuthAndStockCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Two charges on my statement, auth code 551207 on each.", nil},
		{"en", "Charged twice, auth. code 118204 on both transactions.", nil},
		{"en", "Stock code 771204 BLK, when is it back?", nil},
		{"en", "Hi, part code 771204, when is it back?", nil},
		{"en", "The auth code 552018 from the app doesn't let me log in.", []string{"SECRET:552018"}},
		{"en", "Your code is 771204, it expires in 10 minutes.", []string{"SECRET:771204"}},
	})
}

// A transcript's speaker is named in parentheses after the role ("Agent
// (Oluwaseun):") or after a chat export's timestamp ("[10:14] Priyanka:");
// a role, a team or a note's flag there is no name.
func TestRound4SpeakerLabels(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Agent (Oluwaseun): Hello, how can I help?\nCustomer: my order 5512 is late", []string{"PERSON:Oluwaseun"}},
		{"nl", "Medewerker (Femke): Wat is het nieuwe adres?", []string{"PERSON:Femke"}},
		{"fr", "Conseiller (Yanis) : Bonjour, que puis-je faire ?", []string{"PERSON:Yanis"}},
		{"en", "[03/02/2026, 10:14] Priyanka: is the blue one back?\n[03/02/2026, 10:15] Shop: yes!", []string{"PERSON:Priyanka"}},
		{"es", "[09:12] Agente Rocío: Ya está resuelto.", []string{"PERSON:Rocío"}},
		{"en", "Note (Urgent): call back", nil},
		{"en", "Support (Tier 2): escalated.", nil},
		{"it", "[09:12] Cliente: avete la taglia M?", nil},
	})
}

// A doorbell, an intercom or a buzzer names who lives there without a
// colon; a relative named in lower case ends at the verb after the name.
func TestRound4DoorbellsAndRelatives(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "ring the bell for Abernathy, flat 3", []string{"PERSON:Abernathy"}},
		{"fr", "interphone Benhamou, 2e étage", []string{"PERSON:Benhamou"}},
		{"nl", "bel bij El Amrani aub", []string{"PERSON:El Amrani"}},
		{"it", "suonare Bernasconi al citofono", []string{"PERSON:Bernasconi"}},
		{"en", "ring the bell for Delivery", nil},
		{"es", "mi hermana carmen quiere otro", []string{"PERSON:carmen"}},
		{"fr", "ma cousine inès la veut aussi", []string{"PERSON:inès"}},
		{"en", "my sister will pick it up", nil},
	})
}

// A bare 32-hex key in a message that names an API key is that key, also
// after an error word or on a later line; not in a message without one,
// nor after a hash word.
func TestRound4NamedAPIKeys(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "la clé API du plugin ne fonctionne plus : 5be0c1a2d4e6f8091a2b3c4d5e6f7a8b, copiée depuis le tableau de bord", []string{"SECRET:5be0c1a2d4e6f8091a2b3c4d5e6f7a8b"}},
		{"it", "Errore \"chiave API scaduta\", usiamo questa: 0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", []string{"SECRET:0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"}},
		{"de", "Support: Bitte nie Ihren API-Schlüssel posten.\nKunde: zu spät, hier ist er: 7d1e9c2b4a6f8e0d3c5b7a9f1e2d4c6b", []string{"SECRET:7d1e9c2b4a6f8e0d3c5b7a9f1e2d4c6b"}},
		{"en", "Order id 5be0c1a2d4e6f8091a2b3c4d5e6f7a8b, where is it?", nil},
		{"en", "The API export shows md5 checksum 5be0c1a2d4e6f8091a2b3c4d5e6f7a8b for the file", nil},
	})
}

// A code in a message about a discount stays a promo code when what the
// writer "got" is the discount ("got 10% off", "kreeg korting", free
// shipping); claim, case and warranty codes are references; a gift card's
// code is the card's, in compounds too.
func TestRound4DiscountAndReferenceCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "I entered code 448120 and got 10% off, great", nil},
		{"nl", "Ik heb code 118204 ingevuld en kreeg 10% korting.", nil},
		{"en", "Is the code 4471 still valid for free shipping?", nil},
		{"en", "Claim code 771204 from the insurance letter.", nil},
		{"nl", "Cadeaukaart code 8841 2290 1173 wordt niet geaccepteerd.", nil},
		// Codes that were sent to the writer stay credentials.
		{"en", "I got the code 448120 by text but it says invalid", []string{"SECRET:448120"}},
		{"en", "The code you sent me, 551207, doesn't work and I wanted the 10% off", []string{"SECRET:551207"}},
		{"nl", "Ik kreeg code 118204 per sms maar inloggen lukt niet", []string{"SECRET:118204"}},
	})
}

// Shops, couriers and payment services customers greet or thank are no
// people, nor is a name where something was bought ("bij Dirk gekocht");
// a family word before a surname is outside the name.
func TestRound4ShopsAndFamilies(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Cheers Royal Mail for losing it again", nil},
		{"en", "Thanks Evri, very helpful (not)", nil},
		{"en", "Hello Argos, is the Ninja air fryer back?", nil},
		{"nl", "Piet Klerkx had de bank niet op voorraad.", nil},
		{"nl", "Ik heb het bij Dirk gekocht, niet bij jullie.", nil},
		{"en", "I bought it from Sarah on Vinted", []string{"PERSON:Sarah"}},
		{"nl", "Met vriendelijke groet,\nFam. de Boer", []string{"PERSON:de Boer"}},
		{"de", "Viele Grüße\nFamilie Meier", []string{"PERSON:Meier"}},
	})
}

// One nine-digit number in eleven passes the BSN 11-proof by chance: in a
// Dutch message with no cue it is a BSN only when the message is about
// identity or official papers. A plain SSN-valid number without a cue of
// its own is an SSN when the message speaks of one.
func TestRound4NineDigitContext(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Graag terugbellen over 192285142.", nil},
		{"nl", "Mijn vraag gaat over 691682483, die is nog niet geleverd.", nil},
		{"nl", "Voor de belastingdienst heb ik dit nodig: 192285142", []string{"NATIONAL_ID:192285142"}},
		{"nl", "Mijn BSN is 725763863, moet dat bij de garantie?", []string{"NATIONAL_ID:725763863"}},
		{"en", "The chatbot asked for my SSN?? I entered 219604417 and now I'm worried", []string{"NATIONAL_ID:219604417"}},
		{"en", "Your SSN isn't needed. Order 219604417 ships Monday.", nil},
		{"en", "Tracking 219604417, no update since Monday.", nil},
	})
}

// A trade or an institution word in a name makes it a business's or a
// foundation's; a name before more goods nouns (a mattress, a doll) is
// the product's.
func TestRound4BusinessesAndMoreGoods(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Beste Jansen Meubelen, wanneer wordt de kast geleverd?", nil},
		{"nl", "Prins Bernhard Cultuurfonds loten?", nil},
		{"de", "Hallo Autohaus Becker, ist der Reifen da?", nil},
		{"nl", "Ik zoek de Emma matras, 90x200.", nil},
		{"nl", "Bestelling voor Sinterklaas: de Piet pop.", nil},
		{"nl", "Beste Jansen, wanneer wordt de kast geleverd?", []string{"PERSON:Jansen"}},
		{"nl", "Emma heeft de matras besteld.", []string{"PERSON:Emma"}},
	})
}

// "Mine is still <number> for the account" after someone else's number:
// the pronoun stands for "my number", so the account after it says what the
// phone is for, not that it is an account number.
func TestRound4MineAfterANumber(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "My wife's number is 0161 496 0321. Mine is still 020 7946 0112 for the account.", []string{"PHONE:0161 496 0321", "PHONE:020 7946 0112"}},
		{"nl", "Het nummer van mijn dochter is 06 12 34 56 78. Het mijne blijft 030 271 4455 voor het account.", []string{"PHONE:06 12 34 56 78", "PHONE:030 271 4455"}},
		{"en", "Mine arrived broken, order 0161 4960 321.", nil},
		{"en", "Mine is order 4471-2290, not the other one.", nil},
	})
}

// A name paired in brackets with another person ("(Dwayne and another
// lad)") is a person; a paired colour or size is not.
func TestRound4NamePairedWithAPerson(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The fitters (Dwayne and another lad) left mud everywhere.", []string{"PERSON:Dwayne"}},
		{"es", "Los transportistas (Yago y otro chico) dejaron la caja fuera.", []string{"PERSON:Yago"}},
		{"it", "I tecnici (Ciro e un collega) sono stati gentilissimi.", []string{"PERSON:Ciro"}},
		{"en", "The colours (Navy and another shade) both faded.", nil},
		{"en", "The sizes (Large and a medium) both came.", nil},
	})
}

// A role label with a colon names its speaker when the name is known or
// carries an initial; an agent's first word is as often "Sorry". A
// speaker label before a code is who writes, not what the code is for.
func TestRound4RoleLabels(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Zending staat klaar. Medewerker: Joep K.", []string{"PERSON:Joep K."}},
		{"es", "Agente: Nuria P.", []string{"PERSON:Nuria P."}},
		{"en", "Agent: Anna here, how can I help?", []string{"PERSON:Anna"}},
		{"en", "Agent: Sorry about that, I'll check.", nil},
		{"en", "Agent: Perfect, thanks.", nil},
		{"en", "Agent: Brilliant, your refund is on its way.", nil},
		{"nl", "Medewerker: Helaas is het pakket zoek.", nil},
		{"en", "Customer: the code you sent me is 771 204 but it timed out before I could enter it\nAgent: I've sent another one.", []string{"SECRET:771 204"}},
		{"en", "Customer code: 771204, please update my address.", nil},
	})
}

// Chat shorthand introductions: German without "ich" ("bin die jana"),
// French SMS "c" for "c'est" ("slt c manon"); only in their languages, and
// like other weak introductions an unknown word after them is no name.
func TestRound4ChatShorthandIntros(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "hi bin die jana von gestern, die karte geht jetzt", []string{"PERSON:jana"}},
		{"fr", "slt c manon, j'ai un souci avec ma commande", []string{"PERSON:manon"}},
		{"de", "bin gespannt ob es klappt", nil},
		{"fr", "c bon pour moi merci", nil},
		{"de", "Ich bin Rentner und brauche Hilfe.", nil},
		{"en", "Vitamin c anna said is sold out", nil},
	})
}

// A provider key prefix with nothing after it ("key-", "SG." at the end of
// a message) is no key and must not crash the scan: trimming the trailing
// punctuation once ran into the prefix.
func TestRound4BareKeyPrefix(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"key-", "my api key-", "sk-", "xoxb-.", "SG.", "the key- is lost", "ya29.-"} {
		if got := testEngine.Detect(text, "en"); len(got) != 0 {
			t.Errorf("Detect(%q) = %v, want nothing", text, got)
		}
	}
}

// A question for the date of birth answered on the next line by a bare
// date (after a speaker label or none) is the birth date; a date with more
// on its line is not an answer.
func TestRound4BirthDateAnsweredBelow(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Agent (Ruth): To verify, can you confirm your date of birth?\nCustomer: 14 March 1983", []string{"PERSON:Ruth", "DATE_OF_BIRTH:14 March 1983"}},
		{"fr", "Conseiller : Quelle est votre date de naissance ?\n12/09/1988", []string{"DATE_OF_BIRTH:12/09/1988"}},
		{"es", "¿Me confirma su fecha de nacimiento?\nCliente: 7 de julio de 1968", []string{"DATE_OF_BIRTH:7 de julio de 1968"}},
		{"en", "What's your date of birth?\nAlso, the parcel came on 12/03/2024 and was damaged.", nil},
		{"en", "Birthday present for my son!\n12/05/2024 is when I need it", nil},
	})
}
