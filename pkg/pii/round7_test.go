package pii

import "testing"

// Round 7: contract coverage, not set tuning. For the classes the blind
// splits measure weakest (CARD, SECRET, DATE_OF_BIRTH, English PERSON,
// German ADDRESS) every form, position and exclusion PII-LABELS.md names is
// written here as a shop-chat sentence of our own, in each language where
// the form applies, beside look-alikes of the same shape that must stay
// clean. Card numbers come from the labelset generator (seed 707); the
// Luhn-failing ones are those with the last digit changed.

func TestRound7CardForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// Brands and lengths 13–19, compact and grouped.
		{"en", "My Visa is 4772 9708 1627 0591, expiry 08/27.", []string{"CARD:4772 9708 1627 0591"}},
		{"en", "card number 4220437969850 (old 13-digit Visa)", []string{"CARD:4220437969850"}},
		{"en", "Can you charge the Visa 4200 2389 1737 2030 586 instead?", []string{"CARD:4200 2389 1737 2030 586"}},
		{"en", "Mastercard: 5541-4008-8481-0505", []string{"CARD:5541-4008-8481-0505"}},
		{"en", "use my new Mastercard 2645 3492 4843 1999 please", []string{"CARD:2645 3492 4843 1999"}},
		{"en", "Amex 3778 328583 10874, the one on file expired", []string{"CARD:3778 328583 10874"}},
		{"en", "Discover card 6011.6275.8337.5435", []string{"CARD:6011.6275.8337.5435"}},
		{"en", "my JCB number is 3578714147795159", []string{"CARD:3578714147795159"}},
		{"en", "Diners Club 3043 111293 2331 still works?", []string{"CARD:3043 111293 2331"}},
		{"en", "Maestro 6759 9223 1378 2646 got declined", []string{"CARD:6759 9223 1378 2646"}},
		{"en", "UnionPay 6202 3697 7182 8636 05", []string{"CARD:6202 3697 7182 8636 05"}},
		{"en", "paid with 62963547507348378 yesterday", []string{"CARD:62963547507348378"}},
		// Split over a line break: one span with the break inside.
		{"en", "here is the card 4496 6390\n5471 5139 thanks", []string{"CARD:4496 6390\n5471 5139"}},
		{"de", "Kartennummer: 4183 7692\n2399 0590", []string{"CARD:4183 7692\n2399 0590"}},
		// A compact number wrapped onto the next line, with a card word.
		{"en", "card 47729708\n16270591 exp 08/27", []string{"CARD:47729708\n16270591"}},
		{"nl", "mijn kaart: 55414008\n84810505", []string{"CARD:55414008\n84810505"}},
		// Typed in groups of no card layout, with a card word.
		{"en", "my card is 47729708 16270591", []string{"CARD:47729708 16270591"}},
		{"de", "Kartennummer 4772 9708 16270591", []string{"CARD:4772 9708 16270591"}},
		{"fr", "ma carte : 477297 0816 270591", []string{"CARD:477297 0816 270591"}},
		// Other separators and positions.
		{"en", "card 4772-9708-\n1627-0591", []string{"CARD:4772-9708-\n1627-0591"}},
		{"en", "card 4772\u00a09708\u00a01627\u00a00591", []string{"CARD:4772\u00a09708\u00a01627\u00a00591"}},
		{"en", "card #4772970816270591", []string{"CARD:4772970816270591"}},
		{"en", "Card no.\n4772 9708 1627 0591\nExp 08/27\nCVV 123", []string{"CARD:4772 9708 1627 0591"}},
		{"es", "la tarjeta que termina en 0591 no, usa la 4772 9708 1627 0591", []string{"CARD:4772 9708 1627 0591"}},
		// "Ending" words nearby do not mask a full number.
		{"en", "The card ending 0591 is the old one; the new one is 4846 2709 8070 5346", []string{"CARD:4846 2709 8070 5346"}},
		{"en", "Charge 4249211301229221, not the card ending in 9221", []string{"CARD:4249211301229221"}},
		// Each language's phrasing.
		{"de", "Meine Kreditkarte: 4882 1742 1214 9528, gültig bis 11/26", []string{"CARD:4882 1742 1214 9528"}},
		{"de", "Bitte die Karte 5276 0992 1552 6482 belasten.", []string{"CARD:5276 0992 1552 6482"}},
		{"fr", "Mon numéro de carte est le 5506 8661 4023 8595.", []string{"CARD:5506 8661 4023 8595"}},
		{"fr", "carte bancaire 4371 1180 5159 9, ça passe ?", []string{"CARD:4371 1180 5159 9"}},
		{"es", "Mi tarjeta es la 5510 1017 5495 4467, caduca en 2027", []string{"CARD:5510 1017 5495 4467"}},
		{"es", "número de tarjeta: 3779-340985-59300", []string{"CARD:3779-340985-59300"}},
		{"nl", "Mijn creditcard is 5287 0453 2116 1711", []string{"CARD:5287 0453 2116 1711"}},
		{"nl", "kaartnummer 6011 2908 0622 0779, vervalt 03/28", []string{"CARD:6011 2908 0622 0779"}},
		{"it", "La mia carta è 2399 5490 4490 7682", []string{"CARD:2399 5490 4490 7682"}},
		{"it", "numero carta 3558-1085-2883-4998 scadenza 09/26", []string{"CARD:3558-1085-2883-4998"}},
		{"it", "Amex 348777771619800, intestata a me", []string{"CARD:348777771619800"}},
	})
}

