package pii

import "testing"

// Round 13: blind8's failure classes, fixed by general rules. Sentences of
// our own; none is taken from the split.

// A reference's number is no code: a hyphen-joined token of a word and two
// or more number parts, whichever rule took it or its tail (pii.go,
// referenceToken). A pickup code with its shop's two-part prefix stays.
func TestRound13ReferenceTokens(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Unser Hochzeitstisch hat den Code HT-2026-1187, können Gäste sehen, was schon gekauft ist?", nil},
		{"fr", "Le code de la liste de naissance est LN-2025-3391, merci de le communiquer.", nil},
		{"nl", "De code van ons cadeaulijstje is CL-2026-0412.", nil},
		{"it", "Il codice della lista nozze è LN-2026-7710, lo comunico agli invitati.", nil},
	})
}

// A provider's key by the "_live_"/"_test_"/"_prod_" convention, for
// providers the prefix list does not know (secret.go, scanEnvKeys).
func TestRound13EnvironmentKeys(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Is this the right one? pk_prod_9c2e4b7a1f3d6e08b5a2", []string{"SECRET:pk_prod_9c2e4b7a1f3d6e08b5a2"}},
		{"de", "Passt das so? shp_live_7Kq2mR9xT4wZ8nB3vL6p", []string{"SECRET:shp_live_7Kq2mR9xT4wZ8nB3vL6p"}},
		{"fr", "On nous a donné mkt_test_4Hd8sQ2kW7nP3xR9tZ5v pour l'intégration.", []string{"SECRET:mkt_test_4Hd8sQ2kW7nP3xR9tZ5v"}},
		{"es", "el nuevo es pay_sandbox_8Jf3kL9qW2mX7tR4vB1n, ¿lo pego aquí?", []string{"SECRET:pay_sandbox_8Jf3kL9qW2mX7tR4vB1n"}},
		{"nl", "Kun je deze checken: crm_live_2Wq8nV5tK9mR3xP7zL4s", []string{"SECRET:crm_live_2Wq8nV5tK9mR3xP7zL4s"}},
		{"it", "Quello nuovo ricevuto ieri: erp_prod_6Tz3pQ8wN2kM7vR5xJ9d", []string{"SECRET:erp_prod_6Tz3pQ8wN2kM7vR5xJ9d"}},
		// Look-alikes: snake_case names with an environment word.
		{"en", "the flag enable_live_preview_for_all_users is on", nil},
		{"de", "Die Einstellung show_test_banner_on_checkout_page ist aus.", nil},
		{"en", "the nightly job sync_prod_orders_batch2024_v3_eu failed again", nil},
	})
}

// A credential pair written short: "user X, pass Y" (secret_clause.go,
// scanCredentialPairs).
func TestRound13CredentialPairs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Printer web page works, user admin, pass Heron!2025, but the scan button does nothing.", []string{"SECRET:Heron!2025"}},
		{"de", "Kassensystem: Benutzer kasse3, pass Linde#2024 – bitte prüfen.", []string{"SECRET:Linde#2024"}},
		{"fr", "Pour le routeur : utilisateur admin, pass Mouette_77, merci de regarder.", []string{"SECRET:Mouette_77"}},
		{"es", "Del panel: usuario tienda, pass Gaviota!88, ya no entra.", []string{"SECRET:Gaviota!88"}},
		{"it", "Per il gestionale: utente negozio, pass Faggio2024!, non va.", []string{"SECRET:Faggio2024!"}},
		// Look-alikes: a pass that is no password's label.
		{"en", "The user guide says to pass the cable behind the stand.", nil},
		{"en", "I bought a season pass 2026 for the user lounge.", nil},
		{"en", "The festival pass Summer2025 arrived, thanks.", nil},
	})
}

// The credential of the sentence before, named by its version: "the old one
// was …" (secret_clause.go, anaphoricValue).
func TestRound13VersionAnaphora(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Someone changed my password overnight. The old one was Tulip2020 and now I can't log in.", []string{"SECRET:Tulip2020"}},
		{"de", "Mein Passwort wurde geändert. Das alte war Fichte88, das neue kenne ich nicht.", []string{"SECRET:Fichte88"}},
		{"fr", "Mon mot de passe a été modifié ! L'ancien était Cerise2019 et je suis bloquée.", []string{"SECRET:Cerise2019"}},
		{"it", "Hanno cambiato la password. Quella vecchia era Gabbiano21, la nuova non la so.", []string{"SECRET:Gabbiano21"}},
		// Look-alikes: the old one described, not stated.
		{"en", "My password was changed. The old one was fine though.", nil},
		{"fr", "Le mot de passe a changé. Le nouveau est sur le frigo.", nil},
	})
}

