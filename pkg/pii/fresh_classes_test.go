package pii

import "testing"

// The cases in this file were written for the failure classes the labelled
// set's author reported on the "fresh" split (described in words, never its
// texts): capitalised sentence starts and e-mail header display names taken
// for people, order and receipt numbers taken for phones, promo and product
// codes taken for secrets, and missed corrections of birth dates, changed
// passwords and one's own landline. Each class has its own cases in the six
// languages, positives beside look-alikes; the rules that pass them are
// general (context words and structure), not these strings.

func TestSentenceStartsAreNoNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Yes. The parcel came today but the box was crushed.", nil},
		{"en", "Yep, that works. Sure thing, go ahead with the exchange.", nil},
		{"de", "Jawohl, das passt. Genau so machen wir es.", nil},
		{"fr", "J'ai reçu le colis mais il manque la notice.", nil},
		{"fr", "C'est bon pour moi. Oui, vous pouvez l'envoyer.", nil},
		{"fr", "Le colis est arrivé hier, merci.", nil},
		{"fr", "Le carton était abîmé. D'accord pour un échange.", nil},
		{"es", "Sí, claro. Quiero cambiar la talla.", nil},
		{"es", "Necesito la factura del pedido. Tengo prisa.", nil},
		{"es", "Vale, perfecto. Espero la respuesta.", nil},
		{"it", "Sì, va bene. Vorrei cambiare il colore.", nil},
		{"it", "Volevo sapere quando arriva. Aspetto notizie.", nil},
		{"it", "Ho ricevuto il pacco. Grazie mille.", nil},
		{"nl", "Ja hoor, dat is goed. Prima zo.", nil},
		{"nl", "Klopt, het pakket is binnen.", nil},
		{"en", "Thanks!\nYep", nil},
		{"en", "Hi,\nYes the parcel came but the box is crushed.", nil},
		{"it", "Ciao, Volevo sapere dove è il pacco.", nil},
		{"it", "Buongiorno, Vorrei un rimborso.", nil},
		{"it", "Salve Ho ricevuto il pacco rotto", nil},
		{"es", "Hola, Necesito ayuda con el pedido.", nil},
		{"es", "Hola Quiero devolver esto", nil},
		{"es", "Gracias, Espero noticias", nil},
		{"fr", "Bonjour, J'ai reçu le mauvais article.", nil},
		{"fr", "Merci, C'est parfait.", nil},
		{"fr", "Merci !\nJ'attends votre réponse", nil},
		{"fr", "Salut C'est encore moi", nil},
		{"de", "Hallo, Ja das passt.", nil},
		{"de", "Danke, Genau so.", nil},
		{"nl", "Hoi, Ja dat klopt", nil},
		{"nl", "Bedankt, Prima", nil},
		{"en", "Name: D.O.B. 12/03/1985", []string{"DATE_OF_BIRTH:12/03/1985"}},
		{"en", "Thanks, D.O.B. is 12/03/1985", []string{"DATE_OF_BIRTH:12/03/1985"}},
		// names at a sentence start stay names
		{"en", "Hi Anna, the parcel came.", []string{"PERSON:Anna"}},
		{"it", "Ciao Giulia, grazie!", []string{"PERSON:Giulia"}},
		{"fr", "Merci, Amélie", []string{"PERSON:Amélie"}},
		{"it", "Buongiorno, sono Gianni D'Angelo.", []string{"PERSON:Gianni D'Angelo"}},
		{"en", "Thanks, Siobhan O'Sullivan", []string{"PERSON:Siobhan O'Sullivan"}},
		{"fr", "J'ai parlé avec Camille Lefèvre hier.", []string{"PERSON:Camille Lefèvre"}},
		{"es", "Sí, soy Marta Gil.", []string{"PERSON:Marta Gil"}},
	})
}