func TestRound7CardLookAlikes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// Luhn fails, whatever the context.
		{"en", "My Visa is 4772 9708 1627 0592, why is it refused?", nil},
		{"de", "Kartennummer 5541 4008 8481 0506 wird abgelehnt", nil},
		{"fr", "ma carte 6011 6275 8337 5436 ne passe pas", nil},
		// Masked cards and last four digits.
		{"en", "the card ending 0591 was charged twice", nil},
		{"en", "charged to Visa **** **** **** 0591", nil},
		{"de", "Karte mit Endziffern 9528 wurde belastet", nil},
		{"es", "la tarjeta terminada en 4467 no funciona", nil},
		{"it", "carta che termina con 7682, addebito doppio", nil},
		{"nl", "de kaart eindigend op 1711 is verlopen", nil},
		// IMEIs and barcodes even when they pass Luhn.
		{"en", "The phone's IMEI is 356938035643809, is it blacklisted?", nil},
		{"de", "IMEI: 35 693803 564380 9", nil},
		{"en", "EAN 4006381333931 is out of stock", nil},
		{"fr", "le code-barres 4006381333931 ne scanne pas", nil},
		// Order, tracking and reference numbers.
		{"en", "Order 4003 2201 8812 was delivered to the wrong door", nil},
		{"en", "USPS tracking 9400 1102 0088 1234 5678 90", nil},
		{"de", "Sendungsnummer 00340434161094042557", nil},
		{"nl", "bestelnummer 2024-558812-77 nog niet ontvangen", nil},
		{"es", "Pedido n.º 4011 2345, entrega el 12/03/2025", nil},
		// Two numbers one a line are not one wrapped card without a card word.
		{"en", "Orders 47729708\n16270591 both missing", nil},
		// Groups of no card layout after a reference word, even in a
		// message about a card.
		{"en", "card declined; order 4915 123456787 still open", nil},
		{"en", "Card payment failed. Order number 4915 1234 56787", nil},
		{"en", "paid by card, invoice 491 512 345 6787", nil},
		{"en", "card 4772 97xx xxxx 0591", nil},
		// Product names with digits.
		{"en", "Is the Galaxy S24 Ultra 512 GB back in stock?", nil},
	})
}

