package assistant

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func testFixtures(t testing.TB) *Fixtures {
	t.Helper()
	f, err := LoadDir("testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testNow is the built-in assistant's clock in the tests.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// builtin is the assistant over the test fixtures at testNow.
func builtin(t testing.TB, p Purposes) *Builtin {
	return NewBuiltin(testFixtures(t), p).WithStepUp(DefaultStepUpMaxAge, func() time.Time { return testNow })
}

// The callers of the tests: alice (aal1 and aal2) and bob are customers of
// the shop "shop"; a visitor has no account; a channel user is not linked.
var (
	alice     = Caller{Tenant: "shop", Kind: "customer", Subject: "cus_alice", AAL: 1, Linked: true}
	alice2    = Caller{Tenant: "shop", Kind: "customer", Subject: "cus_alice", AAL: 2, AuthTime: testNow.Add(-time.Minute), Linked: true}
	bob       = Caller{Tenant: "shop", Kind: "customer", Subject: "cus_bob", AAL: 1, Linked: true}
	visitor   = Caller{Tenant: "shop", Kind: "visitor", Subject: "vis_1"}
	unlinked  = Caller{Tenant: "shop", Kind: "customer", Subject: "cus_alice", AAL: 1}
	aliceElse = Caller{Tenant: "other", Kind: "customer", Subject: "cus_alice", AAL: 2, Linked: true}
)

// scenarios are the messages of TestWordForWord, by name.
var scenarios = map[string]struct {
	text   string
	caller Caller
}{
	"greeting":   {"hello", alice},
	"hours":      {"opening hours?", alice},
	"shipped":    {"where is my order 100234", alice},
	"delivered":  {"order status 100311", alice},
	"processing": {"track 100455", alice},
	"notfound":   {"where is my order 100402", alice},
	"product":    {"how much is the Trail Runner 2?", alice},
	"outofstock": {"is the rain jacket available?", alice},
	"login":      {"where is my order 100234", visitor},
	"stepup":     {"change the delivery address of order 100455", alice},
	"help":       {"blah", alice},
}

// TestWordForWord: the built-in assistant's replies in each language, word
// for word (the same English message asked in each reply language).
func TestWordForWord(t *testing.T) {
	b := builtin(t, nil)
	for _, c := range []struct {
		lang, scenario, want string
		action               Action
	}{
		{"en", "greeting", "Hello! How can I help you today?", ActionNone},
		{"en", "hours", "Our opening hours: Monday–Friday 09:00–18:00, Saturday 10:00–14:00, Sunday closed.", ActionNone},
		{"en", "shipped", "Order 100234 was shipped with DHL on 2026-11-27.", ActionNone},
		{"en", "delivered", "Order 100311 was delivered on 2026-11-20.", ActionNone},
		{"en", "processing", "Order 100455 is being prepared and will ship soon.", ActionNone},
		{"en", "notfound", "I could not find order 100402 in your account.", ActionNone},
		{"en", "product", "Trail Runner 2 costs €89.00 and is in stock.", ActionNone},
		{"en", "outofstock", "City Rain Jacket costs €129.00 and is out of stock at the moment.", ActionNone},
		{"en", "login", "Please sign in to your account (or link this chat to it) so that I can help with your orders.", ActionLogin},
		{"en", "stepup", "For your security, please confirm it is you with your second factor, then ask me again.", ActionStepUp},
		{"en", "help", "Thank you for your message. How can I help you: order status, returns, delivery address, opening hours or our products?", ActionNone},
		{"de", "greeting", "Hallo! Wie kann ich Ihnen heute helfen?", ActionNone},
		{"de", "hours", "Unsere Öffnungszeiten: Montag–Freitag 09:00–18:00, Samstag 10:00–14:00, Sonntag geschlossen.", ActionNone},
		{"de", "shipped", "Die Bestellung 100234 wurde am 2026-11-27 mit DHL versandt.", ActionNone},
		{"de", "delivered", "Die Bestellung 100311 wurde am 2026-11-20 zugestellt.", ActionNone},
		{"de", "processing", "Die Bestellung 100455 wird vorbereitet und bald versandt.", ActionNone},
		{"de", "notfound", "Ich konnte die Bestellung 100402 in Ihrem Konto nicht finden.", ActionNone},
		{"de", "product", "Trail Runner 2 kostet 89,00 € und ist auf Lager.", ActionNone},
		{"de", "outofstock", "City Rain Jacket kostet 129,00 € und ist derzeit nicht auf Lager.", ActionNone},
		{"de", "login", "Bitte melden Sie sich in Ihrem Konto an (oder verknüpfen Sie diesen Chat damit), damit ich Ihnen bei Ihren Bestellungen helfen kann.", ActionLogin},
		{"de", "stepup", "Zu Ihrer Sicherheit bestätigen Sie bitte mit Ihrem zweiten Faktor, dass Sie es sind, und fragen Sie dann erneut.", ActionStepUp},
		{"de", "help", "Danke für Ihre Nachricht. Wobei kann ich helfen: Bestellstatus, Rücksendungen, Lieferadresse, Öffnungszeiten oder unsere Produkte?", ActionNone},
		{"fr", "greeting", "Bonjour ! Comment puis-je vous aider aujourd'hui ?", ActionNone},
		{"fr", "hours", "Nos horaires d'ouverture : lundi–vendredi 09:00–18:00, samedi 10:00–14:00, dimanche fermé.", ActionNone},
		{"fr", "shipped", "La commande 100234 a été expédiée avec DHL le 2026-11-27.", ActionNone},
		{"fr", "delivered", "La commande 100311 a été livrée le 2026-11-20.", ActionNone},
		{"fr", "processing", "La commande 100455 est en préparation et sera bientôt expédiée.", ActionNone},
		{"fr", "notfound", "Je n'ai pas trouvé la commande 100402 dans votre compte.", ActionNone},
		{"fr", "product", "Trail Runner 2 coûte 89,00 € et est en stock.", ActionNone},
		{"fr", "outofstock", "City Rain Jacket coûte 129,00 € et est actuellement en rupture de stock.", ActionNone},
		{"fr", "login", "Veuillez vous connecter à votre compte (ou y associer cette discussion) pour que je puisse vous aider avec vos commandes.", ActionLogin},
		{"fr", "stepup", "Pour votre sécurité, confirmez votre identité avec votre second facteur, puis posez à nouveau votre question.", ActionStepUp},
		{"fr", "help", "Merci pour votre message. Comment puis-je vous aider : suivi de commande, retours, adresse de livraison, horaires d'ouverture ou nos produits ?", ActionNone},
		{"es", "greeting", "¡Hola! ¿En qué puedo ayudarle hoy?", ActionNone},
		{"es", "hours", "Nuestro horario: lunes–viernes 09:00–18:00, sábado 10:00–14:00, domingo cerrado.", ActionNone},
		{"es", "shipped", "El pedido 100234 se envió con DHL el 2026-11-27.", ActionNone},
		{"es", "delivered", "El pedido 100311 se entregó el 2026-11-20.", ActionNone},
		{"es", "processing", "El pedido 100455 se está preparando y se enviará pronto.", ActionNone},
		{"es", "notfound", "No he encontrado el pedido 100402 en su cuenta.", ActionNone},
		{"es", "product", "Trail Runner 2 cuesta 89,00 € y está disponible.", ActionNone},
		{"es", "outofstock", "City Rain Jacket cuesta 129,00 € y ahora mismo está agotado.", ActionNone},
		{"es", "login", "Inicie sesión en su cuenta (o vincule este chat a ella) para que pueda ayudarle con sus pedidos.", ActionLogin},
		{"es", "stepup", "Por su seguridad, confirme su identidad con su segundo factor y vuelva a preguntarme.", ActionStepUp},
		{"es", "help", "Gracias por su mensaje. ¿En qué puedo ayudarle: estado del pedido, devoluciones, dirección de entrega, horario o nuestros productos?", ActionNone},
		{"nl", "greeting", "Hallo! Waarmee kan ik u vandaag helpen?", ActionNone},
		{"nl", "hours", "Onze openingstijden: maandag–vrijdag 09:00–18:00, zaterdag 10:00–14:00, zondag gesloten.", ActionNone},
		{"nl", "shipped", "Bestelling 100234 is op 2026-11-27 verzonden met DHL.", ActionNone},
		{"nl", "delivered", "Bestelling 100311 is op 2026-11-20 bezorgd.", ActionNone},
		{"nl", "processing", "Bestelling 100455 wordt voorbereid en wordt binnenkort verzonden.", ActionNone},
		{"nl", "notfound", "Ik kon bestelling 100402 niet vinden in uw account.", ActionNone},
		{"nl", "product", "Trail Runner 2 kost € 89,00 en is op voorraad.", ActionNone},
		{"nl", "outofstock", "City Rain Jacket kost € 129,00 en is op dit moment niet op voorraad.", ActionNone},
		{"nl", "login", "Log in op uw account (of koppel deze chat eraan) zodat ik u kan helpen met uw bestellingen.", ActionLogin},
		{"nl", "stepup", "Bevestig voor uw veiligheid met uw tweede factor dat u het bent en vraag het daarna opnieuw.", ActionStepUp},
		{"nl", "help", "Bedankt voor uw bericht. Waarmee kan ik helpen: bestelstatus, retouren, bezorgadres, openingstijden of onze producten?", ActionNone},
		{"it", "greeting", "Buongiorno! Come posso aiutarla oggi?", ActionNone},
		{"it", "hours", "I nostri orari di apertura: lunedì–venerdì 09:00–18:00, sabato 10:00–14:00, domenica chiuso.", ActionNone},
		{"it", "shipped", "L'ordine 100234 è stato spedito con DHL il 2026-11-27.", ActionNone},
		{"it", "delivered", "L'ordine 100311 è stato consegnato il 2026-11-20.", ActionNone},
		{"it", "processing", "L'ordine 100455 è in preparazione e sarà spedito a breve.", ActionNone},
		{"it", "notfound", "Non ho trovato l'ordine 100402 nel suo account.", ActionNone},
		{"it", "product", "Trail Runner 2 costa 89,00 € ed è disponibile.", ActionNone},
		{"it", "outofstock", "City Rain Jacket costa 129,00 € e al momento non è disponibile.", ActionNone},
		{"it", "login", "Acceda al suo account (o colleghi questa chat) così che possa aiutarla con i suoi ordini.", ActionLogin},
		{"it", "stepup", "Per la sua sicurezza, confermi la sua identità con il secondo fattore e poi me lo chieda di nuovo.", ActionStepUp},
		{"it", "help", "Grazie per il messaggio. Come posso aiutarla: stato dell'ordine, resi, indirizzo di consegna, orari di apertura o i nostri prodotti?", ActionNone},
	} {
		s, ok := scenarios[c.scenario]
		if !ok {
			t.Fatalf("no scenario %q", c.scenario)
		}
		r := b.Reply(context.Background(), Request{Caller: s.caller, Language: c.lang, Text: s.text})
		if r.Text != c.want || r.Action != c.action {
			t.Errorf("%s %s: got %q (%q), want %q (%q)", c.lang, c.scenario, r.Text, r.Action, c.want, c.action)
		}
	}
}

// TestClassifyInEachLanguage: a customer writing in any of the six
// languages is understood.
func TestClassifyInEachLanguage(t *testing.T) {
	for text, want := range map[string]Intent{
		"Wo ist meine Bestellung 100234?":          OrderStatus,
		"Où est ma commande ?":                     OrderStatus,
		"¿Dónde está mi pedido? Estado del pedido": OrderStatus,
		"Waar is mijn bestelling?":                 OrderStatus,
		"Dov'è il mio ordine?":                     OrderStatus,
		"Ich möchte die Schuhe zurücksenden":       Return,
		"Je voudrais retourner ma commande":        Return,
		"Quiero devolver el pedido":                Return,
		"Ik wil het terugsturen":                   Return,
		"Vorrei fare un reso":                      Return,
		"I want a refund":                          Refund,
		"Rückerstattung bitte":                     Refund,
		"Lieferadresse ändern":                     DeliveryAddress,
		"changer l'adresse de livraison":           DeliveryAddress,
		"cambiar la dirección de entrega":          DeliveryAddress,
		"bezorgadres wijzigen":                     DeliveryAddress,
		"cambiare indirizzo di consegna":           DeliveryAddress,
		"Wann haben Sie geöffnet?":                 OpeningHours,
		"Quels sont vos horaires ?":                OpeningHours,
		"¿Cuál es su horario?":                     OpeningHours,
		"Wat zijn de openingstijden?":              OpeningHours,
		"Quali sono gli orari?":                    OpeningHours,
		"Was kostet das?":                          ProductQuestion,
		"Can you recommend something?":             Recommend,
		"I want to talk to a human":                HandOff,
		"they said hi":                             Greeting,
		"They were here":                           Unknown,
		"my e-mail is [EMAIL_1]":                   Unknown,
		"Hello, where is my order? [EMAIL_1]":      OrderStatus,
		"where is order 100234":                    OrderStatus,
	} {
		if got := Classify(text); got != want {
			t.Errorf("Classify(%q) = %s, want %s", text, got, want)
		}
	}
}

// TestAnotherCustomersOrderIsNotFound: an order is found only for the
// account it belongs to, in its shop. Bob asking for Alice's order number
// hears exactly what he hears for a number that does not exist; so does
// Alice asking from another shop. (Fails without the owner check in
// Tools.LookupOrder.)
func TestAnotherCustomersOrderIsNotFound(t *testing.T) {
	b := builtin(t, nil)
	ask := func(c Caller, text string) string {
		return b.Reply(context.Background(), Request{Caller: c, Language: "en", Text: text}).Text
	}
	if got, want := ask(alice, "where is my order 100234"), "Order 100234 was shipped with DHL on 2026-11-27."; got != want {
		t.Fatalf("alice's own order: %q, want %q", got, want)
	}
	for _, c := range []struct {
		who  Caller
		text string
	}{
		{bob, "where is my order 100234"},
		{aliceElse, "where is my order 100234"},
		{bob, "I want to return order 100311"},
		{bob, "refund order 100311"},
	} {
		if c.who.AAL < 2 && strings.Contains(c.text, "refund") {
			c.who.AAL, c.who.AuthTime = 2, testNow
		}
		got := ask(c.who, c.text)
		if !strings.HasPrefix(got, "I could not find order 100") {
			t.Errorf("%s in %s: %q, want not found", c.who.Subject, c.who.Tenant, got)
		}
		if strings.Contains(got, "DHL") || strings.Contains(got, "2026-") || strings.Contains(got, "R-") {
			t.Errorf("%s learnt something of another's order: %q", c.who.Subject, got)
		}
	}
	if _, err := b.Tools().LookupOrder(bob, "100234"); !errors.Is(err, ErrOrderNotFound) {
		t.Errorf("LookupOrder as bob: %v, want ErrOrderNotFound", err)
	}
	if _, err := b.Tools().StartReturn(bob, "100311"); !errors.Is(err, ErrOrderNotFound) {
		t.Errorf("StartReturn as bob: %v, want ErrOrderNotFound", err)
	}
}

// TestSignInBeforeOrders: a visitor, or a channel user whose account is
// not linked, is asked to sign in for anything about an order, including
// its delivery address, and learns nothing of it. (Fails without the
// account check in Tools and sensitive.)
func TestSignInBeforeOrders(t *testing.T) {
	b := builtin(t, nil)
	for _, who := range []Caller{visitor, unlinked} {
		for _, text := range []string{"What is the delivery address of order 100455?", "where is my order 100234",
			"I want to return order 100311", "refund order 100311", "100234"} {
			r := b.Reply(context.Background(), Request{Caller: who, Language: "en", Text: text})
			if r.Action != ActionLogin || r.Text != "Please sign in to your account (or link this chat to it) so that I can help with your orders." {
				t.Errorf("%s (linked %v) %q: %q (%q), want the sign-in request", who.Kind, who.Linked, text, r.Text, r.Action)
			}
		}
	}
	if _, err := b.Tools().StartReturn(unlinked, "100311"); !errors.Is(err, ErrLoginRequired) {
		t.Errorf("StartReturn unlinked: %v", err)
	}
}

// TestStepUpBeforeAddressOrRefund: at aal1 a customer asking to change a
// delivery address (or for a refund) is asked to step up; at aal2 the
// change goes to staff with the new address as its placeholder. The
// address itself is never in a reply. (Fails without the AAL check in
// sensitive.)
func TestStepUpBeforeAddressOrRefund(t *testing.T) {
	b := builtin(t, nil)
	ctx := context.Background()
	for _, text := range []string{"Please change the delivery address of order 100455 to [ADDRESS_1]",
		"What is the delivery address of order 100455?", "I want a refund for order 100311"} {
		r := b.Reply(ctx, Request{Caller: alice, Language: "en", Text: text})
		if r.Action != ActionStepUp || r.Text != "For your security, please confirm it is you with your second factor, then ask me again." {
			t.Errorf("aal1 %q: %q (%q), want the step-up request", text, r.Text, r.Action)
		}
	}
	r := b.Reply(ctx, Request{Caller: alice2, Language: "en", Text: "Please change the delivery address of order 100455 to [ADDRESS_1]"})
	if want := "I have asked our team to change the delivery address of order 100455 to [ADDRESS_1]. They will confirm it shortly."; r.Text != want || r.Action != ActionHandOff {
		t.Errorf("aal2 change: %q (%q), want %q", r.Text, r.Action, want)
	}
	r = b.Reply(ctx, Request{Caller: alice2, Language: "en", Text: "What is the delivery address of order 100455?"})
	if want := "I cannot show delivery addresses in the chat; you find it under Orders in your account. To change it, send me the new delivery address for order 100455."; r.Text != want {
		t.Errorf("aal2 question: %q", r.Text)
	}
	r = b.Reply(ctx, Request{Caller: alice2, Language: "de", Text: "Lieferadresse der Bestellung 100234 ändern"})
	if want := "Die Bestellung 100234 hat unser Lager bereits verlassen; die Lieferadresse kann nicht mehr geändert werden."; r.Text != want {
		t.Errorf("aal2 shipped: %q", r.Text)
	}
	r = b.Reply(ctx, Request{Caller: alice2, Language: "en", Text: "I want a refund for order 100311"})
	if want := "I have passed your refund request for order 100311 to our team; they will get back to you here."; r.Text != want || r.Action != ActionHandOff {
		t.Errorf("aal2 refund: %q (%q)", r.Text, r.Action)
	}
	// aal2 is not enough when it is older than identity's recent-auth
	// window (or its time is unknown). (Fails without the age check.)
	for name, at := range map[string]time.Time{"16 minutes ago": testNow.Add(-16 * time.Minute), "unknown": {}} {
		stale := alice2
		stale.AuthTime = at
		r = b.Reply(ctx, Request{Caller: stale, Language: "en", Text: "I want a refund for order 100311"})
		if r.Action != ActionStepUp {
			t.Errorf("aal2 %s: %q (%q), want the step-up request", name, r.Text, r.Action)
		}
	}
}

// TestFollowUpFromHistory: a bare order number answers the last order
// question; a return without a number is about the order named last.
func TestFollowUpFromHistory(t *testing.T) {
	b := builtin(t, nil)
	ctx := context.Background()
	hist := []Turn{{Customer: true, Text: "I want to return something"},
		{Text: "You can return items within 30 days of delivery. Please tell me the order number."}}
	r := b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "It is 100311", History: hist})
	if want := "I have started a return for order 100311. Please write the return number R-100311 on the parcel."; r.Text != want {
		t.Errorf("follow-up: %q, want %q", r.Text, want)
	}
	r = b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "return it please",
		History: []Turn{{Customer: true, Text: "where is my order 100311"}, {Text: "Order 100311 was delivered on 2026-11-20."}}})
	if want := "A return for order 100311 is already open; its number is R-100311."; r.Text != want {
		t.Errorf("second return: %q, want %q", r.Text, want)
	}
	r = b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "return order 100455"})
	if want := "Order 100455 cannot be returned yet: it has not been delivered."; r.Text != want {
		t.Errorf("undelivered: %q", r.Text)
	}
	r = b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "100234"})
	if want := "Order 100234 was shipped with DHL on 2026-11-27."; r.Text != want {
		t.Errorf("bare number: %q", r.Text)
	}
	r = b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "Hello, where is my order? Mail me at [EMAIL_1]."})
	if want := "I can help with your order status. Please tell me your order number; I will send the tracking details to [EMAIL_1]."; r.Text != want {
		t.Errorf("contact: %q", r.Text)
	}
	r = b.Reply(ctx, Request{Caller: aliceElse, Language: "en", Text: "opening hours?"})
	if want := "Our opening hours: Monday–Tuesday 08:00–20:00, Wednesday closed, Thursday–Friday 08:00–20:00, Saturday–Sunday closed."; r.Text != want {
		t.Errorf("other shop's hours: %q", r.Text)
	}
	r = b.Reply(ctx, Request{Caller: Caller{Tenant: "nowhere", Kind: "customer", Subject: "x", Linked: true}, Language: "en", Text: "opening hours?"})
	if r.Action != ActionHandOff {
		t.Errorf("a shop without fixtures: %q (%q), want a hand-off", r.Text, r.Action)
	}
}