func TestHeaderDisplayNamesAreNoNames(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "---------- Forwarded message ---------\nFrom: Returns <returns@shop.example>\nSubject: your return", []string{"EMAIL:returns@shop.example"}},
		{"de", "Von: Retouren <retouren@shop.example>\nBetreff: Ihre Rücksendung", []string{"EMAIL:retouren@shop.example"}},
		{"fr", "De : Retours <retours@boutique.example>\nObjet : votre retour", []string{"EMAIL:retours@boutique.example"}},
		{"es", "De: Devoluciones <devoluciones@tienda.example>\nAsunto: su devolución", []string{"EMAIL:devoluciones@tienda.example"}},
		{"it", "Da: Resi <resi@negozio.example>\nOggetto: il tuo reso", []string{"EMAIL:resi@negozio.example"}},
		{"nl", "Van: Retouren <retouren@winkel.example>\nOnderwerp: je retour", []string{"EMAIL:retouren@winkel.example"}},
		{"en", "From: Contact Form <noreply@shop.example>\nSubject: new message", []string{"EMAIL:noreply@shop.example"}},
		// a person's display name stays a name
		{"en", "From: Sarah Collins <sarah.c@mail.example>", []string{"PERSON:Sarah Collins", "EMAIL:sarah.c@mail.example"}},
		{"de", "Von: Jürgen Weber <jw@mail.example>", []string{"PERSON:Jürgen Weber", "EMAIL:jw@mail.example"}},
	})
}

func TestOrderNumbersAreNoPhones(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Ma commande 0612345678 n'est pas arrivée.", nil},
		{"fr", "Référence de commande : 0145678912", nil},
		{"es", "El pedido 612345678 sigue en tránsito.", nil},
		{"es", "Nº de pedido: 912345678", nil},
		{"it", "L'ordine 3471234567 non è arrivato.", nil},
		{"it", "Numero ordine 0612345678, grazie.", nil},
		{"en", "Article no. 020 7946 0018 is out of stock.", nil},
		{"de", "Artikelnummer 030 1234 5678 ist ausverkauft.", nil},
		{"en", "Receipt no. 0161-4960000 from the store.", nil},
		{"nl", "Bonnummer 020-5550123 van de kassa.", nil},
		{"en", "[2026-11-03 14:22:05] 0612345678 ERROR timeout", nil},
		{"de", "Kundennummer KD-0301234567-X", nil},
		{"fr", "J'ai passé la commande hier, le numéro c'est 0612345678, toujours rien", nil},
		{"es", "Hice un pedido con el número 612345678 la semana pasada", nil},
		{"it", "ho fatto un ordine, numero 0612345678, ancora niente", nil},
		{"fr", "0612345678 c'est le numéro de ma commande", nil},
		{"es", "612345678 es mi número de pedido", nil},
		{"it", "3471234567 è il numero d'ordine", nil},
		{"de", "Art.-Nr. 030 1234 5678", nil},
		{"fr", "Mes commandes : 0612345678 et 0612345679", nil},
		{"fr", "Bonjour, j'ai 2 commandes en cours : 0145678912, 0612345678.", nil},
		{"es", "Tengo dos pedidos: 612345678 y 612345679", nil},
		{"it", "I miei ordini sono 3471234567 e 3471234568", nil},
		{"en", "Item 020 7946 0018 (blue, size M) is missing", nil},
		{"de", "Die Artikel-Nr. lautet 0301 2345 678", nil},
		{"de", "Beleg-Nr. 030-1234567", nil},
		{"nl", "Bestellingen 0612345678 en 0612345679 zijn zoek", nil},
		{"de", "Kunden-Ref: 2026-0301234567", nil},
		{"en", "ticket 2026-0612345678 is open", nil},
		{"fr", "Auftrags-ID 0612345678", nil},
		// real phones stay phones
		{"de", "Tel. 030 1234567", []string{"PHONE:030 1234567"}},
		{"de", "Handy: 0171-1234567", []string{"PHONE:0171-1234567"}},
		{"it", "cellulare 333/7654321", []string{"PHONE:333/7654321"}},
		{"de", "Ruf mich an: +49-30-1234567", []string{"PHONE:+49-30-1234567"}},
		{"nl", "Mijn bestellingen zijn binnen. Bel me op 06 12345678.", []string{"PHONE:06 12345678"}},
		{"fr", "Pour la commande, mon numéro : 06 12 34 56 78", []string{"PHONE:06 12 34 56 78"}},
		{"fr", "Mon portable : 06 12 34 56 78", []string{"PHONE:06 12 34 56 78"}},
		{"it", "il mio cellulare è 347 123 4567", []string{"PHONE:347 123 4567"}},
	})
}