func TestRound7Secrets(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// Passwords.
		{"en", "my password is Kx7!mPq2rT, can you reset it?", []string{"SECRET:Kx7!mPq2rT"}},
		{"en", "I tried logging in with password: sunflower88 but no luck", []string{"SECRET:sunflower88"}},
		{"de", "Mein Passwort lautet Sonnenblume#88", []string{"SECRET:Sonnenblume#88"}},
		{"de", "Kennwort: Hund2023!, kommt trotzdem nicht rein", []string{"SECRET:Hund2023!"}},
		{"fr", "mon mot de passe est Lapin2024! et il ne marche plus", []string{"SECRET:Lapin2024!"}},
		{"es", "mi contraseña es Gato_azul77", []string{"SECRET:Gato_azul77"}},
		{"nl", "mijn wachtwoord is Fiets!2024x", []string{"SECRET:Fiets!2024x"}},
		{"it", "la mia password è Pizza#Napoli9", []string{"SECRET:Pizza#Napoli9"}},
		{"en", "my password is \"Kx7!mPq2rT\"", []string{"SECRET:Kx7!mPq2rT"}},
		{"en", "login: anna.k / pass: Blume!77", []string{"SECRET:Blume!77"}},
		// One-time codes: SMS, login, 2FA, 3-D Secure, TAN, parcel locker.
		{"en", "The SMS code I got is 482 913 but it says expired", []string{"SECRET:482 913"}},
		{"en", "my 2FA code: 771204", []string{"SECRET:771204"}},
		{"en", "3D Secure code 55 81 90 was rejected", []string{"SECRET:55 81 90"}},
		{"de", "Der Code aus der SMS lautet 739204", []string{"SECRET:739204"}},
		{"de", "Meine TAN war 583920, trotzdem abgebrochen", []string{"SECRET:583920"}},
		{"de", "Abholcode für die Packstation: 384771", []string{"SECRET:384771"}},
		{"de", "Code für das Paketfach: 5519", []string{"SECRET:5519"}},
		{"en", "the locker code is 7741, box 12", []string{"SECRET:7741"}},
		{"de", "die mTAN lautet 882 019", []string{"SECRET:882 019"}},
		{"es", "el PIN de recogida del locker es 2291", []string{"SECRET:2291"}},
		{"fr", "j'ai reçu le code 448 209 par texto", []string{"SECRET:448 209"}},
		{"it", "mi è arrivato il codice 559 021 via SMS", []string{"SECRET:559 021"}},
		{"fr", "code reçu par SMS : 581 204", []string{"SECRET:581 204"}},
		{"fr", "le code 3D Secure 904117 ne fonctionne pas", []string{"SECRET:904117"}},
		{"es", "el código de verificación es 904 172", []string{"SECRET:904 172"}},
		{"nl", "de verificatiecode is 663018", []string{"SECRET:663018"}},
		{"nl", "ophaalcode pakketautomaat: 228 451", []string{"SECRET:228 451"}},
		{"it", "il codice OTP è 118492", []string{"SECRET:118492"}},
		{"it", "codice di ritiro del locker 557 903", []string{"SECRET:557 903"}},
		// API keys and tokens.
		{"en", "our Stripe key sk_live_51HqLyjWDarjtT1zdp7dc4eC3 leaked?", []string{"SECRET:sk_live_51HqLyjWDarjtT1zdp7dc4eC3"}},
		{"en", "GitHub token ghp_R4nd0mT0k3nV4lu3F0rT3st1ngAbCdEf12 for the plugin", []string{"SECRET:ghp_R4nd0mT0k3nV4lu3F0rT3st1ngAbCdEf12"}},
		{"de", "Slack-Bot-Token: xoxb-2048-1234567890-aBcDeFgHiJkLmNoP", []string{"SECRET:xoxb-2048-1234567890-aBcDeFgHiJkLmNoP"}},
		{"fr", "le token Shopify est 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", []string{"SECRET: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"}},
		{"es", "la clave API es 9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c", []string{"SECRET:9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"}},
		{"en", "AWS key AKIAIOSFODNN7EXAMPLE got committed", []string{"SECRET:AKIAIOSFODNN7EXAMPLE"}},
		{"en", "GitLab token glpat-xY7zA9bC3dE5fG1hJ2kL", []string{"SECRET:glpat-xY7zA9bC3dE5fG1hJ2kL"}},
		{"nl", "webhook https://hooks.example.com/notify?access_token=a8F3kL9mQ2xZ7vB4nR6t", []string{"SECRET:a8F3kL9mQ2xZ7vB4nR6t"}},
		{"it", "reset link https://shop.example.com/reset?token=Qm9hdDEyMzQ1Njc4OTBhYmNkZWY", []string{"SECRET:Qm9hdDEyMzQ1Njc4OTBhYmNkZWY"}},
		// Recovery codes.
		{"en", "one of my recovery codes is 7hk2-9qxm-4pzt", []string{"SECRET:7hk2-9qxm-4pzt"}},
		{"de", "Wiederherstellungscode: K7P2-M9QX-44TZ", []string{"SECRET:K7P2-M9QX-44TZ"}},
		{"fr", "mon code de récupération est 4k9p-2mxq-77tz", []string{"SECRET:4k9p-2mxq-77tz"}},
		{"es", "código de recuperación: 88QX-K2M4-9PZT", []string{"SECRET:88QX-K2M4-9PZT"}},
		{"nl", "herstelcode 3hq7-x92m-k4pz werkt niet", []string{"SECRET:3hq7-x92m-k4pz"}},
		{"it", "il codice di recupero è Q7K2-9MXP-4TZ8", []string{"SECRET:Q7K2-9MXP-4TZ8"}},
	})
}

