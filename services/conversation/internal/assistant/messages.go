package assistant

import (
	"fmt"
	"strconv"
	"strings"
)

// msg names one of the assistant's sentences.
type msg int

const (
	msgGreeting msg = iota
	msgHelp
	msgLogin
	msgStepUp
	msgAskOrder
	msgAskOrderContact
	msgNotFound
	msgProcessing
	msgShipped
	msgDelivered
	msgCancelled
	msgReturnStarted
	msgReturnAlready
	msgNotReturnable
	msgAskReturnOrder
	msgAddressAsk
	msgAddressChange
	msgAddressShipped
	msgRefund
	msgHours
	msgClosed
	msgInStock
	msgOutOfStock
	msgProductUnknown
	msgSuggestPersonal
	msgSuggestGeneric
	msgHandOff
	msgSuggestViewed
)

// languages the assistant answers in; anything else is answered in "en".
var languages = []string{"en", "de", "fr", "es", "nl", "it"}

// texts are the sentences per language, in the order of languages. Verbs
// are fmt's; indexed ones where a language orders the arguments
// differently.
var texts = map[msg][6]string{
	msgGreeting: {"Hello! How can I help you today?", "Hallo! Wie kann ich Ihnen heute helfen?",
		"Bonjour ! Comment puis-je vous aider aujourd'hui ?", "¡Hola! ¿En qué puedo ayudarle hoy?",
		"Hallo! Waarmee kan ik u vandaag helpen?", "Buongiorno! Come posso aiutarla oggi?"},
	msgHelp: {"Thank you for your message. How can I help you: order status, returns, delivery address, opening hours or our products?",
		"Danke für Ihre Nachricht. Wobei kann ich helfen: Bestellstatus, Rücksendungen, Lieferadresse, Öffnungszeiten oder unsere Produkte?",
		"Merci pour votre message. Comment puis-je vous aider : suivi de commande, retours, adresse de livraison, horaires d'ouverture ou nos produits ?",
		"Gracias por su mensaje. ¿En qué puedo ayudarle: estado del pedido, devoluciones, dirección de entrega, horario o nuestros productos?",
		"Bedankt voor uw bericht. Waarmee kan ik helpen: bestelstatus, retouren, bezorgadres, openingstijden of onze producten?",
		"Grazie per il messaggio. Come posso aiutarla: stato dell'ordine, resi, indirizzo di consegna, orari di apertura o i nostri prodotti?"},
	msgLogin: {"Please sign in to your account (or link this chat to it) so that I can help with your orders.",
		"Bitte melden Sie sich in Ihrem Konto an (oder verknüpfen Sie diesen Chat damit), damit ich Ihnen bei Ihren Bestellungen helfen kann.",
		"Veuillez vous connecter à votre compte (ou y associer cette discussion) pour que je puisse vous aider avec vos commandes.",
		"Inicie sesión en su cuenta (o vincule este chat a ella) para que pueda ayudarle con sus pedidos.",
		"Log in op uw account (of koppel deze chat eraan) zodat ik u kan helpen met uw bestellingen.",
		"Acceda al suo account (o colleghi questa chat) così che possa aiutarla con i suoi ordini."},
	msgStepUp: {"For your security, please confirm it is you with your second factor, then ask me again.",
		"Zu Ihrer Sicherheit bestätigen Sie bitte mit Ihrem zweiten Faktor, dass Sie es sind, und fragen Sie dann erneut.",
		"Pour votre sécurité, confirmez votre identité avec votre second facteur, puis posez à nouveau votre question.",
		"Por su seguridad, confirme su identidad con su segundo factor y vuelva a preguntarme.",
		"Bevestig voor uw veiligheid met uw tweede factor dat u het bent en vraag het daarna opnieuw.",
		"Per la sua sicurezza, confermi la sua identità con il secondo fattore e poi me lo chieda di nuovo."},
	msgAskOrder: {"Please tell me your order number.", "Bitte nennen Sie mir Ihre Bestellnummer.",
		"Veuillez m'indiquer votre numéro de commande.", "Indíqueme su número de pedido, por favor.",
		"Geef mij alstublieft uw bestelnummer.", "Mi indichi il numero dell'ordine, per favore."},
	msgAskOrderContact: {"I can help with your order status. Please tell me your order number; I will send the tracking details to %s.",
		"Ich helfe Ihnen gern mit Ihrer Bestellung. Bitte nennen Sie mir Ihre Bestellnummer; die Sendungsdaten schicke ich an %s.",
		"Je peux vous aider pour votre commande. Indiquez-moi votre numéro de commande ; j'enverrai les détails de suivi à %s.",
		"Puedo ayudarle con su pedido. Indíqueme su número de pedido; enviaré los datos de seguimiento a %s.",
		"Ik help u graag met uw bestelling. Geef mij uw bestelnummer; ik stuur de trackinggegevens naar %s.",
		"Posso aiutarla con il suo ordine. Mi indichi il numero dell'ordine; invierò i dettagli di spedizione a %s."},
	msgNotFound: {"I could not find order %s in your account.", "Ich konnte die Bestellung %s in Ihrem Konto nicht finden.",
		"Je n'ai pas trouvé la commande %s dans votre compte.", "No he encontrado el pedido %s en su cuenta.",
		"Ik kon bestelling %s niet vinden in uw account.", "Non ho trovato l'ordine %s nel suo account."},
	msgProcessing: {"Order %s is being prepared and will ship soon.", "Die Bestellung %s wird vorbereitet und bald versandt.",
		"La commande %s est en préparation et sera bientôt expédiée.", "El pedido %s se está preparando y se enviará pronto.",
		"Bestelling %s wordt voorbereid en wordt binnenkort verzonden.", "L'ordine %s è in preparazione e sarà spedito a breve."},
	msgShipped: {"Order %s was shipped with %s on %s.", "Die Bestellung %[1]s wurde am %[3]s mit %[2]s versandt.",
		"La commande %s a été expédiée avec %s le %s.", "El pedido %s se envió con %s el %s.",
		"Bestelling %[1]s is op %[3]s verzonden met %[2]s.", "L'ordine %s è stato spedito con %s il %s."},
	msgDelivered: {"Order %s was delivered on %s.", "Die Bestellung %s wurde am %s zugestellt.",
		"La commande %s a été livrée le %s.", "El pedido %s se entregó el %s.",
		"Bestelling %s is op %s bezorgd.", "L'ordine %s è stato consegnato il %s."},
	msgCancelled: {"Order %s was cancelled.", "Die Bestellung %s wurde storniert.", "La commande %s a été annulée.",
		"El pedido %s fue cancelado.", "Bestelling %s is geannuleerd.", "L'ordine %s è stato annullato."},
	msgReturnStarted: {"I have started a return for order %s. Please write the return number %s on the parcel.",
		"Ich habe eine Rücksendung für die Bestellung %s angelegt. Bitte schreiben Sie die Rücksendenummer %s auf das Paket.",
		"J'ai ouvert un retour pour la commande %s. Veuillez indiquer le numéro de retour %s sur le colis.",
		"He iniciado una devolución del pedido %s. Escriba el número de devolución %s en el paquete.",
		"Ik heb een retour aangemaakt voor bestelling %s. Zet het retournummer %s op het pakket.",
		"Ho avviato un reso per l'ordine %s. Scriva il numero di reso %s sul pacco."},
	msgReturnAlready: {"A return for order %s is already open; its number is %s.",
		"Für die Bestellung %s ist bereits eine Rücksendung offen; ihre Nummer ist %s.",
		"Un retour pour la commande %s est déjà ouvert ; son numéro est %s.",
		"Ya hay una devolución abierta para el pedido %s; su número es %s.",
		"Er loopt al een retour voor bestelling %s; het nummer is %s.",
		"Un reso per l'ordine %s è già aperto; il numero è %s."},
	msgNotReturnable: {"Order %s cannot be returned yet: it has not been delivered.",
		"Die Bestellung %s kann noch nicht zurückgesendet werden: sie wurde noch nicht zugestellt.",
		"La commande %s ne peut pas encore être retournée : elle n'a pas été livrée.",
		"El pedido %s aún no se puede devolver: no se ha entregado.",
		"Bestelling %s kan nog niet worden geretourneerd: ze is nog niet bezorgd.",
		"L'ordine %s non può ancora essere reso: non è stato consegnato."},
	msgAskReturnOrder: {"You can return items within 30 days of delivery. Please tell me the order number.",
		"Sie können Artikel innerhalb von 30 Tagen nach Zustellung zurücksenden. Bitte nennen Sie mir die Bestellnummer.",
		"Vous pouvez retourner des articles dans les 30 jours suivant la livraison. Veuillez m'indiquer le numéro de commande.",
		"Puede devolver artículos en los 30 días siguientes a la entrega. Indíqueme el número de pedido, por favor.",
		"U kunt artikelen binnen 30 dagen na bezorging retourneren. Geef mij alstublieft het bestelnummer.",
		"Può restituire gli articoli entro 30 giorni dalla consegna. Mi indichi il numero dell'ordine, per favore."},
	msgAddressAsk: {"I cannot show delivery addresses in the chat; you find it under Orders in your account. To change it, send me the new delivery address for order %s.",
		"Lieferadressen kann ich im Chat nicht anzeigen; Sie finden sie in Ihrem Konto unter Bestellungen. Um sie zu ändern, senden Sie mir die neue Lieferadresse für die Bestellung %s.",
		"Je ne peux pas afficher les adresses de livraison dans la discussion ; vous la trouverez dans votre compte, rubrique Commandes. Pour la modifier, envoyez-moi la nouvelle adresse de livraison de la commande %s.",
		"No puedo mostrar direcciones de entrega en el chat; la encontrará en su cuenta, en Pedidos. Para cambiarla, envíeme la nueva dirección de entrega del pedido %s.",
		"Ik kan bezorgadressen niet in de chat tonen; u vindt het in uw account onder Bestellingen. Stuur mij het nieuwe bezorgadres voor bestelling %s om het te wijzigen.",
		"Non posso mostrare gli indirizzi di consegna nella chat; lo trova nel suo account alla voce Ordini. Per cambiarlo, mi invii il nuovo indirizzo di consegna per l'ordine %s."},
	msgAddressChange: {"I have asked our team to change the delivery address of order %s to %s. They will confirm it shortly.",
		"Ich habe unser Team gebeten, die Lieferadresse der Bestellung %s auf %s zu ändern. Sie erhalten in Kürze eine Bestätigung.",
		"J'ai demandé à notre équipe de changer l'adresse de livraison de la commande %s en %s. Elle vous le confirmera sous peu.",
		"He pedido a nuestro equipo que cambie la dirección de entrega del pedido %s a %s. Se lo confirmarán en breve.",
		"Ik heb ons team gevraagd het bezorgadres van bestelling %s te wijzigen in %s. U krijgt binnenkort een bevestiging.",
		"Ho chiesto al nostro team di cambiare l'indirizzo di consegna dell'ordine %s in %s. Riceverà a breve una conferma."},
	msgAddressShipped: {"Order %s has already left our warehouse, so its delivery address can no longer be changed.",
		"Die Bestellung %s hat unser Lager bereits verlassen; die Lieferadresse kann nicht mehr geändert werden.",
		"La commande %s a déjà quitté notre entrepôt ; son adresse de livraison ne peut plus être modifiée.",
		"El pedido %s ya ha salido de nuestro almacén, por lo que ya no se puede cambiar su dirección de entrega.",
		"Bestelling %s heeft ons magazijn al verlaten, dus het bezorgadres kan niet meer worden gewijzigd.",
		"L'ordine %s ha già lasciato il nostro magazzino, quindi l'indirizzo di consegna non può più essere cambiato."},
	msgRefund: {"I have passed your refund request for order %s to our team; they will get back to you here.",
		"Ich habe Ihren Erstattungswunsch für die Bestellung %s an unser Team weitergegeben; es meldet sich hier bei Ihnen.",
		"J'ai transmis votre demande de remboursement pour la commande %s à notre équipe ; elle vous répondra ici.",
		"He pasado su solicitud de reembolso del pedido %s a nuestro equipo; le responderán aquí.",
		"Ik heb uw verzoek om terugbetaling voor bestelling %s doorgegeven aan ons team; zij reageren hier.",
		"Ho inoltrato la sua richiesta di rimborso per l'ordine %s al nostro team; le risponderà qui."},
	msgHours: {"Our opening hours: %s.", "Unsere Öffnungszeiten: %s.", "Nos horaires d'ouverture : %s.",
		"Nuestro horario: %s.", "Onze openingstijden: %s.", "I nostri orari di apertura: %s."},
	msgClosed: {"closed", "geschlossen", "fermé", "cerrado", "gesloten", "chiuso"},
	msgInStock: {"%s costs %s and is in stock.", "%s kostet %s und ist auf Lager.", "%s coûte %s et est en stock.",
		"%s cuesta %s y está disponible.", "%s kost %s en is op voorraad.", "%s costa %s ed è disponibile."},
	msgOutOfStock: {"%s costs %s and is out of stock at the moment.", "%s kostet %s und ist derzeit nicht auf Lager.",
		"%s coûte %s et est actuellement en rupture de stock.", "%s cuesta %s y ahora mismo está agotado.",
		"%s kost %s en is op dit moment niet op voorraad.", "%s costa %s e al momento non è disponibile."},
	msgProductUnknown: {"I could not find that product. We sell: %s.", "Dieses Produkt habe ich nicht gefunden. Wir verkaufen: %s.",
		"Je n'ai pas trouvé ce produit. Nous vendons : %s.", "No he encontrado ese producto. Vendemos: %s.",
		"Ik kon dat product niet vinden. Wij verkopen: %s.", "Non ho trovato quel prodotto. Vendiamo: %s."},
	msgSuggestPersonal: {"Based on your earlier orders, you might like: %s.",
		"Passend zu Ihren früheren Bestellungen gefällt Ihnen vielleicht: %s.",
		"D'après vos commandes précédentes, ceci pourrait vous plaire : %s.",
		"Según sus pedidos anteriores, quizá le guste: %s.",
		"Op basis van uw eerdere bestellingen vindt u dit misschien leuk: %s.",
		"In base ai suoi ordini precedenti, potrebbe piacerle: %s."},
	msgSuggestViewed: {"Based on what you looked at recently, you might like: %s.",
		"Passend zu dem, was Sie sich zuletzt angesehen haben, gefällt Ihnen vielleicht: %s.",
		"D'après ce que vous avez regardé récemment, ceci pourrait vous plaire : %s.",
		"Según lo que ha visto recientemente, quizá le guste: %s.",
		"Op basis van wat u onlangs hebt bekeken, vindt u dit misschien leuk: %s.",
		"In base a ciò che ha guardato di recente, potrebbe piacerle: %s."},
	msgSuggestGeneric: {"A customer favourite right now: %s.", "Gerade besonders beliebt: %s.",
		"Un favori de nos clients en ce moment : %s.", "Uno de los favoritos de nuestros clientes: %s.",
		"Nu favoriet bij onze klanten: %s.", "Uno dei preferiti dei nostri clienti: %s."},
	msgHandOff: {"I am passing you to a member of our team; they will answer here.",
		"Ich verbinde Sie mit unserem Team; es antwortet Ihnen hier.",
		"Je vous mets en relation avec notre équipe ; elle vous répondra ici.",
		"Le paso con nuestro equipo; le responderán aquí.",
		"Ik geef u door aan ons team; zij antwoorden hier.",
		"La metto in contatto con il nostro team; le risponderà qui."},
}

