package pii

import "testing"

func TestChangedPasswords(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "I changed my password yesterday, changed it to Winter2026! but it still fails", []string{"SECRET:Winter2026!"}},
		{"en", "I reset it to blue-Horse77 and now the app logs me out.", []string{"SECRET:blue-Horse77"}},
		{"fr", "J'ai changé le mot de passe, je l'ai mis à Soleil#44 mais ça bloque.", []string{"SECRET:Soleil#44"}},
		{"fr", "Je l'ai réinitialisé en Lapin2026 hier.", []string{"SECRET:Lapin2026"}},
		{"nl", "Ik heb het gewijzigd naar Fiets2026! en nu lukt inloggen niet.", []string{"SECRET:Fiets2026!"}},
		{"it", "L'ho cambiata in Mare2026! ma non entra.", []string{"SECRET:Mare2026!"}},
		{"de", "Das Passwort ging nicht. Ich habe es auf Sonne2026! geändert, geht trotzdem nicht.", []string{"SECRET:Sonne2026!"}},
		{"es", "La cambié a Perro2026! y sigue sin dejarme entrar.", []string{"SECRET:Perro2026!"}},
		{"en", "I've changed it to: Kx8#mQ2z", []string{"SECRET:Kx8#mQ2z"}},
		{"fr", "Je l'ai changé pour Azerty!2026 mais rien", []string{"SECRET:Azerty!2026"}},
		{"fr", "mot de passe réinitialisé : Lune2026$", []string{"SECRET:Lune2026$"}},
		{"nl", "ik heb het aangepast naar Koffie#88", []string{"SECRET:Koffie#88"}},
		{"it", "Password cambiata: Pizza2026!", []string{"SECRET:Pizza2026!"}},
		// changed to a size or colour is no password
		{"en", "I changed it to XL and the price went up.", nil},
		{"en", "I changed the address to the office.", nil},
		{"en", "I changed it to iPhone15 in the basket.", nil},
		{"de", "Ich habe die Größe auf XL2 geändert.", nil},
		{"fr", "J'ai changé la taille en 38/40 pour le compte de ma fille.", nil},
		{"nl", "Ik heb het formaat gewijzigd naar A4-210 voor mijn account.", nil},
		{"it", "Ho cambiato l'indirizzo in Via Roma 12 nel mio account.", []string{"ADDRESS:Via Roma 12"}},
		{"es", "La cambié a la talla M, pero no puedo entrar en mi cuenta.", nil},
	})
}

func TestMoreSecretForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Le code 3D Secure reçu est 482913.", []string{"SECRET:482913"}},
		{"fr", "code 3-D Secure : 730 115", []string{"SECRET:730 115"}},
		{"it", "la mia chiave API è 9f86d081884c7d659a2feaa0c55ad015", []string{"SECRET:9f86d081884c7d659a2feaa0c55ad015"}},
		{"it", "il token è 5d41402abc4b2a76b9719d911017c592", []string{"SECRET:5d41402abc4b2a76b9719d911017c592"}},
		{"en", "https://shop.example/reset?id=a8F3kQ9zLm2XvB7nR4tW&lang=en", []string{"SECRET:a8F3kQ9zLm2XvB7nR4tW"}},
		{"fr", "3D Secure : j'ai reçu 482913 par SMS", []string{"SECRET:482913"}},
		{"fr", "Pour le 3-D Secure on m'a envoyé le 482913", []string{"SECRET:482913"}},
		{"it", "il mio token è scaduto: 5d41402abc4b2a76b9719d911017c592", []string{"SECRET:5d41402abc4b2a76b9719d911017c592"}},
		{"it", "la chiave che mi avete dato (9f86d081884c7d659a2feaa0c55ad015) non va", []string{"SECRET:9f86d081884c7d659a2feaa0c55ad015"}},
		{"en", "https://shop.example/password/reset?id=Zx81kQpL0aR7vBn3Tq9W", []string{"SECRET:Zx81kQpL0aR7vBn3Tq9W"}},
		// look-alikes
		{"en", "The 3D puzzle has 1000 pieces, 3D Secure was fine", nil},
		{"en", "See https://shop.example/password/help?id=48213 for help", nil},
		{"it", "la chiave della cassetta 1234 non gira", nil},
		{"de", "Der Token ist abgelaufen, bitte neu senden.", nil},
		{"en", "I changed it to size_42 in the basket", nil},
		{"en", "Codes that work: SPRING20, WELCOME10, FREESHIP", nil},
		{"en", "Which promo should I use, the code X7K2P9 or SPRING20?", nil},
		{"fr", "Pour la réduction, le code 7KQ2P9 ne marche pas", nil},
		{"es", "El descuento no se aplica con el código 7KQ2P9", nil},
		{"it", "Lo sconto non funziona, il codice 7KQ2P9 è scaduto", nil},
		{"de", "Der Rabatt klappt nicht mit dem Code 7KQ2P9", nil},
		{"nl", "De korting werkt niet met code 7KQ2P9", nil},
		{"en", "Got a discount email, then the login code 482913 arrived", []string{"SECRET:482913"}},
		{"de", "Gutscheine: SOMMER15, HERBST20", nil},
		{"en", "The product code is AB-4471-XZ-20.", nil},
		{"en", "Authorisation code 0A7F31 on the receipt.", nil},
		{"fr", "Carte se terminant par 4821, code d'autorisation 093412.", nil},
		{"en", "Card **** **** **** 4821 was charged twice.", nil},
		{"es", "La tarjeta acabada en 4821.", nil},
		{"en", "https://shop.example/product?id=48213", nil},
		{"en", "https://shop.example/p?id=3f2b8c1e-9a4d-4b2e-8f1a-2c3d4e5f6a7b", nil},
		{"en", "https://shop.example/p?id=running-shoes-blue-42", nil},
		{"en", "https://shop.example/orders?id=ORD20261103000123", nil},
		{"en", "https://shop.example/account/confirm?id=5d41402abc4b2a76b9719d911017c592", []string{"SECRET:5d41402abc4b2a76b9719d911017c592"}},
		{"en", "codes: 4471-20 and 4471-21", nil},
		{"en", "Code: XK-4471-B", nil},
		{"en", "I typed the code but the card ending in 4821 was declined", nil},
		{"en", "code 4821 is the last four digits of my card", nil},
		{"de", "Genehmigungscode 093412 auf dem Beleg", nil},
		{"es", "código de autorización 093412", nil},
		{"it", "codice di autorizzazione 093412 sullo scontrino", nil},
		{"nl", "autorisatiecode 093412 op het bonnetje", nil},
		{"en", "the code 4471 on the bottom of the box", nil},
		{"en", "The auth code 093412 on my receipt", nil},
		{"en", "Code 4821 (last 4 of card) — please check", nil},
		{"de", "der Code 5521 steht auf dem Etikett", nil},
		{"fr", "le code 7781 sur l'étiquette du carton", nil},
		{"es", "el código 4471 de la caja", nil},
		{"it", "il codice 4471 sulla confezione", nil},
		{"nl", "de code 4471 op de doos", nil},
		// codes that stay codes
		{"en", "your locker pickup code is 5821-0947, valid for 72 hours", []string{"SECRET:5821-0947"}},
		{"en", "The code is 123-456", []string{"SECRET:123-456"}},
		{"en", "The Google code is G-582914", []string{"SECRET:G-582914"}},
		{"fr", "La banque m'a envoyé un code 3D Secure 482913 qui ne marche pas", []string{"SECRET:482913"}},
		{"it", "il token dell'API è 5d41402abc4b2a76b9719d911017c592", []string{"SECRET:5d41402abc4b2a76b9719d911017c592"}},
	})
}