func TestRound7SecretLookAlikes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The promo code SUMMER20 didn't apply", nil},
		{"en", "discount code WELCOME-10 gives an error", nil},
		{"de", "Gutscheincode HERBST25 funktioniert nicht", nil},
		{"fr", "le code promo NOEL2024 est refusé", nil},
		{"es", "el código de descuento VERANO15 no va", nil},
		{"nl", "kortingscode ZOMER10 werkt niet", nil},
		{"it", "il codice sconto ESTATE20 non funziona", nil},
		{"en", "Cloudflare Ray ID: 7f1c2a9b8d3e4f50 on the checkout page", nil},
		{"en", "payment reference PAY-88213-XK for the refund", nil},
		{"de", "Retourennummer R-582213, bitte prüfen", nil},
		{"it", "numero di lotto LOT22B041 sul flacone", nil},
		{"en", "serial number C02XK1ZJJG5H on the back", nil},
		{"fr", "numéro de série SN4K7P2M9QX sur l'étiquette", nil},
		{"en", "the part number is AB12-CD34-EF56 on the box", nil},
		{"en", "the coupon code is 7hk2-9qxm-4pzt", nil},
		{"en", "the discount code 482913 didn't work", nil},
		{"en", "return code RMA-448213", nil},
		{"de", "Das Paketfach 12 war leer", nil},
		{"de", "Artikelnummer XK-4471-B und Seriennummer 4471-20", nil},
	})
}

func TestRound7DateOfBirth(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "DOB 02/11/1979 for the age check", []string{"DATE_OF_BIRTH:02/11/1979"}},
		{"en", "date of birth: 11/28/1990", []string{"DATE_OF_BIRTH:11/28/1990"}},
		{"en", "I was born on the 1st of May 1980, why the age check?", []string{"DATE_OF_BIRTH:1st of May 1980"}},
		{"en", "my son was born 1985-06-30... sorry, 2015-06-30", []string{"DATE_OF_BIRTH:1985-06-30", "DATE_OF_BIRTH:2015-06-30"}},
		{"en", "born 14 March 1988", []string{"DATE_OF_BIRTH:14 March 1988"}},
		{"en", "Birthday: March 3, 1975", []string{"DATE_OF_BIRTH:March 3, 1975"}},
		{"de", "geb. 5. Juni 1971", []string{"DATE_OF_BIRTH:5. Juni 1971"}},
		{"de", "Geburtsdatum: 29.02.1992", []string{"DATE_OF_BIRTH:29.02.1992"}},
		{"de", "Ich bin am 12.04.79 geboren", []string{"DATE_OF_BIRTH:12.04.79"}},
		{"fr", "née le 14/03/1985", []string{"DATE_OF_BIRTH:14/03/1985"}},
		{"fr", "date de naissance : 3 mars 1975", []string{"DATE_OF_BIRTH:3 mars 1975"}},
		{"es", "nacida el 7 de julio de 1968", []string{"DATE_OF_BIRTH:7 de julio de 1968"}},
		{"es", "fecha de nacimiento 21/09/1983", []string{"DATE_OF_BIRTH:21/09/1983"}},
		{"nl", "geboren op 12-08-1990", []string{"DATE_OF_BIRTH:12-08-1990"}},
		{"nl", "geboortedatum: 4 mei 1966", []string{"DATE_OF_BIRTH:4 mei 1966"}},
		{"it", "nata il 3 marzo 1975", []string{"DATE_OF_BIRTH:3 marzo 1975"}},
		{"it", "data di nascita 15/10/1991", []string{"DATE_OF_BIRTH:15/10/1991"}},
		{"en", "d.o.b. 12-Jan-1990", []string{"DATE_OF_BIRTH:12-Jan-1990"}},
		{"en", "DOB: 3/4/85", []string{"DATE_OF_BIRTH:3/4/85"}},
		{"es", "fecha de nac.: 07/jul/68", []string{"DATE_OF_BIRTH:07/jul/68"}},
		{"de", "geboren am 1. April 1975", []string{"DATE_OF_BIRTH:1. April 1975"}},
		{"nl", "geb. 4-5-1966", []string{"DATE_OF_BIRTH:4-5-1966"}},
		// A birth date taken back and given again is a birth date too.
		{"de", "Geburtsdatum 12.04.1979. Sorry, 12.04.1978 natürlich", []string{"DATE_OF_BIRTH:12.04.1979", "DATE_OF_BIRTH:12.04.1978"}},
		{"fr", "née le 14/03/1985... pardon, le 14/03/1986", []string{"DATE_OF_BIRTH:14/03/1985", "DATE_OF_BIRTH:14/03/1986"}},
		{"en", "DOB 02/11/1979. I mean 02/11/1978", []string{"DATE_OF_BIRTH:02/11/1979", "DATE_OF_BIRTH:02/11/1978"}},
	})
}