// A network's "code" is its password (secret_clause.go, networkCode).
func TestRound13NetworkCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Le code wifi du salon pour l'installateur : Marée&Vent_42. Il passe à 14h.", []string{"SECRET:Marée&Vent_42"}},
		{"es", "El código de la red es Gaviota_77", []string{"SECRET:Gaviota_77"}},
		{"de", "Der Code vom WLAN im Laden ist Fichte88", []string{"SECRET:Fichte88"}},
		{"it", "Il codice del wifi è Gabbiano21", []string{"SECRET:Gabbiano21"}},
		// Look-alikes: a promotion's code, a code printed on the router.
		{"en", "The wifi code for the promo is SUMMER20", nil},
		{"en", "The network code on the router label is printed.", nil},
	})
}

// A one-time code the writer says they handed over, with no credential
// word: two groups of three digits after a colon or "was" in a sentence
// whose verb hands something over (secret_clause.go, scanHandedCodes).
func TestRound13HandedCodes(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "too late, I already sent it to him: 448 209. what now?", []string{"SECRET:448 209"}},
		{"de", "Zu spät, ich hab ihn schon weitergegeben: 552 019.", []string{"SECRET:552 019"}},
		{"fr", "Trop tard, je le lui ai donné : 771 204. Que faire ?", []string{"SECRET:771 204"}},
		{"es", "ya se lo di 😬 era 630 915. y ahora?", []string{"SECRET:630 915"}},
		{"nl", "Te laat, ik heb hem doorgegeven: 913 442. Wat nu?", []string{"SECRET:913 442"}},
		{"it", "Troppo tardi, gliel'ho detto: 318 560. Che faccio?", []string{"SECRET:318 560"}},
		// Look-alikes: a count, a price, a longer number.
		{"en", "I sent it to them: 200 500 pieces.", nil},
		{"en", "We sent 250 boxes, total was 120 300.", nil},
		{"en", "I sent you the invoice: 202 455 120.", nil},
	})
}

// A gift card's PIN is its secret: a gift word after "PIN" is the card it
// belongs to (secret_clause.go, clauseValue).
func TestRound13GiftCardPINs(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "El PIN de la tarjeta regalo que me dieron es 8830 y no funciona.", []string{"SECRET:8830"}},
		{"fr", "Le code PIN de la carte cadeau est 3390.", []string{"SECRET:3390"}},
		// Look-alikes: a gift card's code and a promotion stay no secret.
		{"en", "The gift card code is 4471.", nil},
		{"fr", "Le code de la carte cadeau est 448213.", nil},
		{"es", "El código de la tarjeta regalo es 448213.", nil},
		{"en", "The promo code for the gift is SAVE10.", nil},
	})
}

// A credential word is no one's name, so it no longer hides its own value
// (person.go, addName).
func TestRound13CredentialWordsAreNoNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "Password del wifi del negozio di sci per il tecnico: Cervino!Neve2026. Arriva domani.", []string{"SECRET:Cervino!Neve2026"}},
	})
}

// A name after its form label written without a colon, in a list of
// fields (person_labels.go).
func TestRound13LabelFieldNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "refund to my bank please, sort code 20-00-00, name Baz", []string{"PERSON:Baz"}},
		{"en", "Profile update: name Eira Lloyd-Pugh, shoe size 4.", []string{"PERSON:Eira Lloyd-Pugh"}},
		{"en", "please pay to this account, account name T. Ó Briain.", []string{"PERSON:T. Ó Briain"}},
		{"it", "Secondo piano, porta a destra. Cognome Owusu.", []string{"PERSON:Owusu"}},
		{"de", "Geburtsdatum: 1990-04-02, Name Ioannis Kostakis-Berg", []string{"DATE_OF_BIRTH:1990-04-02", "PERSON:Ioannis Kostakis-Berg"}},
		// Look-alikes: a heading's words, a label that goes on.
		{"en", "Ticket update, Name Change Request.", nil},
		{"de", "Bestellung 4471, Name Produkt Sommerkleid.", nil},
		{"es", "Pedido enviado, nombre Completo.", nil},
	})
}

// Names that are no names: a word after a greeting's "!" starts a sentence;
// a heading or an apology before "from the team" or a comma; a name ends
// before where its bearer works (person.go).
func TestRound13NotNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Hallo! Bis zu vier Personen passen in den Raum.", nil},
		{"fr", "Note de l'équipe logistique – appel entrant 9h40. Colis retrouvé.", nil},
		{"es", "Hemos devuelto el importe. Disculpa, Marta.", []string{"PERSON:Marta"}},
		{"it", "Abbiamo rimborsato l'ordine. Scusate, Gianna.", []string{"PERSON:Gianna"}},
		{"de", "Hallo, hier ist Jörg von der Spedition, ich stehe vor dem Tor.", []string{"PERSON:Jörg"}},
	})
}