// dayNames are monday … sunday per language.
var dayNames = [6][7]string{
	{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
	{"Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"},
	{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"},
	{"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"},
	{"maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"},
	{"lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"},
}

// lang is the index of a language in languages ("en" when unknown).
func lang(l string) int {
	l = strings.ToLower(l)
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	for i, x := range languages {
		if x == l {
			return i
		}
	}
	return 0
}

func say(l int, m msg, args ...any) string {
	t := texts[m][l]
	if len(args) == 0 {
		return t
	}
	return fmt.Sprintf(t, args...)
}

// hours renders a week's opening hours, runs of days with the same hours
// joined ("Monday–Friday 09:00–18:00, Saturday 10:00–14:00, Sunday
// closed").
func hours(l int, h Hours) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && h.Days[days[j+1]] == h.Days[days[i]] {
			j++
		}
		span := dayNames[l][i]
		if j > i {
			span += "–" + dayNames[l][j]
		}
		v := h.Days[days[i]]
		if v == "" {
			v = say(l, msgClosed)
		}
		parts = append(parts, span+" "+v)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}

// price renders an amount as the language writes it: "€89.00" in
// English, "89,00 €" in German, French, Spanish and Italian, "€ 89,00" in
// Dutch.
func price(l int, cents int64, currency string) string {
	sym, ok := currencySymbols[currency]
	if !ok {
		sym = currency
	}
	neg := ""
	if cents < 0 {
		neg, cents = "-", -cents
	}
	whole, frac := strconv.FormatInt(cents/100, 10), fmt.Sprintf("%02d", cents%100)
	switch languages[l] {
	case "en":
		return neg + sym + whole + "." + frac
	case "nl":
		return sym + " " + neg + whole + "," + frac
	default:
		return neg + whole + "," + frac + " " + sym
	}
}