func TestOwnLandline(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "020 7946 0018 is still my number for the account.", []string{"PHONE:020 7946 0018"}},
		{"de", "030 12345678 ist immer noch meine Nummer für das Konto.", []string{"PHONE:030 12345678"}},
		{"fr", "Le 01 42 68 53 00 est toujours mon numéro pour le compte.", []string{"PHONE:01 42 68 53 00"}},
		{"es", "El 912 345 678 sigue siendo mi número de la cuenta.", []string{"PHONE:912 345 678"}},
		{"it", "Lo 06 4567 8901 è ancora il mio numero per l'account.", []string{"PHONE:06 4567 8901"}},
		{"nl", "020 555 0123 is nog steeds mijn nummer voor het account.", []string{"PHONE:020 555 0123"}},
		{"en", "my number for the account is still 020 7946 0018", []string{"PHONE:020 7946 0018"}},
		{"de", "meine Nummer für das Konto ist weiterhin 030 12345678", []string{"PHONE:030 12345678"}},
		{"fr", "mon numéro pour le compte reste le 01 42 68 53 00", []string{"PHONE:01 42 68 53 00"}},
		{"es", "mi número de la cuenta sigue siendo el 912 345 678", []string{"PHONE:912 345 678"}},
		{"it", "il mio numero per l'account è sempre 06 4567 8901", []string{"PHONE:06 4567 8901"}},
		{"nl", "mijn nummer voor het account is nog steeds 020 555 0123", []string{"PHONE:020 555 0123"}},
		// the account's own number is no phone
		{"fr", "numéro de compte 0145678912", nil},
		{"es", "el número de cuenta es 912345678", nil},
	})
}

func TestBirthDateCorrections(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "The date of birth on my account is wrong, it's 14/03/1986.", []string{"DATE_OF_BIRTH:14/03/1986"}},
		{"en", "My birthday in your system is wrong – it should be 3 May 1979.", []string{"DATE_OF_BIRTH:3 May 1979"}},
		{"de", "Das Geburtsdatum in meinem Konto ist falsch, richtig ist der 14.03.1986.", []string{"DATE_OF_BIRTH:14.03.1986"}},
		{"fr", "La date de naissance sur mon compte est fausse, c'est le 14/03/1986.", []string{"DATE_OF_BIRTH:14/03/1986"}},
		{"es", "La fecha de nacimiento de mi cuenta está mal, es el 14/03/1986.", []string{"DATE_OF_BIRTH:14/03/1986"}},
		{"it", "La data di nascita sul mio account è sbagliata, è il 14/03/1986.", []string{"DATE_OF_BIRTH:14/03/1986"}},
		{"nl", "De geboortedatum in mijn account klopt niet, het is 14-03-1986.", []string{"DATE_OF_BIRTH:14-03-1986"}},
		// other dates in the same dialogue are no birth date
		{"en", "The date of birth is fine, but the order from 12/10/2026 never came.", nil},
	})
}

func TestBirthDateCorrectionsMore(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Your system has my birthday wrong. It should be 02/11/1979, not 11/02/1979.", []string{"DATE_OF_BIRTH:02/11/1979", "DATE_OF_BIRTH:11/02/1979"}},
		{"de", "Mein Geburtsdatum stimmt nicht, es ist der 5. Juni 1971.", []string{"DATE_OF_BIRTH:5. Juni 1971"}},
		{"fr", "Ma date de naissance n'est pas bonne : c'est le 7 juillet 1968.", []string{"DATE_OF_BIRTH:7 juillet 1968"}},
		{"es", "Mi fecha de nacimiento es incorrecta, es el 7 de julio de 1968.", []string{"DATE_OF_BIRTH:7 de julio de 1968"}},
		{"it", "La mia data di nascita è errata: è il 29/02/1992.", []string{"DATE_OF_BIRTH:29/02/1992"}},
		{"nl", "Mijn geboortedatum is fout, het moet 04-05-1990 zijn.", []string{"DATE_OF_BIRTH:04-05-1990"}},
		// a wrong delivery date after a birthday is no birth date
		{"en", "It was a birthday gift and the delivery date was wrong, it came on 12/10/2026.", nil},
		{"de", "Das Geschenk war zum Geburtstag, das Lieferdatum ist falsch: 12.10.2026.", nil},
	})
}