func TestRound7DateOfBirthLookAlikes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "my birthday is 2 March, will it arrive in time?", nil},
		{"en", "I'm 34, do I need an age check?", nil},
		{"en", "delivery was promised for 12/03/2025", nil},
		{"en", "card expiry 08/27", nil},
		{"en", "our anniversary is 12 May 2015, can you gift-wrap it?", nil},
		{"de", "Lieferung am 5. Juni 2024 war angekündigt", nil},
		{"de", "Bestellt am 29.02.2024, immer noch nichts", nil},
		{"fr", "livraison prévue le 14/03/2025", nil},
		{"es", "el pedido del 7 de julio de 2024 no llegó", nil},
		{"nl", "besteld op 12-08-2024", nil},
		{"en", "ordered 12-Jan-2025, still waiting", nil},
		{"it", "consegna prevista il 3 marzo 2025", nil},
		{"it", "il mio compleanno è il 3 marzo, arriva prima?", nil},
		{"en", "born 1985-06-30. Sorry, the delivery date is 12/03/2025", []string{"DATE_OF_BIRTH:1985-06-30"}},
		{"en", "DOB 02/11/1979. Sorry to bother you, the parcel from 14/11/2025 is missing", []string{"DATE_OF_BIRTH:02/11/1979"}},
	})
}

func TestRound7EnglishPerson(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "hi this is maria from the order yesterday", []string{"PERSON:maria"}},
		{"en", "Bill here again, any news?", []string{"PERSON:Bill"}},
		{"en", "thanks Lena, that helps", []string{"PERSON:Lena"}},
		{"en", "Please address it to Mr. K. Nowicki", []string{"PERSON:K. Nowicki"}},
		{"en", "My name is Sean O'Sullivan", []string{"PERSON:Sean O'Sullivan"}},
		{"en", "Cheers,\nTom", []string{"PERSON:Tom"}},
		{"en", "my neighbour Mrs Patel took it in", []string{"PERSON:Patel"}},
		{"en", "The courier, Dave, left it by the bins", []string{"PERSON:Dave"}},
		{"en", "Ralph (my husband) wants a Ralph Lauren shirt", []string{"PERSON:Ralph"}},
		{"en", "Violet wants it in violet", []string{"PERSON:Violet"}},
		{"en", "Sarah's order hasn't arrived", []string{"PERSON:Sarah"}},
		{"en", "You spoke to Priya yesterday about the refund", []string{"PERSON:Priya"}},
		{"en", "Can it go to my daughter, Chloe van der Meer?", []string{"PERSON:Chloe van der Meer"}},
		{"en", "Kind regards, Trần Văn Minh", []string{"PERSON:Trần Văn Minh"}},
		{"en", "It's for james, he ordered the blue one", []string{"PERSON:james"}},
		{"en", "ok ty, Jen", []string{"PERSON:Jen"}},
		{"en", "Regards,\nMichael O'Brien", []string{"PERSON:Michael O'Brien"}},
		{"en", "Ask for Dr. Emily Carter at reception", []string{"PERSON:Emily Carter"}},
		{"en", "Signed for by: P. Jones", []string{"PERSON:P. Jones"}},
		{"en", "leave it with Mr Khan at number 12", []string{"PERSON:Khan"}},
		{"en", "delivered to Janet next door", []string{"PERSON:Janet"}},
		{"en", "hi its dave", []string{"PERSON:dave"}},
		{"de", "Das Geschenk ist für lena, sie hat morgen Geburtstag", []string{"PERSON:lena"}},
		{"fr", "c'est pour chloé, elle adore le bleu", []string{"PERSON:chloé"}},
		{"it", "è per giulia, lei lo aspetta da settimane", []string{"PERSON:giulia"}},
	})
}