// purposes answers from a map, or fails.
type purposes struct {
	allow map[string]bool
	err   error
	asked []string
}

func (p *purposes) Allowed(_ context.Context, subject, purpose string) (bool, error) {
	p.asked = append(p.asked, subject+"/"+purpose)
	return p.allow[subject+"/"+purpose], p.err
}

// TestPersonalisationOnlyWithConsent: a recommendation uses the customer's
// order history only when the personalisation purpose is allowed; a
// refusal, an error (consent unreachable) and no consent service all give
// the shop's featured product. (Fails without the check in recommend.)
func TestPersonalisationOnlyWithConsent(t *testing.T) {
	f := testFixtures(t)
	ctx := context.Background()
	req := Request{Caller: alice, Language: "en", Text: "Can you recommend something?"}
	// Alice bought shoes (TR-2, WS-3) and a bag (DP-20): the first product
	// in stock of a category she bought from, not bought, is Trail Gaiters.
	personal := "Based on your earlier orders, you might like: Trail Gaiters."
	generic := "A customer favourite right now: Day Pack 20."
	yes := &purposes{allow: map[string]bool{"cus_alice/personalisation": true}}
	got := NewBuiltin(f, yes).Reply(ctx, req).Text
	if got != personal {
		t.Fatalf("with consent: %q, want %q", got, personal)
	}
	if len(yes.asked) != 1 || yes.asked[0] != "cus_alice/personalisation" {
		t.Errorf("asked %v, want the personalisation purpose for alice", yes.asked)
	}
	for name, p := range map[string]Purposes{
		"refused":     &purposes{allow: map[string]bool{"cus_alice/order_support": true}},
		"unreachable": &purposes{allow: map[string]bool{"cus_alice/personalisation": true}, err: errors.New("consent unavailable")},
		"none":        nil,
	} {
		if got := NewBuiltin(f, p).Reply(ctx, req).Text; got != generic {
			t.Errorf("%s: %q, want %q", name, got, generic)
		}
	}
	// A visitor is never personalised for, and the consent service is not
	// asked about nobody.
	v := &purposes{allow: map[string]bool{"/personalisation": true}}
	if got := NewBuiltin(f, v).Reply(ctx, Request{Caller: visitor, Language: "en", Text: "recommend something"}).Text; got != generic || len(v.asked) != 0 {
		t.Errorf("visitor: %q, asked %v", got, v.asked)
	}
}