func TestNamesFromCasualContext(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "hi it's tomasz again, any news?", []string{"PERSON:tomasz"}},
		{"de", "hier ist moni nochmal wegen der retoure", []string{"PERSON:moni"}},
		{"it", "sono gigi di nuovo per il reso", []string{"PERSON:gigi"}},
		{"nl", "het is annelies weer, over de retour", []string{"PERSON:annelies"}},
		{"fr", "ici juju encore pour le colis", []string{"PERSON:juju"}},
		{"es", "soy maría otra vez, lo del pedido", []string{"PERSON:maría"}},
		{"en", "please put it in his name, john whitaker", []string{"PERSON:john whitaker"}},
		{"de", "bitte auf seinen namen, peter schmitt", []string{"PERSON:peter schmitt"}},
		{"fr", "mettez-le à son nom, paul girard", []string{"PERSON:paul girard"}},
		{"es", "ponlo a su nombre, javier ortiz", []string{"PERSON:javier ortiz"}},
		{"it", "mettetelo a suo nome, marco ferri", []string{"PERSON:marco ferri"}},
		{"nl", "zet het op zijn naam, bram de vries", []string{"PERSON:bram de vries"}},
		{"en", "Surname\nNowak", []string{"PERSON:Nowak"}},
		{"it", "Nome e cognome: mario rossi", []string{"PERSON:mario rossi"}},
		{"es", "nombre: rosa garcía", []string{"PERSON:rosa garcía"}},
		{"en", "name: will", nil},
		{"de", "Nachname\nHoffmann\nVorname\nAnna Lena", []string{"PERSON:Hoffmann", "PERSON:Anna Lena"}},
		{"nl", "Graag overmaken t.n.v. J. de Boer", []string{"PERSON:J. de Boer"}},
		{"de", "Klingel: Hartmann und Özdemir", []string{"PERSON:Hartmann", "PERSON:Özdemir"}},
		{"en", "ok that works\nmateusz", []string{"PERSON:mateusz"}},
		{"en", "My name is Işıl Yıldırım", []string{"PERSON:Işıl Yıldırım"}},
		{"de", "Ich heiße Barış Aydın", []string{"PERSON:Barış Aydın"}},
		{"de", "Klingelschild: Meier, Yıldız", []string{"PERSON:Meier", "PERSON:Yıldız"}},
		{"nl", "Bel: Jansen & De Vries", []string{"PERSON:Jansen", "PERSON:De Vries"}},
		{"en", "Receipt: received by neighbour Kowalski at no. 12", []string{"PERSON:Kowalski"}},
		{"de", "Laut Beleg hat Nachbar Schulz angenommen", []string{"PERSON:Schulz"}},
		{"fr", "D'après le reçu, c'est la voisine Mme Petit qui l'a", []string{"PERSON:Petit"}},
		{"nl", "Bel: 06 12345678", []string{"PHONE:06 12345678"}},
		// look-alikes
		{"de", "Der Nachbar Paketshop hat zu", nil},
		{"en", "received by neighbour at no. 12", nil},
		{"en", "it's broken again, same as last week", nil},
		{"fr", "c'est cassé encore une fois", nil},
		{"nl", "het is kapot weer, net als vorige week", nil},
		{"en", "it's late again", nil},
		{"en", "put it in my name please", nil},
		{"de", "Nachname\nbitte ausfüllen", nil},
		{"en", "Name\n\nThe form has no name field", nil},
		{"de", "Klingel: Hartmann und Team", []string{"PERSON:Hartmann"}},
		{"en", "ok that works\nthanks", nil},
		{"en", "the parcel is in my name, not his name, yes", nil},
		{"de", "Lieferung nach Karl-Marx-Stadt", nil},
		{"en", "I live in Port Elizabeth and it never came", nil},
		{"en", "Shipping to Fort William, Scotland", nil},
		{"en", "Is delivery possible to Alice Springs?", nil},
		{"es", "Envío a Villa Carlos Paz", nil},
		{"it", "Spedite a Porto Cesareo, per favore", nil},
		{"en", "Elizabeth from Port Elizabeth ordered it", []string{"PERSON:Elizabeth"}},
		{"en", "Alice says hi", []string{"PERSON:Alice"}},
		{"en", "The Lara Croft figure arrived broken", nil},
		{"en", "Frodo and Sam figures are missing", nil},
		{"de", "Das Elsa Kostüm ist zu klein", nil},
		{"es", "El Mario peluche llegó roto", nil},
		{"en", "Sam ordered two figures", []string{"PERSON:Sam"}},
	})
}