func TestRound7EnglishPersonLookAlikes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Are the Tom Ford sunglasses back in stock?", nil},
		{"en", "I want the Ted Baker bag in navy", nil},
		{"en", "Is the Jack Daniels gift set still on sale?", nil},
		{"en", "Can you ship to San Diego?", nil},
		{"en", "Do you deliver to Victoria BC?", nil},
		{"en", "the Christian Dior perfume arrived broken", nil},
		{"en", "Is Harry Potter book 3 in hardback?", nil},
		{"en", "Hi, the order arrived, thanks!", nil},
		{"en", "it's for work, he needs it by Monday", nil},
		{"en", "it's for summer, she wants something light", nil},
		{"en", "ship it to me, he said it was fine", nil},
	})
}

func TestRound7GermanAddress(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Lieferadresse: Hauptstraße 12, 10115 Berlin", []string{"ADDRESS:Hauptstraße 12, 10115 Berlin"}},
		{"de", "Bitte an Bahnhofstr. 5a, 80331 München schicken", []string{"ADDRESS:Bahnhofstr. 5a, 80331 München"}},
		{"de", "Ich wohne Am Lindenweg 3, das Paket kam nie an", []string{"ADDRESS:Am Lindenweg 3"}},
		{"de", "Neue Anschrift: Schillerplatz 3, 70173 Stuttgart", []string{"ADDRESS:Schillerplatz 3, 70173 Stuttgart"}},
		{"de", "Kastanienallee 22, 2. OG, 10435 Berlin", []string{"ADDRESS:Kastanienallee 22, 2. OG, 10435 Berlin"}},
		{"de", "Es ist Gartenweg 4, nicht 14", []string{"ADDRESS:Gartenweg 4"}},
		{"de", "Lieferung an Friedrich-Ebert-Str. 101, 45127 Essen", []string{"ADDRESS:Friedrich-Ebert-Str. 101, 45127 Essen"}},
		{"de", "Adresse: Goethestraße 14\n60313 Frankfurt am Main", []string{"ADDRESS:Goethestraße 14\n60313 Frankfurt am Main"}},
		{"de", "Anna Schmidt\nLindenstraße 8\n04109 Leipzig", []string{"PERSON:Anna Schmidt", "ADDRESS:Lindenstraße 8\n04109 Leipzig"}},
		{"de", "Paul Wagner\nc/o Weber\nMühlenweg 17\n50667 Köln", []string{"PERSON:Paul Wagner", "PERSON:Weber", "ADDRESS:Mühlenweg 17\n50667 Köln"}},
		{"de", "Meine Adresse ist Rosenstraße 3, 1010 Wien, Österreich", []string{"ADDRESS:Rosenstraße 3, 1010 Wien, Österreich"}},
		{"de", "Schicken Sie es bitte an Marktplatz 7 in Heidelberg", []string{"ADDRESS:Marktplatz 7"}},
		{"de", "Wir sind umgezogen: Im Winkel 9, 22765 Hamburg", []string{"ADDRESS:Im Winkel 9, 22765 Hamburg"}},
		{"de", "Klingel Hartmann, Eichendorffstraße 21", []string{"PERSON:Hartmann", "ADDRESS:Eichendorffstraße 21"}},
		{"de", "Bitte liefern an: Zum Sportplatz 2, 79098 Freiburg", []string{"ADDRESS:Zum Sportplatz 2, 79098 Freiburg"}},
		{"de", "Martin Vogel\nAm Mühlbachweg 6\n93047 Regensburg", []string{"PERSON:Martin Vogel", "ADDRESS:Am Mühlbachweg 6\n93047 Regensburg"}},
		{"de", "Neue Adresse: An der Lindenallee 4, 01099 Dresden", []string{"ADDRESS:An der Lindenallee 4, 01099 Dresden"}},
		// Country-prefixed postcodes (D-, A-, CH-) continue the street.
		{"de", "Julia Braun\nBirkenweg 12\nD-79098 Freiburg\nDeutschland", []string{"PERSON:Julia Braun", "ADDRESS:Birkenweg 12\nD-79098 Freiburg\nDeutschland"}},
		{"de", "Rathausplatz 1, A-6020 Innsbruck", []string{"ADDRESS:Rathausplatz 1, A-6020 Innsbruck"}},
		{"de", "Bahnhofstrasse 10, CH-8001 Zürich", []string{"ADDRESS:Bahnhofstrasse 10, CH-8001 Zürich"}},
		// An address label before the street is outside the span.
		{"de", "Mein Name ist Klaus Becker, Adresse Ulmenweg 4, 89073 Ulm", []string{"PERSON:Klaus Becker", "ADDRESS:Ulmenweg 4, 89073 Ulm"}},
		{"de", "Anschrift Karl-Marx-Allee 90, 10243 Berlin", []string{"ADDRESS:Karl-Marx-Allee 90, 10243 Berlin"}},
		{"de", "Hauptstr. 12a, 10115 Berlin", []string{"ADDRESS:Hauptstr. 12a, 10115 Berlin"}},
		{"de", "Berliner Straße 45, 2. Stock", []string{"ADDRESS:Berliner Straße 45, 2. Stock"}},
		{"de", "Lange Reihe 12, 20099 Hamburg", []string{"ADDRESS:Lange Reihe 12, 20099 Hamburg"}},
		{"de", "Schulstraße 3-5, 50667 Köln", []string{"ADDRESS:Schulstraße 3-5, 50667 Köln"}},
		{"de", "bitte an die hauptstraße 12, 10115 berlin", []string{"ADDRESS:hauptstraße 12, 10115 berlin"}},
	})
}