// TestFixturesRefuseBadData: the fixtures a shop's assistant starts on
// must parse as meant.
func TestFixturesRefuseBadData(t *testing.T) {
	good := map[string]string{
		"catalogue.json":     `{"currency":"EUR","products":[]}`,
		"orders.json":        `{"orders":[{"number":"12345","customer":"c","status":"shipped","items":[]}]}`,
		"opening_hours.json": `{"days":{"monday":"9-5"}}`,
	}
	build := func(change map[string]string) fstest.MapFS {
		fsys := fstest.MapFS{}
		for k, v := range good {
			fsys["shop/"+k] = &fstest.MapFile{Data: []byte(v)}
		}
		for k, v := range change {
			fsys["shop/"+k] = &fstest.MapFile{Data: []byte(v)}
		}
		return fsys
	}
	if _, err := Load(build(nil)); err != nil {
		t.Fatalf("good fixtures: %v", err)
	}
	for name, change := range map[string]map[string]string{
		"no customer":   {"orders.json": `{"orders":[{"number":"12345","status":"shipped"}]}`},
		"twice":         {"orders.json": `{"orders":[{"number":"12345","customer":"c","status":"shipped"},{"number":"12345","customer":"d","status":"shipped"}]}`},
		"bad number":    {"orders.json": `{"orders":[{"number":"A1","customer":"c","status":"shipped"}]}`},
		"bad status":    {"orders.json": `{"orders":[{"number":"12345","customer":"c","status":"lost"}]}`},
		"address field": {"orders.json": `{"orders":[{"number":"12345","customer":"c","status":"shipped","address":"x"}]}`},
		"unknown day":   {"opening_hours.json": `{"days":{"funday":"9-5"}}`},
		"no currency":   {"catalogue.json": `{"products":[]}`},
		"not json":      {"catalogue.json": `{`},
	} {
		if _, err := Load(build(change)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := Load(fstest.MapFS{"Bad Name/orders.json": &fstest.MapFile{}}); err == nil {
		t.Error("a folder that is no tenant name loaded")
	}
}

func BenchmarkBuiltinReply(b *testing.B) {
	bi := NewBuiltin(testFixtures(b), nil)
	ctx := context.Background()
	req := Request{Caller: alice, Language: "de", Text: "Wo ist meine Bestellung 100234?",
		History: []Turn{{Customer: true, Text: "Hallo"}, {Text: "Hallo! Wie kann ich Ihnen heute helfen?"}}}
	b.ReportAllocs()
	for b.Loop() {
		if bi.Reply(ctx, req).Text == "" {
			b.Fatal("no reply")
		}
	}
}

// TestReturnStartedOnce: the same return asked for at once from many
// goroutines is started once; every other answer names the open return.
func TestReturnStartedOnce(t *testing.T) {
	b := builtin(t, nil)
	const n = 16
	replies := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			replies <- b.Reply(context.Background(), Request{Caller: alice, Language: "en", Text: "return order 100311"}).Text
		})
	}
	wg.Wait()
	close(replies)
	started := 0
	for r := range replies {
		switch r {
		case "I have started a return for order 100311. Please write the return number R-100311 on the parcel.":
			started++
		case "A return for order 100311 is already open; its number is R-100311.":
		default:
			t.Errorf("reply %q", r)
		}
	}
	if started != 1 {
		t.Errorf("started %d times, want once", started)
	}
}

// TestHistoryReadOnlyWhenNeeded: a message that names its order and what it
// wants is answered without reading the conversation's history; a bare
// order number reads it (once) and answers the question asked before it.
func TestHistoryReadOnlyWhenNeeded(t *testing.T) {
	b := builtin(t, nil)
	ctx := context.Background()
	reads := 0
	load := func() []Turn {
		reads++
		return []Turn{{Customer: true, Text: "I want to return something"},
			{Text: "You can return items within 30 days of delivery. Please tell me the order number."}}
	}
	r := b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "where is my order 100234", LoadHistory: load})
	if want := "Order 100234 was shipped with DHL on 2026-11-27."; r.Text != want || reads != 0 {
		t.Errorf("a message that says it all: %q after %d history reads, want %q after none", r.Text, reads, want)
	}
	r = b.Reply(ctx, Request{Caller: alice, Language: "en", Text: "It is 100311", LoadHistory: load})
	if want := "I have started a return for order 100311. Please write the return number R-100311 on the parcel."; r.Text != want || reads != 1 {
		t.Errorf("a bare number: %q after %d history reads, want %q after one", r.Text, reads, want)
	}
}