func TestLowerCaseAndBusinessParkAddresses(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "send it to 14 baker st, london nw1 6xe please", []string{"ADDRESS:14 baker st, london nw1 6xe"}},
		{"en", "my address is 22 high street, manchester m1 1ad", []string{"ADDRESS:22 high street, manchester m1 1ad"}},
		{"de", "lieferadresse: hauptstr. 5, 10115 berlin", []string{"ADDRESS:hauptstr. 5, 10115 berlin"}},
		{"nl", "adres: dorpsstr. 3, 3511 ab utrecht", []string{"ADDRESS:dorpsstr. 3, 3511 ab utrecht"}},
		{"fr", "livrez au 12 rue de la paix, 75002 paris", []string{"ADDRESS:12 rue de la paix, 75002 paris"}},
		{"fr", "adresse : 3 av. jean jaurès 69007 lyon", []string{"ADDRESS:3 av. jean jaurès 69007 lyon"}},
		{"it", "indirizzo: v.le monza 44, 20127 milano", []string{"ADDRESS:v.le monza 44, 20127 milano"}},
		{"es", "mi dirección es c/ alcalá 120, 28009 madrid", []string{"ADDRESS:c/ alcalá 120, 28009 madrid"}},
		{"en", "Unit 4, Riverside Business Park\n12 Station Road\nLeeds LS1 4AB", []string{"ADDRESS:Unit 4, Riverside Business Park\n12 Station Road\nLeeds LS1 4AB"}},
		{"de", "Gewerbepark Nord, Halle 3\nIndustriestraße 7\n76131 Karlsruhe", []string{"ADDRESS:Gewerbepark Nord, Halle 3\nIndustriestraße 7\n76131 Karlsruhe"}},
		{"it", "Zona Industriale, Capannone 3\nVia dell'Industria 15\n35129 Padova", []string{"ADDRESS:Zona Industriale, Capannone 3\nVia dell'Industria 15\n35129 Padova"}},
		{"nl", "Bedrijvenpark Noord, Unit 5\nIndustrieweg 10\n3044 AS Rotterdam", []string{"ADDRESS:Bedrijvenpark Noord, Unit 5\nIndustrieweg 10\n3044 AS Rotterdam"}},
		{"nl", "Lever aan Groenplaats 3 bus 2, 2000 Antwerpen", []string{"ADDRESS:Groenplaats 3 bus 2, 2000 Antwerpen"}},
		{"nl", "Mijn adres is Meir 50, 2000 Antwerpen", []string{"ADDRESS:Meir 50, 2000 Antwerpen"}},
		// look-alikes
		{"fr", "j'ai commandé 2 rue de la paix en poster", nil},
		{"en", "we sell 12 road bikes, the road is closed", nil},
		{"en", "the park opens at 9, see you at the retail park", nil},
		{"en", "size m1 and code 1ad are wrong", nil},
		{"de", "das kostet 5 euro mehr als die hauptstr. version", nil},
		{"es", "Es la talla 42, Calle Mayor no, la otra tienda", nil},
		{"it", "Corso di cucina 12 lezioni", nil},
		{"it", "Corso Vittorio Emanuele 18:30 appuntamento", nil},
		{"es", "Pedí el sofá Plaza 3 plazas color gris", nil},
		{"it", "Dal negozio di Via Manzoni 3 pacchi sono spariti", nil},
		{"it", "In Via Dante 2 ordini diversi", nil},
		{"es", "En la tienda de Calle Mayor 3 pedidos se perdieron", nil},
		{"fr", "Au magasin de Rue Centrale 2 commandes manquent", nil},
		{"it", "Pagato via PayPal 49,90", nil},
		{"it", "Tramite via SMS 3 codici", nil},
		{"it", "Corso online 10 moduli", nil},
		{"it", "Abito in Via Roma 12 da tre anni", []string{"ADDRESS:Via Roma 12"}},
		{"it", "Ho comprato il divano Piazza 3 posti", nil},
		{"fr", "Livraison au 12, rue de la Paix, 75002 Paris", []string{"ADDRESS:12, rue de la Paix, 75002 Paris"}},
		{"it", "Punto di ritiro Largo Augusto 3, Milano", []string{"ADDRESS:Largo Augusto 3, Milano"}},
	})
}