func TestRound7GermanAddressLookAlikes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Liefert ihr auch nach 10115 Berlin?", nil},
		{"de", "Die Filiale in der Königsallee hat zu", nil},
		{"de", "Bitte im 3. Stock, Tür links abgeben", nil},
		{"de", "Bestellung 2024-58813 vom 12.03. ist noch nicht da", nil},
		{"de", "Größe 42, Farbe 3, Menge 2", nil},
		{"de", "Artikel 4006381333931 ist ausverkauft", nil},
		{"de", "Das Regal Hauptstraße ist schön, gibt es das in 80 cm?", nil},
		{"de", "Ich habe 3 Pakete in der Packstation 123 liegen", nil},
		{"de", "Wir sind in der Hauptstraße, aber die Hausnummer fehlt", nil},
		{"de", "Sendung wurde am 14.11. in der Filiale Schlossplatz abgegeben", nil},
		{"de", "Preis 49,90 €, Lieferung in 3-5 Werktagen", nil},
		{"de", "Rufen Sie mich bitte zurück, Kundennummer 4458213", nil},
		{"de", "Am Montag 3 Pakete bekommen, 2 davon beschädigt", nil},
		{"de", "Im Laden 3 Stück gekauft, 12345 Punkte gesammelt", nil},
		// A sentence's first word stays outside the street name.
		{"de", "Am Lindenweg 3 steht seit Tagen ein Paket", []string{"ADDRESS:Lindenweg 3"}},
		{"de", "Paket liegt vor der Tür. Am Mühlenweg 5 wohnt niemand", []string{"ADDRESS:Mühlenweg 5"}},
	})
}

func TestRound7OtherLanguageAddress(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "it's 12 Elm Road, not 21", []string{"ADDRESS:12 Elm Road"}},
		{"en", "Ship to 221B Baker Street, London NW1 6XE", []string{"ADDRESS:221B Baker Street, London NW1 6XE"}},
		{"fr", "mon adresse : 14 rue Victor Hugo, 75002 Paris", []string{"ADDRESS:14 rue Victor Hugo, 75002 Paris"}},
		{"es", "Calle Mayor 5, 2º dcha., 28013 Madrid", []string{"ADDRESS:Calle Mayor 5, 2º dcha., 28013 Madrid"}},
		{"nl", "Kerkstraat 12 bus 4, 2000 Antwerpen", []string{"ADDRESS:Kerkstraat 12 bus 4, 2000 Antwerpen"}},
		{"it", "Via Giuseppe Verdi 7, 10121 Torino (TO)", []string{"ADDRESS:Via Giuseppe Verdi 7, 10121 Torino (TO)"}},
	})
}
