package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names of people come from context and from lexicons:
//
//   - cues: greetings ("Hi Lena"), sign-offs ("Grüße, Birgit"), introductions
//     ("my name is", "hier ist", "soy", "sono"), form lines ("Name:",
//     "Kontoinhaber:", "Titular:"), account holders ("au nom de", "a nombre
//     de", "op naam van", "intestato a"), titles (Mr, Frau, Mme, Sra., dhr.,
//     Sig.ra), doorbells ("Klingel", "sonnez chez", "citofono"), relations
//     ("my neighbour", "mijn moeder,"), and "Bill here again";
//   - a given name from the lexicon, with the surname or capitalised words
//     after it; a name that is also a common word ("Violet", "Roos") only
//     with support: a cue, a surname, or a verb after it at a sentence start.
//
// Brands and characters named after people (the brand lexicon), places,
// street names (the ADDRESS wins the overlap) and stop words are not names.
// Titles and a possessive 's are outside the span; particles, apostrophes
// and hyphens are inside.

type nameCueKind uint8

const (
	ncIntro   nameCueKind = iota + 1 // I'm X, soy X: weak
	ncStrong                         // my name is, form lines, holders, doorbells, relations
	ncGreet                          // Hi X, thanks X
	ncSignoff                        // Regards,\nX
	ncTitle                          // Mr X, Frau X
)

type nameCue struct {
	words []string
	kind  nameCueKind
	colon bool // a ':' must follow (form lines)
	dot   bool // written with a final '.', which must follow ("fam.", "M.")
	// phrase is the cue's words joined by spaces, for the look-ups that
	// single out delivery and naming phrases without allocating.
	phrase string
	// special marks the phrases tryNameCues treats apart (cueNaming,
	// cueCourier, cueRunsOn), found once here rather than per match.
	special uint8
}

const (
	cueNaming uint8 = 1 << iota
	cueCourier
	cueRunsOn
)

var nameCues = buildNameCues()

// casedRelationCues are the relation cues round 15 added (German cases,
// "our" and "your" as possessor, "my mate"): after a colon an unknown word
// is what is bought or meant for the relative, not their name.
var casedRelationCues = set(casedRelationCueList)

// casedRelationCueList is that list, as buildNameCues adds it.
var casedRelationCueList = []string{
	"meinen mann", "meinem mann", "meiner frau", "meinen sohn", "meinem sohn", "meiner tochter", "meinen bruder",
	"meinem bruder", "meiner schwester", "meinen freund", "meinem freund", "meiner freundin", "meinen kollegen",
	"meinem kollegen", "meiner kollegin", "meinen nachbarn", "meinem nachbarn", "meiner nachbarin", "meiner mutter",
	"meinem vater", "unser sohn", "unsere tochter", "unseren sohn", "unserem sohn", "unserer tochter",
	"ihr kollege", "ihre kollegin", "ihren kollegen", "ihrer kollegin", "ihrem kollegen",
	"our son", "our daughter", "our neighbour", "our neighbor", "my mate", "my buddy",
	"notre fils", "notre fille", "notre voisin", "notre voisine", "votre collègue", "ton collègue", "ta collègue",
	"votre conseiller", "votre conseillère", "mon pote",
	"nuestro hijo", "nuestra hija", "nuestro vecino", "nuestra vecina", "tu compañero", "tu compañera",
	"su compañero", "su compañera", "vuestro compañero", "vuestra compañera",
	"nostro figlio", "nostra figlia", "il vostro collega", "la vostra collega", "il tuo collega", "la tua collega",
	"vostro collega", "vostra collega",
	"onze zoon", "onze dochter", "onze buurman", "onze buurvrouw", "uw collega", "je collega", "jullie collega",
}

func buildNameCues() map[string][]nameCue {
	m := map[string][]nameCue{}
	add := func(kind nameCueKind, colon bool, phrases ...string) {
		for _, p := range phrases {
			// Split as the tokeniser does: "z.hd." is z . hd ., "c/o" is c / o.
			ws := strings.FieldsFunc(p, func(r rune) bool { return r == ' ' || r == '.' || r == '/' })
			dot := strings.HasSuffix(p, ".")
			phrase := strings.Join(ws, " ")
			var special uint8
			if namingCues[phrase] {
				special |= cueNaming
			}
			if courierCues[phrase] {
				special |= cueCourier
			}
			if runsOnCues[phrase] {
				special |= cueRunsOn
			}
			m[ws[0]] = append(m[ws[0]], nameCue{words: ws, kind: kind, colon: colon, dot: dot, phrase: phrase, special: special})
		}
	}
	add(ncIntro, false,
		"i'm", "i am", "im", "this is", "it's", "its", "it is", "here is", "het is", "ich bin", "hier ist", "hier spricht", "hier schreibt",
		"je suis", "c'est", "moi c'est", "ici", "soy", "habla", "te escribe", "os escribe", "ik ben", "hier is", "dit is",
		"sono", "qui è", "parla", "io sono", "vi scrive", "ti scrive", "met", "le escribe", "les escribe", "le saluda",
		"le atiende", "te atiende", "le habla", "vous écrit", "ihnen schreibt", "i'm", "i’m", "c’est", "it’s",
		// Chat shorthand: German without "ich" ("bin die jana", "bin kai"),
		// French SMS "c" for "c'est" ("slt c manon").
		"bin", "bin die", "bin der", "c", "c moi",
		// German "hier" + name after a greeting ("Moin, hier Jonte vom Versand").
		"hier",
		// Chat: "ya its me tobias"; an agent introduced by the chat window
		// ("You're chatting with Kasia", "Vous échangez avec Margaux").
		"its me", "it's me", "it’s me", "it is me", "you're chatting with", "you’re chatting with",
		"you are chatting with", "you're speaking with", "you are speaking with", "you're talking to",
		"vous échangez avec", "vous êtes en ligne avec", "vous discutez avec", "tu échanges avec",
		"je spreekt met", "u spreekt met", "je chat met", "u chat met", "sie sprechen mit", "sie chatten mit", "du chattest mit",
		"du sprichst mit", "estás hablando con", "está hablando con", "estás chateando con", "está chateando con",
		"stai parlando con", "sta parlando con", "stai chattando con", "sta chattando con",
	)
	add(ncStrong, false,
		// Relayed to or by a colleague: "se lo indico a Lucía", "come Le
		// ha detto Chiara".
		"se lo indico a", "se lo digo a", "se lo paso a", "se lo comento a", "se lo comunico a", "glielo dico a",
		"glielo passo a", "glielo giro a", "come le ha detto", "come ti ha detto", "come vi ha detto",
		"my name is", "name is", "name's", "the name is", "call me", "mein name ist", "ich heiße", "ich heisse", "je m'appelle",
		"je m’appelle", "mon nom est", "me llamo", "mi nombre es", "mijn naam is", "ik heet", "mi chiamo", "il mio nome è",
		// Round 14: the copula left out ("My name Ana Ruiz", "mio nome Li Wei").
		"my name", "mein name", "mon nom", "mi nombre", "mijn naam", "mio nome",
		// Round 14: someone named by a preposition and "name" ("un ragazzo di
		// nome Amadou", "un chico de nombre Iker").
		"di nome", "de nombre", "du nom de", "by the name of", "met de naam", "mit dem namen", "mit namen",
		"addressed to", "adressé à", "adressée à", "adressiert an", "dirigido a", "dirigida a", "indirizzato a",
		"indirizzata a", "geadresseerd aan",
		"in the name of", "under the name", "au nom de", "a nombre de", "a nom de", "op naam van", "op naam staat van", "op de naam van",
		"intestato a", "intestata a", "a nome di", "lautend auf", "auf den namen", "auf den namen von", "auf namen von",
		"nom de jeune fille", "maiden name", "geborene", "namens",
		// Someone's name given in the third person.
		"is called", "was called", "named", "heißt", "heisst", "s'appelle", "s’appelle", "se llama", "heet",
		"si chiama", "hieß", "s'appelait", "se llamaba", "si chiamava", "heette", "on behalf of", "im auftrag von", "de la part de",
		"de parte de", "da parte di", "per conto di", "sonnez chez", "sonner chez", "sonnez à", "citofono", "campanello",
		"timbre", "aanbellen bij", "bellen bij", "aanbellen", "klingel", "klingelschild", "buzzer", "doorbell", "fam.", "familie",
		"klingeln bei", "bitte klingeln bei", "läuten bei",
		"famille", "familia", "famiglia", "c/o", "z.hd.", "z. hd.", "zu händen", "à l'attention de", "a la atención de",
		"t.a.v.", "alla cortese attenzione di", "all'attenzione di", "spoke to", "spoke with", "talked to", "speak to",
		"sprach mit", "gesprochen mit", "parlé avec", "parlé à", "hablé con", "gesproken met", "ho parlato con", "parlato con",
		"ask for", "fragen sie nach", "demandez", "pregunta por", "vraag naar", "chiedete di",
		"preguntando por", "preguntó por", "preguntaron por", "preguntaba por", "fragte nach", "fragten nach",
		"vroeg naar", "vroegen naar", "ha chiesto di", "hanno chiesto di", "chiedeva di", "chiedendo di",
		"a demandé", "ont demandé", "demandait",
		// Someone named by their role at work, in lower-case chat too
		// ("al jefe teodoro", "mi jefa amparo").
		"al jefe", "el jefe", "la jefa", "mi jefe", "mi jefa", "a la jefa", "mein chef", "meine chefin", "mon chef",
		"ma cheffe", "mijn baas", "il mio capo", "la mia capa", "al capo",
		"bel aan bij", "belt u aan bij", "aanbellen bij",
		// Someone known only by name ("un tal Jhon", "a certain Mr Obi").
		"a certain", "un tal", "una tal", "ein gewisser", "eine gewisse", "einem gewissen", "einer gewissen",
		"un certain", "une certaine", "een zekere", "un certo", "una certa", "un tale",
		// A contact person named by role, without a colon; a known name only.
		"referente", "referent", "referentin", "contactpersoon", "ansprechpartnerin", "interlocuteur",
		"interlocutrice", "contact person", "persona de contacto", "persona di riferimento", "personne à contacter",
		"personne de contact", "persoon om te contacteren", "contactpersona",
		// The name on a doorbell, said without a colon.
		"ring the bell for", "ring the bell at", "buzz", "buzzer", "the name on the door is", "name on the door is",
		"name on the bell is", "interphone", "sonnette", "bel bij", "suonare", "suonate", "suonare a", "suonate a",
		"llamar a", "llamad a", "tocar el timbre de", "aanbellen bij familie",
		// Whose name an order or account is put in.
		"in his name", "in her name", "in my name", "under his name", "under her name", "under my name",
		"auf seinen namen", "auf ihren namen", "auf meinen namen", "à son nom", "à mon nom", "a su nombre",
		"a mi nombre", "a suo nome", "a mio nome", "a nome suo", "op zijn naam", "op haar naam", "op mijn naam",
		"t.n.v.", "ten name van", "ten namen van",
		// An order or account put in someone's name ("läuft auf Nguyen Thi
		// Lan", "on the name of ...").
		"läuft auf", "laufen auf", "lief auf", "on the name of",
		// A nickname: "le dicen Chencho", "todos le llaman Pichi", "(goes by
		// Barty)", "known as", "nennen ihn", "on l'appelle".
		"le dicen", "le llaman", "la llaman", "goes by", "went by", "known as",
		"nennen ihn", "nennen sie", "lo chiamano", "la chiamano", "noemen hem", "noemen haar",
		"address it to", "address them to", "adresseer het aan", "adressez-le à", "adresarlo a", "indirizzarlo a",
		"address the invoice to", "address the parcel to", "address the package to", "adressez la facture à",
		// Confirming who one is: "c'est bien moi, Honorine Lacaze", "ja, ich bin's, ...".
		"c'est bien moi", "c’est bien moi", "c'est moi", "c’est moi", "ich bin's", "ich bin’s", "ich bin es", "ik ben het",
		"soy yo", "sono io",
		// An account's holder named in a sentence ("The account holder is Ottoline Fairweather").
		"account holder is", "cardholder is", "card holder is", "kontoinhaber ist", "inhaber ist", "titulaire est",
		"titular es", "rekeninghouder is", "intestatario è",
		"my husband", "my wife", "my son", "my daughter", "my mum", "my mom", "my mother", "my dad", "my father", "my brother",
		"my sister", "my neighbour", "my neighbor", "my colleague", "my friend", "my partner", "my boyfriend", "my girlfriend",
		"my grandma", "my grandmother", "my grandad", "my grandfather", "my grandson", "my granddaughter", "my boss",
		"my flatmate", "my roommate", "my aunt", "my uncle", "my cousin", "my niece", "my nephew",
		"mein mann", "meine frau", "mein sohn", "meine tochter", "meine mutter", "mein vater", "mein bruder", "meine schwester",
		"mein nachbar", "meine nachbarin", "mein kollege", "meine kollegin", "mein freund", "meine freundin", "mein partner",
		"meine partnerin", "meine oma", "mein opa", "mein enkel", "meine enkelin", "mein mitbewohner", "meine mitbewohnerin",
		"mon mari", "ma femme", "mon fils", "ma fille", "ma mère", "mon père", "mon frère", "ma sœur", "ma soeur", "mon voisin",
		"ma voisine", "mon collègue", "ma collègue", "mon ami", "mon amie", "mon copain", "ma copine", "mon compagnon",
		"ma compagne", "ma grand-mère", "mon grand-père", "mi marido", "mi esposo", "mi esposa", "mi mujer", "mi hijo",
		"mi hija", "mi madre", "mi padre", "mi hermano", "mi hermana", "mi vecino", "mi vecina", "mi compañero",
		"mi compañera", "mi amigo", "mi amiga", "mi novio", "mi novia", "mi abuela", "mi abuelo", "mijn man", "mijn vrouw",
		"mijn zoon", "mijn dochter", "mijn moeder", "mijn vader", "mijn broer", "mijn zus", "mijn buurman", "mijn buurvrouw",
		"mijn collega", "mijn vriend", "mijn vriendin", "mijn partner", "mijn oma", "mijn opa", "mio marito", "mia moglie",
		"mio figlio", "mia figlia", "mia madre", "mio padre", "mio fratello", "mia sorella", "il mio vicino", "la mia vicina",
		"la vicina", "il vicino", "mio collega", "il mio collega", "la mia collega", "il mio amico", "la mia amica",
		// Wider family, in the six languages.
		"ma cousine", "mon cousin", "ma tante", "mon oncle", "ma nièce", "mon neveu", "ma belle-mère", "mon beau-père",
		"ma belle-sœur", "mon beau-frère", "ma petite-fille", "mon petit-fils", "mi prima", "mi primo", "mi tía", "mi tío",
		"mi sobrina", "mi sobrino", "mi suegra", "mi suegro", "mi cuñada", "mi cuñado", "mi nieta", "mi nieto",
		"mia cugina", "mio cugino", "mia zia", "mio zio", "mia nipote", "mio nipote", "mia suocera", "mio suocero",
		"mia cognata", "mio cognato", "meine cousine", "mein cousin", "meine tante", "mein onkel", "meine nichte",
		"mein neffe", "meine schwiegermutter", "mein schwiegervater", "meine schwägerin", "mein schwager",
		"mijn nicht", "mijn neef", "mijn tante", "mijn oom", "mijn schoonmoeder", "mijn schoonvader", "mijn schoonzus",
		"mijn zwager", "mijn kleindochter", "mijn kleinzoon", "my stepdaughter", "my stepson", "my mother-in-law",
		"my father-in-law", "my sister-in-law", "my brother-in-law",
		// Written apart, and Dutch diminutives ("my sister in law Priya",
		// "mijn neefje Daan").
		"my sister in law", "my brother in law", "my mother in law", "my father in law", "my daughter in law",
		"my son in law", "mijn neefje", "mijn nichtje", "mijn zusje", "mijn broertje", "mijn zoontje", "mijn dochtertje",
		"il mio ragazzo", "la mia ragazza", "mia nonna", "mio nonno", "the courier", "the driver", "your driver",
		"your courier", "your colleague", "your agent", "der fahrer", "der bote", "der zusteller", "le livreur", "el repartidor",
		"de bezorger", "il corriere", "my neighbours", "den nachbarn", "bij de buren", "the neighbours",
		// Who signed for, received or collected a parcel.
		"signé", "signée", "signé par", "firmado", "firmato", "getekend",
		"signed by", "signed for by", "received by", "collected by", "picked up by", "accepted by", "handed to",
		// Who served the writer ("I was helped by …", "servi par …").
		"helped by", "served by", "assisted by", "geholpen door", "bedient door", "geholfen von", "bedient von",
		"beraten von", "servi par", "servie par", "aidé par", "aidée par", "conseillé par", "conseillée par",
		"atendido por", "atendida por", "ayudado por", "ayudada por", "servito da", "servita da", "aiutato da",
		"aiutata da", "assistito da", "assistita da",
		"left with", "given to", "unterschrieben von", "unterschrieben hat", "angenommen von", "angenommen hat",
		"abgeholt von", "abgeholt hat", "übergeben an", "abgegeben bei", "firmado por", "lo firmó", "la firmó",
		"recogido por", "recogida por", "lo recogió", "la recogió", "recibido por", "recibida por", "lo recibió",
		"la recibió", "entregado a", "entregada a", "signé par", "reçu par", "récupéré par", "remis à", "livré à",
		"réceptionné par", "getekend door", "ontvangen door", "aangenomen door", "opgehaald door", "afgegeven aan",
		"afgeleverd bij", "firmato da", "ritirato da", "ritirata da", "ricevuto da", "ricevuta da", "consegnato a",
		"consegnata a", "lasciato a", "ha firmato", "ha ritirato",
		// Who takes a parcel in or is asked for at the door ("leave it
		// with Marguerite", "Lo recoge Amparo", "chieda di Ermanno").
		"leave it with", "leave them with", "leave with", "laissez-le à", "laissez-la à", "laissez-les à", "déposez-le chez",
		"lo recoge", "la recoge", "los recoge", "lo recogerá", "ritira", "ritirerà", "chieda di", "chiedere di", "chiedi di",
		"klingel bei", "klingel einfach bei", "einfach klingeln bei", "abgeben bei", "afgeven bij", "afgeven aan",
		"buzzer says", "the buzzer says", "the bell says", "bell says", "the doorbell says",
		// Round 15: who served the writer, said in the active voice ("me
		// atendió Nando", "mi ha servito Gianni"), and asking for someone in
		// the first person or the infinitive ("Demander Odile à l'accueil",
		// "chiedo di Ermanno").
		"me atendió", "me atendio", "me atendió una tal", "nos atendió", "me ha atendido", "me atendía",
		"mi ha servito", "mi ha seguito", "mi ha assistito", "m'a servi", "m'a servie", "m'a conseillé", "m'a conseillée",
		"demander", "je demande", "demandez à voir", "chiedo di", "chiederò di", "chiederei di", "pregunto por",
		"preguntar por", "preguntad por", "ask for", "i'll ask for",
		// Round 15: one part of a name given by its field in a sentence
		// ("her surname is …", "sein Nachname ist …", "il cognome è …").
		"surname is", "last name is", "first name is", "family name is", "nachname ist", "vorname ist",
		"familienname ist", "nom de famille est", "nom de famille c'est", "prénom est", "prénom c'est", "apellido es",
		"primer apellido es", "achternaam is", "voornaam is", "cognome è", "il cognome è", "nome di battesimo è",
		// Round 15: what a doorbell says ("Klingel steht noch X drauf", "on
		// the bell it says X", "op de bel staat X").
		"klingel steht", "klingel steht noch", "an der klingel steht", "auf der klingel steht", "auf dem klingelschild steht",
		"on the bell it says", "the bell still says", "bell still says", "sur la sonnette il y a", "sur la sonnette c'est",
		"en el timbre pone", "en el portero pone", "op de bel staat", "op de deurbel staat", "sul citofono c'è",
		"sul campanello c'è",
		// Round 15: delivered to someone's door ("bezorgen bij X").
		"bezorgen bij", "afleveren bij", "leveren bij", "bezorgd bij", "geleverd bij",
		"zustellen bei", "zugestellt bei",
		// Round 15: a name quoted or given after "the name" ("the driver
		// noted the name \"Quennell\"", "unter dem Namen Okafor"). Not a bare
		// "le nom de", "de naam", "il nome di": "the name of" names things
		// ("le nom de domaine", "de naam Nike Air op de doos"; security review).
		"noted the name", "wrote the name", "gave the name", "left the name", "under the name of", "dem namen",
		"den namen", "sous le nom", "noté le nom", "el nombre de", "con el nombre", "apuntó el nombre",
		"onder de naam", "col nome", "con il nome",
	)
	// Round 15: the relation cues in the forms the lists lacked: German
	// cases ("für meinen Mann …", "mit meiner Schwester …"), "our" and
	// "your" as the possessor ("onze zoon …", "votre collègue …"), and a
	// friend in chat ("my mate …").
	add(ncStrong, false, casedRelationCueList...)
	add(ncStrong, true,
		"name", "full name", "account name", "account holder", "holder", "cardholder", "card holder", "name on card", "recipient",
		"contact", "customer name", "ship to", "deliver to", "send to", "attn", "attention", "vorname", "nachname", "empfänger",
		"kontoinhaber", "kontoinhaberin", "inhaber", "inhaberin", "ansprechpartner", "karteninhaber", "nom", "prénom", "titulaire",
		"destinataire", "nom complet", "nombre", "apellido", "apellidos", "titular", "destinatario", "naam", "voornaam",
		"achternaam", "rekeninghouder", "ontvanger", "nome", "cognome", "intestatario", "titolare", "beneficiary",
		"begünstigter", "bénéficiaire", "beneficiario", "begunstigde", "from", "von", "de", "van", "da", "to", "an", "à", "a", "aan",
		"enviar a", "spedire a", "envoyer à", "verzenden naar", "senden an", "liefern an", "lieferung an", "livrer à",
		"please ship to", "ship it to", "send it to", "le colis à", "naar", "for", "für", "pour", "para", "per", "voor",
		"bel", "deurbel", "sonnette", "interphone", "citofono", "campanello", "portero", "timbre", "türschild", "briefkasten",
		"klingeln",
		// Form lines naming a person by role ("Child: ...", "Parent: ...").
		"child", "parent", "guardian", "kind", "elternteil", "erziehungsberechtigter", "erziehungsberechtigte", "enfant",
		"parent", "tuteur", "tutrice", "niño", "niña", "menor", "padre/madre", "tutor", "ouder", "voogd", "bambino", "bambina",
		"genitore", "tutore", "minore",
	)
	add(ncGreet, false,
		"hi", "hello", "hey", "dear", "hallo", "hej", "liebe", "lieber", "moin", "servus", "bonjour", "bonsoir", "salut",
		"coucou", "cher", "chère", "hola", "buenas", "buenos días", "buenas tardes", "estimado", "estimada", "querido",
		"querida", "hoi", "beste", "dag", "goedemorgen", "goedemiddag", "goedenavond", "goedendag", "goeiedag", "goeiemorgen", "goeiemiddag", "goeienavond", "ciao", "buongiorno", "buonasera",
		"salve", "gentile", "caro", "cara", "good morning", "good afternoon", "good evening", "morning", "guten tag",
		"guten morgen", "guten abend", "grüß gott", "grüezi", "thanks", "thank you", "thx", "ty", "cheers", "danke",
		"dankeschön", "danke schön", "vielen dank", "merci", "merci beaucoup", "gracias", "muchas gracias", "bedankt", "dankjewel",
		"dankuwel", "dank je", "dank je wel", "dank u", "grazie", "grazie mille",
		// French chat shorthand: "bjr Corentin", "ok merci bcp gaspard".
		"bjr", "bsr", "slt", "merci bcp", "mrc", "mci", "thank u", "thank u so much",
		"thanks a lot", "thanks so much", "thank you so much", "thank you very much", "thanks again", "thank you again",
		"many thanks", "danke dir", "danke ihnen", "vielen lieben dank", "merci bien", "merci encore", "mil gracias",
		"gracias de nuevo", "heel erg bedankt", "hartelijk dank", "dank je wel", "grazie ancora", "grazie tante", "bonne journée", "bonne soirée", "bonne fin de journée",
		"buen día", "que tengas buen día", "que tengas un buen día", "fijne dag", "prettige dag", "buona giornata",
		"buona serata", "have a nice day", "have a good day", "schönen tag", "einen schönen tag",
		// Birthday wishes on a gift's card ("Buon compleanno Rosa!").
		"happy birthday", "joyeux anniversaire", "feliz cumpleaños", "feliz cumple", "gefeliciteerd", "fijne verjaardag",
		"buon compleanno", "tanti auguri",
	)
	add(ncSignoff, false,
		"regards", "kind regards", "best regards", "warm regards", "warmest regards", "best wishes", "best", "all the best",
		"many thanks", "sincerely", "yours sincerely", "yours faithfully", "yours", "love", "xoxo", "cheers", "thanks",
		"grüße", "grüsse", "gruß", "gruss", "gruesse", "gruess", "viele grüße", "liebe grüße", "beste grüße", "herzliche grüße", "schöne grüße",
		"freundliche grüße", "mit freundlichen grüßen", "mit freundlichen grüssen", "mfg", "lg", "vg", "cordialement",
		"bien cordialement", "bien à vous", "amicalement", "bisous", "salutations", "sincères salutations", "saludos",
		"un saludo", "atentamente", "un abrazo", "besos", "saludos cordiales", "groeten", "groetjes", "groet",
		"met vriendelijke groet", "vriendelijke groet", "hartelijke groet", "mvg", "saluti", "cordiali saluti",
		"distinti saluti", "un saluto", "a presto", "ciao", "merci", "danke", "gracias", "grazie", "bedankt",
		// Cards and chats close with love in every language ("love from
		// Jory", "liefs Teunis", "alles Liebe, Hauke", "un bacio, Ottavia").
		"love from", "lots of love", "much love", "all my love", "liefs", "veel liefs", "alles liebe", "un bacio",
		"baci", "besitos", "abrazos", "knuffels", "gros bisous", "grosses bises",
	)
	add(ncTitle, false,
		"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx", "dr", "dr.", "prof", "prof.", "herr", "herrn", "frau", "fr.",
		"hr.", "m.", "mme", "mme.", "mlle", "monsieur", "madame", "mademoiselle", "sr", "sr.", "sra", "sra.", "srta",
		"srta.", "señor", "señora", "señorita", "don", "doña", "d.", "dña", "dña.", "dhr", "dhr.", "mevr", "mevr.", "mevrouw",
		"meneer", "de heer", "sig", "sig.", "sig.ra", "sig.na", "signor", "signore", "signora", "signorina", "dott", "dott.",
		"dott.ssa", "ing.", "avv.", "sir", "lady", "mrs.", "madam",
		// Neighbours named by their role ("neighbour Kowalski", "Nachbar
		// Schulz", "la voisine Petit"): readName wants a known name after them.
		"neighbour", "neighbor", "nachbar", "nachbarin", "voisin", "voisine", "vecino", "vecina", "vicino", "vicina",
		"buurman", "buurvrouw",
		// Support agents named by their role ("Agent Rosalind here").
		"agent", "agente", "conseiller", "conseillère", "operatore", "operatrice",
		// Kinship words used as titles ("Tante Erika", "Mamie Jeannette").
		"aunt", "auntie", "uncle", "grandma", "granny", "nan", "nana", "grandpa", "oma", "opa", "tante", "onkel",
		"mamie", "papi", "papy", "tatie", "tonton", "tía", "tío", "abuela", "abuelo", "oom", "zia", "zio", "nonna", "nonno",
	)
	return m
}

// chatSignoffs are the sign-offs of chat shorthand, written without a
// full stop before them.
var chatSignoffs = set(strings.Fields(`lg vg glg mfg mvg bisous bises besos groetjes xx xoxo`))

// chatSignoff reports a shorthand sign-off at k that follows the last word
// of an unpunctuated sentence, not an article or preposition ("von lg
// oled" is a brand).
func (d *doc) chatSignoff(k int, phrase string) bool {
	return chatSignoffs[phrase] && k > 0 && d.isWord(k-1) && !d.toks[k-1].upper &&
		!goodsDeterminers[d.lw(k-1)] && !codePreps[d.lw(k-1)] && !locativePreps[d.lw(k-1)]
}

// roleTitles name a support role; before a colon they label a speaker.
var roleTitles = set(strings.Fields(`agent agente conseiller conseillère operatore operatrice`))

// titleWords are the titles of nameCues, for a title met where a name
// was expected.
var titleWords = func() map[string]bool {
	m := map[string]bool{}
	for _, cs := range nameCues {
		for _, c := range cs {
			if c.kind == ncTitle && len(c.words) == 1 {
				m[strings.TrimSuffix(c.words[0], ".")] = true
			}
		}
	}
	return m
}()

// saintWords make the next name a place ("Santa Margherita Ligure", "San Diego", "Saint-Malo").
var saintWords = set(strings.Fields(`san santa santo sant saint sainte st st. sankt são são
	port fort mount mont puerto porto villa ciudad cape cabo lake`))

// characterGoods right after a name make it a fictional character's
// merchandise.
var characterGoods = set(strings.Fields(`figure figures figurine figurines plush plushie toy toys costume costumes doll dolls
	amiibo minifigure minifig action kostüm kostüme figur figuren plüschfigur puppe actionfigur déguisement déguisements
	peluche poupée jouet disfraz disfraces figura figuras muñeca juguete pupazzo bambola giocattolo costume knuffel
	poppetje speelgoed verkleedpak verkleedkostuum`))

// goodsNouns are products people buy by their brand; a name between a
// determiner and one of them ("the Stanley cup", "my Kelly bag") or right
// after one ("la taza Stanley", "une montre Daniel") is the brand's or the
// model's, since a person is not put in a noun phrase that way.
var goodsNouns = set(strings.Fields(`cup cups mug mugs tumbler tumblers bottle bottles flask thermos bag bags handbag tote
	backpack wallet purse watch watches jacket coat shirt hoodie jumper sweater dress shoes trainers sneakers boots
	jeans trousers skirt leggings socks mattress pillow duvet table cabinet cap hat
	matras kussen dekbed tafel kast mok pop pet muts hoed
	matratze kissen decke tisch schrank mütze hut
	matelas oreiller couette table armoire casquette chapeau
	colchón almohada mesa armario gorra sombrero
	materasso cuscino piumone tavolo armadio cappello
	sandals sunglasses glasses perfume fragrance cologne lipstick palette kettle blender toaster pan pans knife knives
	vacuum mixer lamp chair sofa bike stroller pram pushchair
	becher tasse tassen flasche thermoskanne tasche handtasche rucksack geldbörse uhr jacke mantel hemd kleid schuhe
	stiefel sonnenbrille brille parfüm parfum wasserkocher mixer pfanne messer staubsauger lampe stuhl fahrrad kinderwagen
	tasse gourde bouteille thermos sac sacoche montre veste manteau chemise robe chaussures baskets bottes lunettes parfum
	bouilloire mixeur poêle couteau aspirateur lampe chaise vélo poussette
	taza tazas vaso termo botella bolso mochila cartera reloj chaqueta abrigo camisa vestido zapatillas zapatos botas
	gafas perfume hervidor batidora sartén cuchillo aspiradora lámpara silla bici bicicleta carrito
	beker mok mokken fles thermosfles tas handtas rugzak portemonnee horloge jas overhemd jurk schoenen sneakers laarzen
	zonnebril bril parfum waterkoker blender pan mes stofzuiger lamp stoel fiets kinderwagen
	tazza tazze borraccia bottiglia thermos borsa zaino portafoglio orologio giacca cappotto camicia vestito scarpe stivali
	occhiali profumo bollitore frullatore padella coltello aspirapolvere lampada sedia bici passeggino
	guitar strap candle candles vase rug blanket throw cushion curtain curtains bedding towel towels notebook box
	giftset chocolate chocolates tea coffee wine
	parure housse drap draps plaid bougie tapis coussin rideau rideaux serviette carnet cahier coffret théière canapé
	fauteuil thé café chocolat vin
	bettwäsche kerze teppich vorhang handtuch notizbuch sessel gitarre sofa schokolade tee kaffee wein
	juego funda sábanas manta vela jarrón alfombra cojín cortina toalla cuaderno estuche sofá sillón guitarra
	chocolate té vino
	copripiumino lenzuola coperta candela tappeto tenda asciugamano quaderno cofanetto divano poltrona chitarra
	pasta cioccolato caffè
	dekbedovertrek laken kaars vaas vloerkleed gordijn handdoek notitieboek fauteuil gitaar chocolade thee koffie wijn`))

// modelWords name a product's model, line or pattern; a name right next to
// one is the model's ("Modell Hamburg", "the Aria collection").
var modelWords = set(strings.Fields(`model modell modèle modelo modello design collection kollektion colección
	collezione collectie serie série series line linea línea pattern motif motiv dessin dekor décor edition edición
	edizione editie`))

// nounLinks join a goods noun to its complement ("parure de lit").
var nounLinks = set(strings.Fields(`de en di da d'`))

// goodsDeterminers open the noun phrase of a product.
var goodsDeterminers = set(strings.Fields(`the a an my your his her our their this that these those
	der die das den dem ein eine einen einem mein meine meinen dein deine
	le la les un une mon ma mes ton ta votre ce cette
	el los las una mi mis tu su este esta ese esa
	de het een mijn je jouw uw deze die dat
	il lo gli uno mio mia tuo tua suo sua questo questa quel quella`))

// productName reports whether the name k..e stands in a product's noun
// phrase: determiner, name, goods noun ("the Stanley cup"), or in French,
// Spanish and Italian determiner, goods noun, name ("la taza Stanley").
func (d *doc) productName(k, e int) bool {
	if e+1 < len(d.toks) && d.isWord(e+1) && !d.toks[e+1].nl && !d.toks[e+1].upper && goodsNouns[d.lw(e+1)] &&
		k > 0 && d.isWord(k-1) && !d.toks[k].nl && goodsDeterminers[d.lw(k-1)] {
		return true
	}
	if k > 0 && d.isWord(k-1) && !d.toks[k].nl && modelWords[d.lw(k-1)] {
		// "Modell Hamburg", "the Aria collection", "modèle Camille",
		// "collezione Giulia": a model or line named like a person.
		return true
	}
	if e+1 < len(d.toks) && d.isWord(e+1) && !d.toks[e+1].nl && !d.toks[e+1].upper && modelWords[d.lw(e+1)] {
		return true
	}
	// A particle that opens a brand ("la pasta Di Martino"): the noun
	// phrase is read from before it.
	if k > 1 && d.isWord(k-1) && d.toks[k-1].upper && particles[d.lw(k-1)] && !d.toks[k-1].nl {
		k--
	}
	// German and Dutch: determiner, goods noun, name ("die Lampe Frieda",
	// "de lamp Fenna"); a relative clause there needs a comma.
	if (d.lang == "de" || d.lang == "nl") && k > 1 && d.isWord(k-1) && !d.toks[k].nl && goodsNouns[d.lw(k-1)] &&
		d.isWord(k-2) && goodsDeterminers[d.lw(k-2)] {
		return true
	}
	// The brand after the noun is Romance word order; in English, German
	// and Dutch a name there starts a relative clause ("the bag Emma
	// ordered").
	romance := d.lang == "fr" || d.lang == "es" || d.lang == "it"
	if romance && k > 1 && d.isWord(k-1) && !d.toks[k].nl && !d.toks[k-1].upper && goodsNouns[d.lw(k-1)] &&
		d.isWord(k-2) && goodsDeterminers[d.lw(k-2)] {
		return true
	}
	// With the noun's complement between ("la parure de lit Camille", "el
	// juego de cama Lucía", "il set da tavola Giulia").
	if romance && k > 3 && !d.toks[k].nl && d.isWord(k-1) && !d.toks[k-1].upper && d.isWord(k-2) && nounLinks[d.lw(k-2)] &&
		d.isWord(k-3) && goodsNouns[d.lw(k-3)] {
		return true
	}
	// A plural goods noun needs no determiner: "para colchones Emma",
	// "des matelas Emma", "i materassi Giulia".
	return romance && k > 0 && d.isWord(k-1) && !d.toks[k].nl && !d.toks[k-1].upper && pluralGoods(d.lw(k-1))
}

// deliveredIn reports a name right after a locative preposition in a
// sentence about delivering or shipping ("do you deliver in Anna
// Paulowna?", "liefert ihr auch nach Bad Sankt Leonhard?"): a place.
func (d *doc) deliveredIn(k int) bool {
	if k == 0 || !d.isWord(k-1) || !locativePreps[d.lw(k-1)] || d.toks[k].nl {
		return false
	}
	for m := k - 2; m >= 0 && m >= k-8; m-- {
		if !d.isWord(m) {
			if d.isPunct(m, '.') || d.isPunct(m, '?') || d.isPunct(m, '!') || d.toks[m+1].nl {
				return false
			}
			continue
		}
		if deliverVerbs[d.lw(m)] {
			return true
		}
	}
	return false
}

// locativePreps say where, not whom ("in", "nach", "naar", "en").
var locativePreps = set(strings.Fields(`in into nach naar en nel nella`))

// deliverVerbs say something is brought somewhere.
var deliverVerbs = set(strings.Fields(`deliver delivers delivering delivered ship ships shipping shipped send
	liefern liefert lieferung versenden versendet schicken
	livrer livrez livrez-vous livraison livré envoyer expédier expédiez
	entregar entregáis entregan enviar enviáis envían envío
	leveren levert bezorgen bezorgt verzenden versturen sturen
	consegnare consegnate consegnano spedire spedite spediscono`))

// pluralGoods reports a Romance plural of a goods noun ("colchones",
// "materassi", "sacs").
func pluralGoods(lw string) bool {
	if len(lw) < 4 {
		return false
	}
	switch {
	case strings.HasSuffix(lw, "ones") && goodsNouns[lw[:len(lw)-4]+"ón"]:
		return true
	case strings.HasSuffix(lw, "es") && goodsNouns[lw[:len(lw)-2]]:
		return true
	case strings.HasSuffix(lw, "s") && goodsNouns[lw[:len(lw)-1]]:
		return true
	case strings.HasSuffix(lw, "i") && (goodsNouns[lw[:len(lw)-1]+"o"] || goodsNouns[lw[:len(lw)-1]+"e"]):
		return true
	}
	return false
}

// quotedModel reports a name in quotation marks right after a goods noun
// or a brand: a model's name ("la robe Sézane "Gaspard"", "the sofa
// 'Harper'"), not its owner's.
// quotedTitle reports the word at k opening a quoted title of two or
// three capitalised words ('"Viola Notte"', '« Rose Poudrée »').
func (d *doc) quotedTitle(k int) bool {
	if k < 1 || !quoteTok(d.tokText(k-1)) {
		return false
	}
	for m := k + 1; m < len(d.toks) && m <= k+3; m++ {
		if quoteTok(d.tokText(m)) {
			return m > k+1
		}
		if !d.capWord(m) || d.toks[m].nl {
			return false
		}
	}
	return false
}

func (d *doc) quotedModel(k, e int) bool {
	if k < 2 || e+1 >= len(d.toks) || !quoteTok(d.tokText(k-1)) || !quoteTok(d.tokText(e+1)) {
		return false
	}
	p := k - 2
	// An article before the quotes names a model too: 'the "Frieda" in
	// brass', 'die "Luna" in Eiche', 'la "Margot" en noyer'.
	return d.isWord(p) && (goodsNouns[d.lw(p)] || pluralGoods(d.lw(p)) || d.capWord(p) && !d.sentenceStart(p) || goodsDeterminers[d.lw(p)]) ||
		e+2 < len(d.toks) && d.isWord(e+2) && !d.toks[e+2].upper && goodsNouns[d.lw(e+2)]
}

func quoteTok(t string) bool {
	switch t {
	case "\"", "'", "“", "”", "«", "»", "‘", "’", "„":
		return true
	}
	return false
}

// shopPreps put a purchase at a shop: "at", "bij", "bei", "chez", "en"
// (not "from", "van", "da": a private seller is a person).
var shopPreps = set(strings.Fields(`at bij bei chez en`))

// purchaseVerbs say something was bought or ordered somewhere.
var purchaseVerbs = set(strings.Fields(`bought buy ordered order got gekocht gehaald besteld kopen gekauft bestellt gekriegt
	acheté achetée commandé commandée comprado comprada compré pedido pedí comprato comprata ordinato`))

// shopBoughtAt reports a name where something was bought: "bij Dirk
// gekocht", "bought it at Wilko", "bei Otto bestellt", "acheté chez
// Boulanger", "lo compré en Dia" — the place of a purchase is a shop.
func (d *doc) shopBoughtAt(k, e int) bool {
	if k == 0 || !d.isWord(k-1) || !shopPreps[d.lw(k-1)] || strings.HasSuffix(d.lw(e), "'s") || strings.HasSuffix(d.lw(e), "’s") {
		return false
	}
	if d.lw(k-1) == "en" && d.lang == "nl" {
		return false // Dutch "en" is "and"
	}
	for j := e + 1; j < len(d.toks) && j <= e+3 && !d.toks[j].nl; j++ {
		if d.isWord(j) && purchaseVerbs[d.lw(j)] {
			return true
		}
	}
	for j := k - 2; j >= 0 && j >= k-5; j-- {
		if d.isPunct(j, '.') || d.isPunct(j, ',') || d.isPunct(j, '?') || d.isPunct(j, '!') {
			break
		}
		if d.isWord(j) && purchaseVerbs[d.lw(j)] {
			return true
		}
	}
	return false
}

// placeSuffixWords after a name make it a place ("Alice Springs",
// "Carson City", "Niagara Falls").
var placeSuffixWords = set(strings.Fields(`springs city falls beach heights bay harbour harbor hills creek valley junction township`))

// contraction reports an English contraction ("i'm", "we've", "don't"):
// an apostrophe followed by a short lower-case ending.
func contraction(w string) bool {
	i := strings.LastIndexAny(w, "'’")
	if i < 0 {
		return false
	}
	switch w[i+len(string(w[i])):] {
	case "m", "ve", "ll", "re", "d", "t":
		return true
	}
	if w[i] == 0xE2 { // ’ is three bytes
		switch w[i+3:] {
		case "m", "ve", "ll", "re", "d", "t":
			return true
		}
	}
	return false
}

// weakIntro cues are often followed by a noun rather than a name.
var weakIntro = set(strings.Fields(`ich hier this it's its it c'est c’est it’s dit here met het bin c`))

// particleAt returns how many tokens a name particle at token p takes: one
// for a word particle, two for the Dutch "'t" (an apostrophe and "t"),
// zero for none.
func (d *doc) particleAt(p int) int {
	if p >= len(d.toks) {
		return 0
	}
	if d.isWord(p) {
		if particles[d.lw(p)] {
			return 1
		}
		return 0
	}
	if p+1 < len(d.toks) && (d.isPunct(p, '\'') || d.tokText(p) == "’") && d.isWord(p+1) && d.lw(p+1) == "t" && !d.toks[p+1].sp {
		return 2
	}
	return 0
}

// particleCompound reports a word made of a lower-case particle, a hyphen
// or apostrophe and a capitalised name ("al-Farsi", "el-Amin", "d'Amico").
func (d *doc) particleCompound(m int) bool {
	if !d.isWord(m) || d.toks[m].upper || d.toks[m].digit {
		return false
	}
	t := d.tokText(m)
	i := strings.IndexAny(t, "-'’")
	if i <= 0 || i > 3 {
		return false
	}
	rest := t[i+1:]
	if t[i] != '-' && t[i] != '\'' {
		rest = t[i+len("’"):]
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return unicode.IsUpper(r) && (particles[strings.ToLower(t[:i])] || t[:i] == "d")
}

// particles join the parts of a name (van der Meer, De Santis, José
// Antonio de la Fuente, El Amrani).
var particles = set(strings.Fields(`van der den de del della di da von zu le la du des dos das do ter ten bin ibn al el mac mc y e i 't van't dei degli lo li dalla delle abu ben`))

// nameAfter: words after an ambiguous name at a sentence start that make
// it the subject ("Violet wants it", "Roos wil hem").
// objectClitics stand between a subject and its verb in French, Spanish
// and Italian ("la veut", "lo quiere", "la vuole").
var objectClitics = set(strings.Fields(`le la les lui leur lo los las li gli ne me te se`))

var subjectVerbs = set(strings.Fields(`
wants wanted needs needed said says asked asks is was has had will would can could likes loved loves ordered bought thinks
prefers told tells called calls wrote writes
möchte mochte will wollte hat hatte ist war sagt sagte braucht brauchte findet hätte wünscht bestellte
veut voulait a avait est était dit préfère aime voudrait adore trouve
quiere quería tiene tenía es era está estaba dice prefiere necesita busca pidió
wil wilde heeft had is was zegt vindt wil graag vroeg
vuole voleva ha aveva è era dice preferisce cerca chiede
`))

const (
	flagBlocked uint8 = 1 << iota // brand, place or address token
	flagBrand
	flagPlace
	flagNotName   // the message says this word is no person's (person_context.go)
	flagNameStart // a person candidate starts here (person_list.go)
)

func (d *doc) scanPersons() {
	n := len(d.toks)
	if cap(d.flags) < n {
		d.flags = make([]uint8, n)
	}
	d.flags = d.flags[:n]
	clear(d.flags)
	lex := d.e.lex
	// Brand and place phrases; tokens inside addresses and e-mails.
	for k := 0; k < n; k++ {
		if d.toks[k].kind != tWord {
			continue
		}
		if d.toks[k].info&wNotPerson != 0 {
			d.notPerson(k)
		}
		if d.toks[k].info&(wPhrase|wBrandOrPlace) == 0 {
			continue
		}
		if l, kind := d.phraseAt(k); l > 0 {
			f := flagBlocked | flagBrand
			if kind == 'p' {
				f = flagBlocked | flagPlace
			}
			for j := k; j < k+l; j++ {
				d.flags[j] |= f
			}
			k += l - 1
			continue
		}
		lw := d.lw(k)
		if lex.brand1[lw] {
			d.flags[k] |= flagBlocked | flagBrand
		} else if lex.place1[lw] && !lex.given[lw] && !lex.surname[lw] {
			d.flags[k] |= flagBlocked | flagPlace
		}
	}
	d.blockNotNames()
	// A company's legal form (Ltd, GmbH, S.L., B.V., S.r.l., SARL ...)
	// makes the capitalised words before it a company, never a person
	// ("Muebles García S.L.", "Bakker Logistiek B.V.").
	for k := 0; k < n; k++ {
		if e := d.legalSuffix(k); e >= k {
			for j := k - 1; j >= 0 && j >= k-5 && !d.toks[j+1].nl; j-- {
				if !d.capWord(j) && !(d.isWord(j) && (particles[d.lw(j)] || nameJoiners[d.lw(j)])) && !d.isPunct(j, '&') && !d.isPunct(j, '-') {
					break
				}
				d.flags[j] |= flagBlocked | flagBrand
			}
			for j := k; j <= e; j++ {
				d.flags[j] |= flagBlocked | flagBrand
			}
			k = e
		}
	}
	for k := 0; k+1 < n; k++ {
		if d.isWord(k) && d.toks[k].upper && saintWords[d.lw(k)] {
			j := k + 1
			if d.isPunct(j, '.') {
				j++
			}
			if j+2 < n && d.capWord(j) && d.isPunct(j+1, ',') && d.isWord(j+2) && bornWords[d.lw(j+2)] && d.toks[k].nl &&
				(j+3 < n && d.toks[j+3].kind == tNum || j+4 < n && d.toks[j+4].kind == tNum) {
				// "Santa Moreau, née le ...": a form line's given name
				// that is a saint's word too, before a birth.
				continue
			}
			for j < n && d.capWord(j) && j-k < 4 {
				d.flags[j] |= flagBlocked | flagPlace
				j++
			}
		}
	}
	for _, c := range d.cands {
		if c.typ != Address && c.typ != Email && c.typ != IBAN {
			continue
		}
		for j := d.tokenAt(c.s); j < n && d.toks[j].s < c.e; j++ {
			d.flags[j] |= flagBlocked
		}
	}

	for k := 0; k < n; k++ {
		if d.toks[k].kind == tPunct {
			// "(Gaz and another fella)", "(Chema y otro chico)", "(Salvo e
			// un collega)": a name paired with another person.
			if d.isPunct(k, '(') && k+3 < n && d.capWord(k+1) && d.isWord(k+2) && pairJoiners[d.lw(k+2)] && d.isWord(k+3) && companionWords[d.lw(k+3)] {
				if s, e, ok := d.readName(k+1, ncStrong); ok && e == k+1 && (d.anyKnown(s, e) || d.companionPerson(k+3)) {
					d.addName(s, e, 0.75, "person-pair")
					k = e
					continue
				}
			}
			// A transcript's speaker: "Agent (Aoife):", "Medewerker
			// (Sanne):", a chat export's "[14/11/2026, 19:02] Tash:".
			if s, e, ok := d.speakerLabel(k); ok {
				d.addName(s, e, 0.8, "person-speaker")
				k = e
				continue
			}
			// A form line whose label names a person ("Nom sur la boîte aux
			// lettres :", "Naam op de deurbel:", "Name des Empfängers:").
			if d.isPunct(k, ':') && k+1 < n && d.formNameLabel(k) {
				if s, e, ok := d.readName(k+1, ncStrong); ok {
					d.addName(s, e, 0.85, "person-form")
					k = e
					continue
				}
			}
			if tt := d.tokText(k); (tt == "–" || tt == "—" || tt == "|" || tt == "-" && d.toks[k].sp) && k > 0 && !d.toks[k].nl {
				// "Tavita Leota – service client", "| Wiremu Parata | Lens
				// lab": the name opens the message's last line and its
				// team follows the dash or bar.
				if s0 := d.nameBeforeDash(k); s0 >= 0 && (d.lang != "de" || d.toks[s0].info&wGiven != 0) {
					if s, e, ok := d.readName(s0, ncSignoff); ok && e < k {
						d.addName(s, e, 0.7, "person-signature")
						continue
					}
				}
			}
			// A signature after a dash that ends the message or its line:
			// "Thanks! -Anna", "— Tom".
			if tt := d.tokText(k); d.toks[k].kind == tPunct && (tt == "-" || tt == "—" || tt == "–") && d.sentenceStart(k) && k+1 < n {
				// A dash also starts list items ("- Größe M", "- Teller Rund"),
				// so the name must be one the lexicons know.
				if s, e, ok := d.readName(k+1, ncSignoff); ok && (e+1 >= n || d.toks[e+1].nl) && d.toks[k+1].info&(wGiven|wSurname) != 0 && d.toks[k+1].upper {
					d.addName(s, e, 0.75, "person-signature")
					k = e
					continue
				}
				// A long dash is no list bullet: after one, a name-shaped
				// word ending an agent's message signs it, alone or with
				// its team ("— Ciarán @ the workshop", "— Maëlle, service
				// client"). German capitalises nouns, so there it must be known.
				if (tt != "-" || k > 0 && d.toks[k].nl && d.teamAfterName(k)) && k > 0 && (tt == "—" || tt == "-" || !d.toks[k].nl) && d.dashSignature(k) && (d.lang != "de" || d.toks[k+1].info&wGiven != 0) {
					// (A hyphen opening a line is a list bullet, unless a
					// team follows the name: "- Wiremu Parata, Box Office".)
					if s, e, ok := d.readName(k+1, ncSignoff); ok {
						d.addName(s, e, 0.7, "person-signature")
						k = e
						continue
					}
				}
			}
			continue
		}
		// "D.O.B." is a birth cue, not the title "D." and an initial.
		if d.dobAbbrev(k) {
			k += 4
			continue
		}
		// A form label alone on its line, the name on the next: "Surname
		// \n Nowak", "Nachname\nHoffmann".
		if d.toks[k].nl || k == 0 {
			if m, ok := d.labelLine(k); ok {
				if s, e, ok := d.readName(m, ncStrong); ok && (e+1 >= n || d.toks[e+1].nl) {
					d.addName(s, e, 0.8, "person-form")
					k = e
					continue
				}
			}
		}
		// A known given name alone on the message's last line, in any case:
		// a signature ("ok that works\nmateusz").
		if (d.toks[k].nl || k > 0 && (d.isPunct(k-1, '.') || d.isPunct(k-1, '!')) && d.toks[k].sp) && d.lastWord(k) && d.isWord(k) && !d.toks[k].upper && d.toks[k].info&wGiven != 0 &&
			!d.e.lex.ambiguous[d.lw(k)] && !d.e.lex.stop[d.lw(k)] && d.flags[k]&flagBlocked == 0 {
			d.addName(k, k, 0.7, "person-signature")
			continue
		}
		// Cues.
		if d.toks[k].info&wNameCue == 0 {
		} else if cues, ok := nameCues[d.lw(k)]; ok {
			d.work++
			if end := d.tryNameCues(k, cues); end > k {
				k = end
				continue
			}
		}
		// "Bill here again", "Luc ici", "Quique otra vez".
		// The word must look like a name: capitalised or a given name the
		// lexicons know, and not a stop word ("nothing here", "all here").
		if d.toks[k].kind == tWord && d.sentenceStart(k) && k+1 < n && d.hereWord(k+1) &&
			(d.toks[k].upper || d.toks[k].info&wGiven != 0) && !d.e.lex.stop[d.lw(k)] && !jobNouns[d.lw(k)] {
			// ("Driver here —", "Fahrer hier,": a courier's job, not a name.)
			if s, e, ok := d.readName(k, ncGreet); ok && e == k && (d.toks[k].info&(wGiven|wSurname) != 0 || !d.hereGoesOn(k+1)) {
				// An unknown word needs the "here"/"again" phrase to end
				// its clause: "Avete ancora la taglia M?" is a question.
				d.addName(s, e, 0.8, "person-here")
				k = e
				continue
			}
		}
		// "bei Hartmann klingeln", "bij Jansen aanbellen".
		if d.isWord(k) && (d.lw(k) == "bei" || d.lw(k) == "bij") && k+2 < n && doorVerbs[d.lw(k+2)] {
			if s, e, ok := d.readName(k+1, ncStrong); ok && e == k+1 {
				d.addName(s, e, 0.8, "person-doorbell")
				k = e
				continue
			}
		}
		// "bij de Wit", "bij van Dijk", "chez les Dupont": at someone's
		// door, a particle and a surname the lexicon knows (a shop takes
		// an article too, "bij de Hema", so the surname must be known).
		if d.isWord(k) && (d.lw(k) == "bij" || d.lw(k) == "chez") && k+2 < n && d.isWord(k+1) && particles[d.lw(k+1)] && !d.toks[k+1].upper {
			m := k + 1
			for m < n && m-k <= 3 && d.isWord(m) && particles[d.lw(m)] && !d.toks[m].upper {
				m++
			}
			if m < n && d.capWord(m) && d.toks[m].info&wSurname != 0 && d.flags[m]&flagBlocked == 0 && !d.toks[m].nl && !d.e.lex.stop[d.lw(m)] {
				d.addName(k+1, m, 0.7, "person-door")
				k = m
				continue
			}
		}
		// "Ralph (my husband)".
		if d.toks[k].kind == tWord && !d.toks[k].upper && k+2 < n && d.isPunct(k+1, '(') && possessive[d.lw(k+2)] && d.lowerKnownGiven(k) {
			// "for ralph (my dad, not the brand)": in lower case too.
			d.addName(k, k, 0.75, "person-apposition")
			k++
			continue
		}
		// "it's for james, he ordered the blue one", "c'est pour léa, elle
		// ...": a lower-case given name after a preposition that the
		// clause goes on to refer to with a personal pronoun.
		if k > 0 && k+2 < n && d.isWord(k-1) && !d.toks[k].nl && nameGoalPreps[d.lw(k-1)] && d.isPunct(k+1, ',') && d.isWord(k+2) &&
			!d.toks[k+2].nl && personPronouns[d.lw(k+2)] && d.lowerKnownGiven(k) {
			d.addName(k, k, 0.7, "person-pronoun")
			k++
			continue
		}
		if d.toks[k].kind == tWord && d.toks[k].upper && k+2 < n && d.isPunct(k+1, '(') && possessive[d.lw(k+2)] {
			if s, e, ok := d.readName(k, ncGreet); ok && e == k {
				d.addName(s, e, 0.8, "person-apposition")
				k = e
				continue
			}
		}
		// An initial and an unknown surname that a verb follows: "J. Ngata
		// signed for it" (not "U.S. Army", "P. S.").
		if d.isWord(k) && d.toks[k].letters == 1 && d.toks[k].upper && k+3 < n && d.isPunct(k+1, '.') && !d.toks[k+1].sp &&
			!(k > 0 && d.isPunct(k-1, '.') && !d.toks[k].sp) && d.capWord(k+2) && d.toks[k+2].letters >= 3 && !d.toks[k+2].allUp &&
			d.flags[k+2]&flagBlocked == 0 && !d.e.lex.stop[d.lw(k+2)] && d.isWord(k+3) && !d.toks[k+3].nl && (subjectVerbs[d.lw(k+3)] || deedVerbs[d.lw(k+3)]) {
			d.addName(k, k+2, 0.7, "person-initial")
			k += 2
			continue
		}
		// An unknown surname inside a sentence that signs for, collects or
		// accepts a parcel: "the courier said Greaves signed for it",
		// "laut Fahrer hat Obermaier unterschrieben" is left to the cues.
		if d.toks[k].upper && k+2 < n && d.isWord(k+1) && signingVerbs[d.lw(k+1)] && !d.toks[k+1].nl && !d.sentenceStart(k) &&
			d.toks[k].info&(wGiven|wSurname) == 0 && d.isWord(k-1) && !d.toks[k-1].upper && d.vocativeWord(k) {
			d.addName(k, k, 0.65, "person-deed")
			continue
		}
		// An initial and a known surname: "signed for by A. Patel".
		if d.isWord(k) && d.toks[k].letters == 1 && d.toks[k].upper && k+2 < n && d.isPunct(k+1, '.') && !d.toks[k+1].sp &&
			d.toks[k+2].info&wSurname != 0 && d.capWord(k+2) && d.flags[k+2]&flagBlocked == 0 {
			e := d.extendName(k+2, 3)
			d.addName(k, e, 0.7, "person-initial")
			k = e
			continue
		}
		// "Kemi from the store", "Ornella vom Kundenservice", "Lucía de
		// atención al cliente": a name before where its bearer works.
		if d.capWord(k) && k+2 < n && d.toks[k].info&wGiven != 0 && d.fromDept(k+1) {
			if s, e, ok := d.readName(k, ncGreet); ok && e == k && !d.e.lex.stop[d.lw(k)] {
				d.addName(s, e, 0.75, "person-from-team")
				k = e
				continue
			}
		}
		if d.capWord(k) && k+2 < n && d.fromTeam(k+1) {
			// An unknown word needs the team to be a place it works at, with
			// an article or a service word: a bare "de cliente" makes a
			// compound noun ("Alta de cliente", "Service de client").
			known := d.toks[k].info&(wGiven|wSurname) != 0
			if s, e, ok := d.readName(k, ncGreet); ok && e == k && !d.e.lex.stop[d.lw(k)] && (known || d.sentenceStart(k) && nameShaped(d.tokText(k)) && !d.bareTeam(k+1) && !d.headingLine(k) && !notVocative[d.lw(k)]) {
				d.addName(s, e, 0.75, "person-from-team")
				k = e
				continue
			}
		}
		// Surname first, as in Italian forms and East Asian names: "Rossi
		// Mario", "Nowak Anna", "Trần Văn Minh". The second word must be a
		// given name; one that is also a word needs a third name word.
		if d.capWord(k) && d.toks[k].info&(wSurname|wGiven) == wSurname && d.flags[k]&flagBlocked == 0 && !d.e.lex.stop[d.lw(k)] &&
			k+1 < n && d.capWord(k+1) && d.toks[k+1].sp && !d.toks[k+1].nl && d.toks[k+1].info&wGiven != 0 && d.flags[k+1]&flagBlocked == 0 && !d.toks[k].allUp {
			if e := d.extendName(k+1, 3); !d.e.lex.ambiguous[d.lw(k+1)] || e > k+1 {
				d.addName(k, e, 0.7, "person-surname-first")
				k = e
				continue
			}
		}
		// "for Hemi Walker", "with Tui Ngata": after a preposition, an
		// unknown capitalised word and a surname the lexicon knows (and
		// that is no ordinary word) are a full name.
		if d.isWord(k) && forWords[d.lw(k)] && k+2 < n && d.capWord(k+1) && d.capWord(k+2) && !d.toks[k+1].nl && !d.toks[k+2].nl &&
			d.toks[k+1].info&(wGiven|wSurname) == 0 && d.toks[k+2].info&wSurname != 0 && !d.e.lex.ambiguous[d.lw(k+2)] &&
			d.flags[k+1]&flagBlocked == 0 && d.flags[k+2]&flagBlocked == 0 && !d.e.lex.stop[d.lw(k+1)] && !d.toks[k+1].allUp {
			if ok, _ := d.nameWord(k + 1); ok && !(particles[d.lw(k)] && d.capWord(k-1) && d.firmAfterParticle(k+1)) {
				e := d.extendName(k+2, 2)
				d.addName(k+1, e, 0.7, "person-for")
				k = e
				continue
			}
		}
		if d.neighbourName(k) {
			d.addName(k, k, 0.7, "person-neighbour")
			continue
		}
		if d.possessiveKin(k) {
			d.addName(k, k, 0.7, "person-kin")
			continue
		}
		if s, e := d.cardSignature(k); e > k {
			d.addName(s, e, 0.7, "person-signature")
			k = e
			continue
		}
		if a, b := d.insteadOfNames(k); a > 0 {
			d.addName(k, k, 0.7, "person-cue")
			d.addName(a, b, 0.7, "person-cue")
			k = b
			continue
		}
		if d.toks[k].info&wJob != 0 && d.roleName(k) {
			m := k + 1
			if d.isPunct(m, ',') {
				m++
			}
			if s, e, ok := d.readName(m, ncStrong); ok {
				d.addName(s, e, 0.7, "person-role")
				k = e
				continue
			}
		}
		if d.toks[k].upper && d.toks[k].kind == tWord {
			if e := d.bornPair(k); e > k {
				d.addName(k, e, 0.7, "person-born")
				k = e
				continue
			}
		}
		// A name set off by commas as the one spoken to, or signing the
		// message after its last sentence; a known given name goes through
		// the lexicon's checks (a quoted model, a product) first.
		if d.callName(k) {
			if s, e, ok := d.readName(k, ncStrong); ok {
				d.addName(s, e, 0.7, "person-call")
				k = e
				continue
			}
		}
		if d.toks[k].upper && d.toks[k].kind == tWord && k+3 < n && d.flags[k]&flagBlocked == 0 {
			if e := d.kinApposition(k); e >= k {
				if s, e2, ok := d.readName(k, ncStrong); ok && e2 <= e {
					d.addName(s, e, 0.7, "person-kin")
					k = e
					continue
				}
			}
		}
		if e := d.trailingDetailName(k); e >= k {
			// "…, DOB 12/03/1979, Wilhelmina Okafor": a name closing a
			// list of the writer's details.
			d.addName(k, e, 0.7, "person-trailing")
			k = e
			continue
		}
		if d.toks[k].upper && d.toks[k].kind == tWord && (d.vocative(k) || d.lastSignature(k)) {
			if s, e, ok := d.lexiconName(k); ok {
				d.addName(s, e, 0.7, "person-lexicon")
				k = e
				continue
			}
			// A given name that is also a word ("Mees", "Roos") has the
			// support the lexicon wants in the vocative's commas.
			if k+1 < n && d.isWord(k+1) && !d.toks[k+1].nl && agentPreps[d.lw(k+1)] && d.toks[k].info&(wGiven|wSurname) == 0 {
				continue // round 15: "Bestellt von …", "Ordered by …": a participle before its agent
			}
			if d.toks[k].info&wGiven == 0 || d.e.lex.ambiguous[d.lw(k)] && !d.quotedModel(k, k) && !d.productName(k, k) && !d.shopBoughtAt(k, k) {
				d.addName(k, k, 0.65, "person-vocative")
				continue
			}
		}
		if d.apostropheSurname(k) {
			d.addName(k, k, 0.7, "person-surname")
			continue
		}
		// Lexicon.
		if s, e, ok := d.lexiconName(k); ok {
			d.addName(s, e, 0.7, "person-lexicon")
			k = e
			// "Sophie and Idris here": a second name joined to a known one
			// in a "here" introduction.
			if e+3 < n && d.isWord(e+1) && pairJoiners[d.lw(e+1)] && d.capWord(e+2) && !d.toks[e+2].nl && d.hereWord(e+3) &&
				d.flags[e+2]&flagBlocked == 0 && !d.e.lex.stop[d.lw(e+2)] {
				d.addName(e+2, e+2, 0.7, "person-here")
				k = e + 2
			}
		}
	}
	d.coordinatedNames()
	d.roleCopulaNames()
	d.deliveryRoleNames()
	d.speechSubjects()
	d.giftRecipients()
	d.talkedWith()
	d.labelFieldNames()
	d.repeatedNames()
	d.nameLists()
	d.nameLineList()
	d.doorbellNames()
	d.trailingSignature()
}

// agentPreps introduce the agent of a passive participle ("Bestellt von",
// "Ordered by", "Commandé par", "Pedido por", "Ordinato da", "Besteld
// door"): the capitalised word before them is the participle.
var agentPreps = set(strings.Fields(`von by par por da door`))

// legalForms are companies' legal forms, written as one word or as
// dotted letters (S.L., B.V., S.r.l., e.K.), lower case without dots.
var legalForms = set(strings.Fields(`ltd limited llc llp inc incorporated corp plc gmbh ag kg ohg ug mbh kgaa gbr
	sarl sas sasu eurl snc sa sl slu srl spa sapa snc bv nv vof cv ek pty lda`))

// lowerLegal are the legal forms that are no word, so that they count in
// lower case too ("Trattoria da Gino srl", "bakkerij jansen bv").
var lowerLegal = set(strings.Fields(`ltd llc llp plc gmbh mbh kgaa srl sarl sasu eurl bv vof slu lda`))

// legalSuffix reports a company's legal form starting at token k ("Ltd",
// "GmbH", "S.L.", "B.V.", "S.r.l.", "S.p.A.") after a capitalised word
// on its line, and returns its last token, or -1.
func (d *doc) legalSuffix(k int) int {
	n := len(d.toks)
	if !d.isWord(k) || k == 0 || d.toks[k].nl || !d.capWord(k-1) && !d.isPunct(k-1, '&') && !d.isPunct(k-1, ',') {
		return -1
	}
	tk := &d.toks[k]
	if tk.letters >= 2 {
		lw := d.lw(k)
		if !legalForms[lw] || !tk.upper && !lowerLegal[lw] {
			return -1
		}
		if k+1 < n && d.isPunct(k+1, '.') && !d.toks[k+1].sp {
			return k + 1
		}
		return k
	}
	// Dotted letters: S . L . / S . r . l .
	var b [8]byte
	m, l := k, 0
	for m+1 < n && l < len(b) && d.isWord(m) && d.toks[m].letters == 1 && d.toks[m].e-d.toks[m].s == 1 && d.isPunct(m+1, '.') && (m == k || !d.toks[m].sp) {
		b[l] = d.low[d.toks[m].lo]
		l++
		m += 2
	}
	if l < 2 || !legalForms[string(b[:l])] || !d.toks[k].upper {
		return -1
	}
	return m - 1
}

// repeatedNames marks later mentions of a name already found in the
// message ("It's Mark Thompson ... the order for Mark"): the same
// capitalised word, not inside a brand, place, address or another finding.
func (d *doc) repeatedNames() {
	var names []string
	for _, c := range d.cands {
		if c.typ != Person {
			continue
		}
		for j := d.tokenAt(c.s); j < len(d.toks) && d.toks[j].s < c.e; j++ {
			if d.capWord(j) && d.toks[j].letters >= 3 && !d.e.lex.stop[d.lw(j)] {
				names = append(names, d.nameLower(j))
			}
		}
	}
	if len(names) == 0 || len(names) > 16 {
		return
	}
	found := len(d.cands)
	for k := range d.toks {
		if !d.capWord(k) || d.flags[k]&flagBlocked != 0 {
			continue
		}
		lw := d.nameLower(k)
		known := false
		for _, nm := range names {
			if nm == lw {
				known = true
				break
			}
		}
		if !known || d.covered(d.toks[k].s, d.toks[k].e, found) {
			continue
		}
		d.work++
		e := d.extendName(k, 4)
		if d.productName(k, e) || d.quotedModel(k, e) || d.quotedTitle(k) || k > 0 && d.flags[k-1]&flagBrand != 0 && d.toks[k].sp && !d.toks[k].nl {
			// "Martin (my dad) wants the Martin guitar strap": the same
			// word again, now a product's; 'la candela "Viola Notte"': a
			// quoted product title of capitalised words.
			continue
		}
		d.addName(k, e, 0.7, "person-repeated")
	}
}

// covered reports whether [s,e) overlaps one of the first n candidates.
func (d *doc) covered(s, e, n int) bool {
	for _, c := range d.cands[:n] {
		if c.s < e && s < c.e {
			return true
		}
	}
	return false
}

var germanArticles = set(strings.Fields(`der den die das dem`))

// nameShaped reports whether w is written like a name: a capital, then
// lower case, with capitals only after an apostrophe or hyphen or in Mc/Mac
// (O'Sullivan, Dupont-Moreau, McDonald) — not "IPs" or "iPhone".
func nameShaped(w string) bool {
	prev := rune(0)
	for i, r := range w {
		switch {
		case i == 0:
			if !unicode.IsUpper(r) {
				return false
			}
		case unicode.IsUpper(r):
			if prev != '\'' && prev != '-' && prev != '’' && !(strings.HasPrefix(w, "Mc") && i == 2) && !(strings.HasPrefix(w, "Mac") && i == 3) {
				return false
			}
		}
		prev = r
	}
	return true
}

// nameLabels are the words of a form label that asks for a name.
var nameLabels = set(strings.Fields(`name names naam nom nombre nome vorname nachname prénom apellido apellidos cognome achternaam voornaam surname`))

// holderLabels name an account's or a business's holder on a form line
// ("Titolare Marco Barilla, ...").
var holderLabels = set(strings.Fields(`titolare titular titulaire inhaber inhaberin kontoinhaber intestatario rekeninghouder holder`))

// notNameLabels make such a label ask for something else ("Name of the
// street", "Nom du produit", "Nombre de usuario").
var notNameLabels = set(strings.Fields(`
street road straße strasse rue calle via straat address adresse dirección direccion indirizzo adres company firma société
empresa azienda bedrijf shop store boutique tienda negozio winkel product produit producto prodotto artikel article
brand marke marque marca merk file fichier datei archivo bestand user username usuario utilisateur benutzer benutzername
gebruiker gebruikersnaam utente account wifi wlan network netzwerk réseau red rete netwerk app device gerät appareil
dispositivo apparaat model modell modèle modelo modello item color colour farbe couleur kleur colore domain domaine
`))

// formNameLabel reports whether the ':' at k ends a label of at most six
// words from the line's start that asks for a person's name.
func (d *doc) formNameLabel(k int) bool {
	label := false
	// Bounded in tokens, not only words, so a run of punctuation stays
	// linear ("::::").
	for j, words := k-1, 0; j >= 0 && j >= k-14 && words <= 6; j-- {
		d.work++
		if d.isWord(j) {
			words++
			lw := d.lw(j)
			if notNameLabels[lw] {
				return false
			}
			if nameLabels[lw] {
				label = true
			}
		}
		if d.toks[j].nl {
			return label && words <= 6
		}
	}
	return false
}

// teamWords name where an agent, courier or shop assistant works.
var teamWords = set(strings.Fields(`
store shop team support service customer care warehouse depot courier helpdesk office department desk
büro abteilung bureau département oficina departamento kantoor afdeling ufficio reparto
kundenservice kundendienst service support team filiale laden lager versand
service client clientèle boutique magasin entrepôt équipe
servicio atención cliente tienda almacén equipo soporte
klantenservice klantendienst winkel magazijn team
servizio clienti assistenza negozio magazzino
spedition paketdienst lieferdienst kurierdienst transporteur messagerie transportbedrijf koeriersdienst bezorgdienst
mensajería paquetería transportista corriere spedizioniere
`))

// deptWords are back-office departments: "Rocío de contabilidad", "Jens
// von der Buchhaltung". A form's label takes them too ("Adresse de
// facturation"), so only a name the lexicons know is read before them.
var deptWords = set(strings.Fields(`accounting accounts billing invoicing finance buchhaltung rechnungswesen
	comptabilité facturation contabilidad facturación administración boekhouding administratie facturatie
	contabilità amministrazione fatturazione
	logistics logística logistica logistik logistique logistiek almacén magazzino expedición spedizioni versand
	expédition returns devoluciones resi retouren retours`))

// headingLine reports a colon within the eight tokens after k on its line
// with no verb-like word before it: "Horario de la tienda de Valencia:",
// "Öffnungszeiten vom Shop:" head a list, they introduce no one.
func (d *doc) headingLine(k int) bool {
	for m := k + 1; m < len(d.toks) && m <= k+8; m++ {
		if d.toks[m].nl {
			return false
		}
		if d.isPunct(m, ':') {
			return true
		}
		if d.isWord(m) && (subjectVerbs[d.lw(m)] || d.hereWord(m)) {
			return false
		}
		if d.isPunct(m, ',') || d.isPunct(m, '.') || d.isPunct(m, '!') || d.isPunct(m, '?') {
			return false
		}
	}
	return false
}

// fromTeam reports whether from token j come "from the store", "vom
// Kundenservice", "du service client", "de atención al cliente", "van de
// klantenservice", "dal servizio clienti".
func (d *doc) fromTeam(j int) bool {
	switch d.lw(j) {
	case "from", "vom", "von", "de", "du", "del", "van", "dal", "dello", "della", "of", "aus", "uit", "dalla", "desde":
	default:
		return false
	}
	for m := j + 1; m < len(d.toks) && m <= j+3; m++ {
		if d.toks[m].nl || !d.isWord(m) {
			return false
		}
		// Elided articles and team compounds count: "de l'entrepôt",
		// "vom Waldhaus-Team", "aus dem Serviceteam".
		if lw := d.lw(m); teamWords[lw] || teamWords[elided(lw)] || len(lw) > 4 && strings.HasSuffix(lw, "team") {
			return true
		}
	}
	return false
}

// workArticles before "Don"/"Doña" make it part of a work's or
// character's title ("a" and "de" are prepositions in Spanish: "a Don José").
var workArticles = set(strings.Fields(`the an el un una der den dem das le du il lo uno het een`))

var pairJoiners = set(strings.Fields(`and und et y e en`))

// companionWords follow "X and" when X is a person: another person, a
// colleague, someone.
var companionWords = set(strings.Fields(`another other his her a one someone colleague mate
	ein eine einem einer noch jemand kollege kollegin
	un une autre quelqu'un collègue
	otro otra uno una alguien compañero compañera
	nog een iemand collega
	un uno una altro altra qualcuno collega`))

// personNouns say the companion is a person ("another lad", "otro chico",
// "un collega", "nog iemand").
var personNouns = set(strings.Fields(`someone somebody lad fella fellow guy bloke man woman chap person colleague mate driver
	courier boy girl jemand kollege kollegin mann frau typ fahrer quelqu'un collègue gars type homme femme livreur
	alguien compañero compañera chico chica hombre mujer señor repartidor iemand collega jongen man vrouw bezorger
	qualcuno ragazzo ragazza signore signora tizio corriere`))

// companionPerson reports a person noun within three words from j, before
// the bracket closes.
func (d *doc) companionPerson(j int) bool {
	for m := j; m < len(d.toks) && m <= j+3 && !d.isPunct(m, ')'); m++ {
		if d.isWord(m) && personNouns[d.lw(m)] {
			return true
		}
	}
	return false
}

// speakerLabel reads the name of a transcript line's speaker at the
// bracket k: a role at the start of the line with the name in parentheses
// before the colon ("Agent (Aoife):", "Conseillère (Inès) :"), or the name
// after a chat export's bracketed timestamp ("[14/11, 19:02] Tash:"). A
// team or function word there is no name ("[19:05] Shop:").
func (d *doc) speakerLabel(k int) (int, int, bool) {
	n := len(d.toks)
	if c := d.text[d.toks[k].s]; c != ':' && c != '(' && c != ']' || k+2 >= n || !d.capWord(k+1) || d.toks[k+1].nl {
		return 0, 0, false
	}
	switch {
	case d.isPunct(k, ':'):
		// "Medewerker: Joep K.", "Agente: Nuria P.": a role label with the
		// name after it; the agent's first word is as often "Sorry" or
		// "Perfect", so the name must be known or carry an initial.
		if k == 0 || !d.isWord(k-1) || !(speakerRoles[d.lw(k-1)] || fieldRoles[d.lw(k-1)]) {
			return 0, 0, false
		}
		if !d.sentenceStart(k-1) && !(k >= 2 && d.isWord(k-2) && roleQualifiers[d.lw(k-2)] && d.sentenceStart(k-2)) {
			// Round 14: "Main driver: …", "Zweiter Fahrer: …": one
			// qualifier may open the line before the role.
			return 0, 0, false
		}
		s, e, ok := d.readName(k+1, ncStrong)
		if !ok || s != k+1 || teamWords[d.lw(s)] || speakerRoles[d.lw(s)] || d.e.lex.stop[d.lw(s)] {
			return 0, 0, false
		}
		if e == s && e+2 < n && d.isWord(e+1) && d.toks[e+1].letters == 1 && d.toks[e+1].upper && d.isPunct(e+2, '.') {
			e++ // "Joep K.": the surname's initial
		}
		initial := e > s && d.toks[e].letters == 1 && d.toks[e].upper && e+1 < n && d.isPunct(e+1, '.') ||
			e > s+1 && d.isPunct(e, '.') && d.toks[e-1].letters == 1 && d.toks[e-1].upper
		if !initial && !d.anyKnown(s, e) {
			return 0, 0, false
		}
		return s, e, true
	case d.isPunct(k, '('):
		if k == 0 || !d.isWord(k-1) || !(d.toks[k-1].nl || k > 1 && d.isWord(k-2) && d.toks[k-2].nl) {
			return 0, 0, false
		}
	case d.isPunct(k, ']'):
		m := k - 1
		for m >= 0 && m >= k-12 && !d.isPunct(m, '[') {
			m--
		}
		if m < 0 || !d.isPunct(m, '[') || !d.toks[m].nl {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	j := k + 1
	if d.isPunct(k, ']') && speakerRoles[d.lw(j)] && j+1 < n && d.capWord(j+1) && !d.toks[j+1].nl {
		j++ // "[10:03] Agente Sergio:": the role before the name
	}
	s, e, ok := d.readName(j, ncStrong)
	if !ok || s != j || teamWords[d.lw(s)] || speakerRoles[d.lw(s)] || d.e.lex.stop[d.lw(s)] {
		return 0, 0, false
	}
	if d.isPunct(k, '(') && !speakerRoles[d.lw(k-1)] && !d.anyKnown(s, e) {
		return 0, 0, false // "Note (Urgent):"
	}
	if d.isPunct(k, '(') {
		if e+2 >= n || !d.isPunct(e+1, ')') || !d.isPunct(e+2, ':') {
			return 0, 0, false
		}
	} else if e+1 >= n || !d.isPunct(e+1, ':') {
		return 0, 0, false
	}
	return s, e, true
}

// prepNameCues name someone by a preposition and "name" (round 14); like
// a naming verb they name a product after a product noun.
var prepNameCues = set([]string{"di nome", "de nombre", "du nom de", "by the name of", "met de naam", "mit dem namen", "mit namen"})

// fieldRoles label a form's line by the role of the person named on it
// (round 14): the driver of a rented car, the holder of a policy.
var fieldRoles = set(strings.Fields(`driver policyholder insured
	fahrer fahrerin lenker versicherungsnehmer versicherungsnehmerin
	conducteur conductrice souscripteur assuré assurée
	conductor conductora tomador tomadora asegurado asegurada
	bestuurder verzekeringnemer verzekerde
	conducente guidatore contraente assicurato assicurata`))

// roleQualifiers may stand before a role at the start of its line.
var roleQualifiers = set(strings.Fields(`main additional second first lead primary other extra named
	haupt zweiter weiterer zusätzlicher erster principal additionnel second deuxième
	principal adicional segundo hoofd tweede extra aanvullende principale secondo aggiuntivo`))

// bareNameCues are "my name" without its copula (round 14).
var bareNameCues = set([]string{"my name", "mein name", "mon nom", "mi nombre", "mijn naam", "mio nome"})

// speakerRoles label a transcript's lines by who speaks.
var speakerRoles = set(strings.Fields(`agent advisor adviser rep representative operator assistant manager supervisor
	driver courier customer employee staff
	mitarbeiter mitarbeiterin berater beraterin kundenberater kundenberaterin fahrer kunde kundin
	conseiller conseillère agente opérateur opératrice livreur client cliente
	asesor asesora operador operadora repartidor
	medewerker medewerkster adviseur bezorger klant
	operatore operatrice consulente corriere
	caller anrufer anruferin appelant appelante llamante beller chiamante`))

// roleCompound reports a hyphenated word whose last part is a role noun
// ("Marktplaats-verkoper", "DHL-Fahrer", "Amazon-seller"): a hyphenated
// name ends in a name (Dupont-Moreau, Hans-Peter, al-Masri).
func roleCompound(lw string) bool {
	i := strings.LastIndexByte(lw, '-')
	return i > 0 && len(lw)-i-1 > 3 && roleNouns[lw[i+1:]]
}

// roleNouns are people by what they do for a shop or a parcel.
var roleNouns = set(strings.Fields(`seller vendor driver courier agent team support store shop service
	verkäufer verkäuferin händler fahrer fahrerin bote zusteller zustellerin support team service
	vendeur vendeuse livreur livreuse chauffeur équipe boutique
	vendedor vendedora repartidor repartidora conductor equipo tienda
	verkoper verkoopster bezorger chauffeur winkel klantenservice
	venditore venditrice corriere autista negozio squadra`))

// bareTeam reports a "de"/"di"/"van" directly followed by a customer word
// ("de cliente", "di clienti", "van klant"): a compound noun naming a form
// or a number, where a team would be "de atención al cliente".
func (d *doc) bareTeam(j int) bool {
	switch d.lw(j) {
	case "de", "di", "van":
		if j+1 < len(d.toks) && d.isWord(j+1) {
			switch d.lw(j + 1) {
			case "cliente", "clientes", "client", "clients", "clienti", "klant", "klanten":
				return true
			}
		}
	}
	return false
}

var doorVerbs = set(strings.Fields(`klingeln läuten abgeben klopfen aanbellen bellen afgeven aanbieden`))

var possessive = set(strings.Fields(`my mein meine mon ma mes mi mis mijn mio mia our unser unsere notre nuestro nuestra onze nostro nostra`))

// hereWord: "here", "again" and their translations after a name opening a message.
func (d *doc) hereWord(k int) bool {
	switch d.lw(k) {
	case "here", "again", "hier", "nochmal", "ici", "encore", "aquí", "aqui", "otra", "qui", "di", "weer", "opnieuw", "ancora", "again,", "speaking":
		if d.lw(k) == "di" {
			return d.lw(k+1) == "nuovo"
		}
		if d.lw(k) == "otra" {
			return d.lw(k+1) == "vez"
		}
		return true
	}
	return false
}

// hereGoesOn reports whether the "here"/"again" phrase at token m is
// followed on its line by a lower-case word (the sentence goes on).
func (d *doc) hereGoesOn(m int) bool {
	for m < len(d.toks) && d.isWord(m) && (d.hereWord(m) || d.lw(m) == "nuovo" || d.lw(m) == "vez") {
		m++
	}
	return m < len(d.toks) && d.isWord(m) && !d.toks[m].nl && !d.toks[m].upper
}

// tryNameCues matches the cue phrases starting at k and reads the name
// after the first that matches; it returns the name's last token or -1.
func (d *doc) tryNameCues(k int, cues []nameCue) int {
	n := len(d.toks)
	// A cue word glued to a dot, '@' or '/' before it is part of an e-mail
	// address, domain or path ("...@example.fr. Le colis", "shop.mx. Dice"):
	// a top-level domain is no title, a path part no label.
	if k > 0 && !d.toks[k].sp && (d.isPunct(k-1, '.') || d.isPunct(k-1, '@') || d.isPunct(k-1, '/')) && k > 1 && !d.toks[k-1].sp && d.isWord(k-2) {
		return k
	}
	// "Don" and "Doña" are honorifics without an article; after one they
	// begin a title ("el Don Quijote ilustrado", "the Don Giovanni CD").
	if w := d.lw(k); len(w) >= 3 && w[0] == 'd' && (w == "don" || w == "doña" || w == "dona") && k > 0 && d.isWord(k-1) && workArticles[d.lw(k-1)] {
		return k
	}
	best := -1
	for _, c := range cues {
		j, i := k, 0
		for i < len(c.words) && j < n {
			if d.toks[j].kind == tPunct {
				// "Sig.ra", "z. Hd.", "t.a.v.": dots and slashes inside a cue.
				if (d.isPunct(j, '.') || d.isPunct(j, '/')) && i > 0 {
					j++
					continue
				}
				break
			}
			if d.lw(j) != c.words[i] {
				break
			}
			i++
			j++
		}
		if i < len(c.words) {
			continue
		}
		if c.dot {
			if j >= n || !d.isPunct(j, '.') {
				continue
			}
			j++
		}
		// "sig.ra", "dott.ssa" come as "sig" "." "ra".
		if c.kind == ncTitle && j+1 < n && d.isPunct(j, '.') && (d.lw(j+1) == "ra" || d.lw(j+1) == "na" || d.lw(j+1) == "ssa") {
			j += 2
		}
		if c.special&cueNaming != 0 && j+1 < n && d.isWord(j) && alsoWords[d.lw(j)] {
			j++ // "Mein Mann heißt auch Hugo", "elle s'appelle aussi Léa"
		}
		if c.special&cueCourier != 0 && j < n && d.isWord(j) && (notVocative[d.lw(j)] || d.toks[j].info&(wGiven|wSurname) == 0 && (d.lang == "de" || commonEnding(d.lw(j)))) {
			continue // "the driver Express option", "der Fahrer Termin": a word, not the courier's name
		}
		if c.special&cueRunsOn != 0 && !d.orderBefore(k) {
			continue // "Unser Webshop läuft auf Shopware 6.5": software runs on it
		}
		if (c.special&cueNaming != 0 || prepNameCues[c.phrase]) && k > 0 && d.isWord(k-1) && d.namedThing(k-1) {
			continue // "het product heet Superglans", "the lamp is called Aurora": a product's name
		}
		for m := 0; c.special&cueNaming != 0 && m < 2 && j+1 < n && d.isWord(j) && namingAdverbs[d.lw(j)]; m++ {
			j++ // "heet trouwens echt Gerdientje", "heißt übrigens wirklich ..."
		}
		// What may stand between cue and name.
		colon := false
		nl := false
		for j < n && d.toks[j].kind == tPunct {
			c0 := d.text[d.toks[j].s]
			if tt := d.tokText(j); tt == "—" || tt == "–" {
				// A dash after a label that starts its line stands for a
				// colon ("Recipient – Mere Parata").
				colon = colon || c.colon && d.sentenceStart(k) && d.toks[k].nl
				j++
				continue
			}
			if c0 == '-' && c.colon && d.toks[k].nl && d.toks[j].sp {
				colon = true
				j++
				continue
			}
			if c0 == ':' || c0 == '|' && c.colon && k > 0 && d.isPunct(k-1, '|') {
				// ("| name | Tavita Leota |": a typed table's field and
				// value cells, a form line.)
				colon = true
			} else if c.kind == ncStrong && quoteTok(d.tokText(j)) && j+1 < n && d.capWord(j+1) {
				// The name on a doorbell, quoted: 'Klingel „Brüggemann“'.
			} else if c0 != ',' && c0 != '.' && c0 != '-' && c0 != '!' && !(c0 == '(' && c.kind != ncTitle) {
				break
			}
			if c0 == '.' && c.kind != ncTitle && c.kind != ncSignoff {
				break
			}
			if c0 == '.' && c.kind == ncTitle && len(c.phrase) > 4 {
				// After a title written in full ("agent", "neighbour",
				// "Tante") a full stop ends the sentence: "handed to an
				// agent. Handed over" names no one. Abbreviations (Mr.,
				// Dr., Sig., Mevr.) take the dot.
				break
			}
			j++
		}
		if j >= n {
			continue
		}
		if colon && c.kind == ncTitle && roleTitles[c.phrase] {
			continue // "Agent: Hi!", "Conseiller : Bonjour": a speaker label
		}
		if d.toks[j].nl {
			nl = true
		}
		needTwo := false
		lineForm := false
		if c.colon && !colon {
			// "deliver to Aroha Ngata please": without a colon a delivery
			// phrase names a person only with a full name or a known one
			// ("send to London", "ship to Head Office" name none).
			// A form label of several words that opens its line does too
			// when the name ends the line ("name on card G. Haverford").
			// A one-word name label too, before two name-shaped words one
			// of which the lexicons know ("Naam Fenneke Visser."), as forms
			// are typed without colons.
			lineForm = !deliveryCues[c.phrase] && (len(c.words) > 1 || nameLabels[c.phrase] && j+1 < n && d.nameLikeWord(j) && (d.nameLikeWord(j+1) || d.brandSurname(j)) && !d.toks[j+1].nl && d.anyKnown(j, j+1) ||
				holderLabels[c.phrase] && d.brandSurname(j)) && d.toks[k].nl && !nl
			if !deliveryCues[c.phrase] && !lineForm {
				continue
			}
			needTwo = true
		}
		if nl && !(colon || c.kind == ncSignoff) {
			continue
		}
		if c.kind == ncSignoff {
			// The name must end its line or the message ("Grüße, Birgit").
			if tt := d.tokText(j - 1); !nl && !d.isPunct(j-1, ',') && !d.isPunct(j-1, '!') && tt != "—" && tt != "–" && !(j-1 >= 0 && d.toks[j-1].kind == tWord && d.sentenceStart(k)) &&
				!(d.chatSignoff(k, c.phrase) && (d.lowerSignature(j) || d.lowerThanksName(j))) &&
				!(d.isPunct(k-1, ',') && !thanksWords[c.words[0]] && d.nameLikeWord(j) && d.lastWord(j)) {
				// (A sign-off after a comma whose name ends the message:
				// "ok danke, gruesse Quendt".)
				continue
			}
		}
		if (c.kind == ncGreet || c.kind == ncSignoff) && d.wantsHuman {
			continue // "Hallo Wimpel, kan ik een mens spreken?": the assistant is greeted
		}
		if c.kind == ncSignoff {
			// "Schöne Grüße aus der Gärtnerei, Vogel": a sign-off from a
			// place, then the name after its comma.
			j = d.signoffFrom(j)
		}
		s, e, ok := d.readName(j, c.kind)
		if ok && c.kind == ncStrong && e == s && (teamWords[d.lw(s)] || deptWords[d.lw(s)]) {
			continue // "se lo paso a Logística": a department, not a colleague
		}
		if ok && colon && casedRelationCues[c.phrase] && !d.anyKnown(s, e) {
			continue // round 15: "Brille für meinen Sohn: Kinderbrille": after a colon, what is bought for them
		}
		if ok && bareNameCues[c.phrase] && !d.toks[s].upper {
			continue // "met mijn naam erin": a lower-case word after it is no name
		}
		if ok && bareNameCues[c.phrase] {
			// Round 14: "My name Ana Ruiz": without its copula the phrase
			// names a person only when the name fills its clause (a comma,
			// a full stop, a line's or the message's end after it); "My name
			// Change request" is a heading's words.
			if m := e + 1; m < n && !d.toks[m].nl && !(d.isPunct(m, ',') || d.isPunct(m, '.') || d.isPunct(m, ';') || d.isPunct(m, '!') || d.isPunct(m, '?')) {
				continue
			}
		}
		if ok && c.kind == ncGreet && introVerb(d.lw(s)) {
			continue // "¡Hola! Soy Lupa": the introduction's verb is no name
		}
		if ok && len(d.notNames) > 0 && d.spanFlagged(s, e, flagNotName) {
			continue // "¡Hola! Soy Lupa, el asistente virtual": not "Soy Lupa"
		}
		if ok && c.kind == ncSignoff && strings.HasSuffix(c.phrase, " from") && e == s && d.e.lex.place1[d.lw(s)] {
			continue // "love from Paris": a postcard's place
		}
		if ok && (c.kind == ncSignoff || c.kind == ncGreet) && e+1 < n && d.toks[e+1].kind == tNum && !d.toks[e+1].nl {
			continue // "Regards, Unit 4", "Thanks, Room 12": a place, not a name
		}
		if !ok && c.kind == ncSignoff && !thanksWords[c.words[0]] && (d.sentenceStart(k) || d.chatSignoff(k, c.phrase)) && d.lowerSignature(j) {
			// (Chat shorthand signs off in the middle of an unpunctuated
			// line: "... bin ab 16 uhr da lg petra".)
			// "cheers — kiri", "saludos, yeray": a lower-case word that
			// ends the message after a sign-off is the writer's name.
			s, e, ok = j, j, true
		}
		if !ok && (c.kind == ncGreet || c.kind == ncSignoff && (d.sentenceStart(k) || d.chatSignoff(k, c.phrase) || d.isPunct(k-1, ','))) && d.lowerThanksName(j) {
			// "thanks tommy", "merci mathilde", "bedankt fleur!": a given
			// name that ends the message after thanks or a greeting is the
			// one thanked, also when it is a word too.
			s, e, ok = j, j, true
		}
		if c.kind == ncStrong && c.special&cueNaming != 0 || c.kind == ncIntro {
			// "my name is daniel whitaker and ...", "MI CHIAMO GIULIA
			// FERRI, ...", "this is priya raman speaking": a full name in
			// one case, where the case says nothing, read by its shape.
			if e2 := d.caseFullName(j, c.kind); e2 > j && (!ok || s == j && e < e2) {
				s, e, ok = j, e2, true
			}
		}
		if !ok && c.kind == ncStrong && c.special&cueNaming != 0 && d.lowerGivenName(j) {
			// "hi my name is aroha,", "me llamo yeray": after a naming
			// phrase a lower-case word that ends its clause is the name.
			s, e, ok = j, j, true
		}
		if !ok && c.kind == ncIntro && d.lowerIntroName(j) {
			// "hi its bill again", "c'est désiré je rappelle", "its mark
			// (yes like the word)": a known given name, also a word, after
			// a chat self-introduction and before a new clause.
			s, e, ok = j, j, true
		}
		if !ok && c.kind == ncIntro && d.lowerNickname(j) {
			// "I'm dev, the account holder", "this is wen from the store".
			s, e, ok = j, j, true
		}
		if !ok {
			continue
		}
		if (c.kind == ncGreet || c.kind == ncSignoff) && e+1 < n && d.isWord(e+1) && !d.toks[e+1].nl && !d.toks[e+1].upper && goodsNouns[d.lw(e+1)] {
			continue // "Hey, River Island jeans sizing?": a brand before its product
		}
		if c.kind == ncGreet && s > 0 && (d.isPunct(s-1, '!') || d.isPunct(s-1, '.') || d.isPunct(s-1, '?')) && !d.anyKnown(s, e) {
			continue // round 13: "Hallo! Bis zu drei …": the greeting has ended, a sentence starts
		}
		if (c.kind == ncGreet || c.kind == ncSignoff) && e == s && notVocative[d.lw(s)] {
			continue // "Danke, Express!": a shipping option or notice, no one thanked
		}
		if (c.kind == ncGreet || c.kind == ncSignoff) && (teamWords[d.lw(s)] || roleCompound(d.lw(e)) ||
			e+1 < n && d.isWord(e+1) && !d.toks[e+1].nl && teamWords[d.lw(e+1)]) {
			// "Grüße,\nFiliale Nord", "Bedankt Marktplaats-verkoper": a
			// team or a role signs or is thanked, not a person.
			continue
		}
		if needTwo && e == s && !d.anyKnown(s, e) {
			continue
		}
		if lineForm && (e == s || e+1 < n && !d.toks[e+1].nl && !(len(c.words) == 1 && (d.isPunct(e+1, '.') || d.isPunct(e+1, ',')))) {
			continue
		}
		if contactRoles[c.phrase] && !d.anyKnown(s, e) && !(colon && e > s && d.lineEndsAt(e)) {
			// (A form's colon and a full name that ends its line name the
			// contact whatever the lexicon knows: "Referente: …".)
			continue // "Referente Ufficio Acquisti": a team, not a person
		}
		if c.kind == ncTitle && neighbourTitles[c.words[0]] && !d.anyKnown(s, e) && !(e == s && d.nameLikeWord(s) && d.boundTitle(k) && (d.lang != "de" || germanSurnameShape(d.lw(s)))) {
			continue // "neighbour Kowalski", not "Nachbar Paket"
		}
		if c.kind == ncIntro && (c.words[0] == "c" && d.lang != "fr" || c.words[0] == "bin" && d.lang != "de") && d.lang != "" {
			continue // French and German chat shorthand only
		}
		if c.kind == ncIntro && len(c.words) == 1 && c.words[0] == "im" && d.lang != "en" && (d.lang != "" || d.toks[s].info&(wGiven|wSurname) == 0) {
			// "im" is English "I'm" without its apostrophe, but German "in dem"
			// ("Im Jahr 1985", "im Auftrag").
			continue
		}
		if c.kind == ncIntro && weakIntro[c.words[0]] && e == s && d.toks[s].info&(wGiven|wSurname) == 0 && !d.hereWord(e+1) && !d.fromTeam(e+1) && !d.roleApposition(e+1) &&
			!(d.afterGreeting(k) && (e+1 >= n || d.isPunct(e+1, ',') || d.toks[e+1].nl)) {
			// ("Hi, it's Wiremu, order 5512": right after a greeting an
			// introduction names the writer.)
			// "Ich bin Rentner", "This is Amazing": after a weak
			// introduction an unknown word needs a second name word.
			continue
		}
		if (c.kind == ncSignoff || c.kind == ncGreet) && e == s && (!d.anyKnown(s, e) || d.toks[s].letters <= 2 || d.e.lex.ambiguous[d.lw(s)]) && d.sentenceGoesOn(e) &&
			!(c.kind == ncSignoff && d.signsForShop(e)) {
			// "Ciao, Volevo sapere ...", "Hola Quiero devolver", "Hallo,
			// Ja das passt": an unknown capitalised word after a greeting
			// that a lower-case word continues starts the sentence; a
			// name after a greeting stands alone ("Hi Anna,").
			continue
		}
		if c.kind == ncSignoff || c.kind == ncGreet {
			// A name after a greeting or sign-off is followed by the end of
			// a line, sentence punctuation, or the rest of a greeting.
			if e+1 < n && !d.toks[e+1].nl && d.toks[e+1].kind == tWord && !d.e.lex.stop[d.lw(e+1)] && !d.hereWord(e+1) && c.kind == ncSignoff && !d.signsForShop(e) {
				continue
			}
		}
		if c.colon && len(c.words) == 1 && headerCues[c.words[0]] && !d.anyKnown(s, e) {
			// "From: Returns <returns@...>", "Von: Kontaktformular": a mail
			// header's display name is as often a team, a mailbox or a form
			// as a person, so it needs a name the lexicon knows.
			continue
		}
		score := 0.85
		if c.kind == ncIntro {
			score = 0.75
		}
		d.addName(s, e, score, "person-cue")
		if e > best {
			best = e
		}
		if c.kind == ncGreet || c.kind == ncSignoff {
			// "Hi Aroha and Tama,", "Groetjes, Sjoerd en Wietske".
			if e2 := d.secondName(e, false); e2 > e {
				best = e2
			}
		}
		if c.kind == ncStrong {
			// "Klingel: Hartmann und Özdemir", "c/o Jansen / de Wit": a
			// second name joined to the first; on a doorbell a comma
			// joins them too ("Klingelschild: Meier, Yıldız").
			if e2 := d.secondName(e, doorbellCues[c.words[0]]); e2 > e {
				best = e2
			}
		}
		break
	}
	return best
}

// deedVerbs say what someone did with a parcel or a call ("J. Ngata
// signed for it").
// signingVerbs: someone signed for, collected or accepted a parcel.
var signingVerbs = set(strings.Fields(`signed collected accepted signé récupéré firmó recogió tekende ondertekende firmato ritirato`))

var deedVerbs = set(strings.Fields(`signed collected picked took left delivered came rang sent received accepted handed
	unterschrieb unterschrieben abgeholt nahm brachte signé récupéré pris livré firmó recogió recibió entregó
	tekende ondertekende haalde nam bracht firmato ritirato preso consegnato`))

// forWords introduce whom something is for or with.
var forWords = set(strings.Fields(`for with to by für mit an von pour avec à par para con por voor met door per da`))

// namingCues say what someone is called.
var namingCues = set([]string{"my name is", "name is", "name's", "call me", "mein name ist", "ich heiße", "ich heisse",
	"je m'appelle", "je m’appelle", "mon nom est", "me llamo", "mi nombre es", "mijn naam is", "ik heet", "mi chiamo",
	"il mio nome è", "is called", "named", "heißt", "heisst", "s'appelle", "se llama", "heet", "si chiama",
	"le dicen", "le llaman", "la llaman", "goes by", "went by", "known as"})

// courierCues name a courier by role; the word after one is their name
// only when it is written like one (and, in German, known as one).
var courierCues = set([]string{"the courier", "the driver", "your driver", "your courier", "der fahrer", "der bote",
	"der zusteller", "le livreur", "el repartidor", "de bezorger", "il corriere"})

// runsOnCues say whose name something is under in German ("die
// Bestellung läuft auf Nguyen Thi Lan"), and what software runs on.
var runsOnCues = set([]string{"läuft auf", "laufen auf", "lief auf"})

// orderWords are what is put in someone's name.
var orderWords = set(strings.Fields(`bestellung bestellungen auftrag konto kundenkonto rechnung buchung vertrag abo abonnement
	paket sendung reservierung lieferung account`))

// orderBefore reports an order word among the four words before k in its
// sentence.
func (d *doc) orderBefore(k int) bool {
	for m, words := k-1, 0; m >= 0 && words < 4; m-- {
		if d.isWord(m) {
			if orderWords[d.lw(m)] {
				return true
			}
			words++
		}
		if d.sentenceBreak(m) {
			return false
		}
	}
	return false
}

// productWords say "product" or "article"; like a goods noun or a model
// word they make the subject of a naming verb a thing.
var productWords = set(strings.Fields(`product products produkt produkte produit produits producto productos prodotto prodotti
	article artikel artículo articolo item items`))

// namedThing reports the noun before a naming verb at m as a product:
// "het product heet ...", "die Lampe heißt ...", "la bougie s'appelle ...".
func (d *doc) namedThing(m int) bool {
	lw := d.lw(m)
	return goodsNouns[lw] || modelWords[lw] || productWords[lw]
}

// namingAdverbs may stand between a naming verb and the name ("heet
// trouwens echt Gerdientje", "is actually called", "s'appelle vraiment").
var namingAdverbs = set(strings.Fields(`trouwens echt eigenlijk gewoon werkelijk übrigens wirklich eigentlich tatsächlich
	actually really truly vraiment réellement realmente verdaderamente davvero proprio veramente`))

// notNameWords describe a name instead of giving it ("my name is wrong").
var notNameWords = set(strings.Fields(`wrong missing incorrect misspelt different correct right fine ok okay there here also
	listed printed shown displayed spelt falsch anders richtig faux fausse différent mal incorrecto distinto fout anders
	sbagliato diverso giusto gut`))

// lowerGivenName reports a lower-case word at j that ends its clause and
// could be a name (not a stop word, cue, participle or description).
func (d *doc) lowerGivenName(j int) bool {
	n := len(d.toks)
	if !d.isWord(j) || d.toks[j].upper || d.toks[j].digit || d.toks[j].letters < 2 || d.flags[j]&flagBlocked != 0 {
		return false
	}
	lw := d.lw(j)
	if strings.ContainsAny(lw, "_") || d.e.lex.stop[lw] || cueWords[lw] != 0 || notNameWords[lw] || contraction(lw) {
		return false
	}
	for _, suf := range []string{"ed", "ing", "ly"} {
		if strings.HasSuffix(lw, suf) && len(lw) > 4 {
			return false
		}
	}
	m := j + 1
	return m >= n || d.toks[m].nl || d.toks[m].kind == tPunct || d.isWord(m) && (nameJoiners[d.lw(m)] || d.lw(m) == "from" || d.hereWord(m))
}

// deliveryCues name a recipient; without a colon they need a full or known
// name after them.
var deliveryCues = set([]string{"ship to", "deliver to", "send to", "ship it to", "send it to", "please ship to", "attn", "attention",
	"liefern an", "senden an", "lieferung an", "envoyer à", "livrer à", "enviar a", "spedire a", "verzenden naar"})

// thanksWords open a reply as often as they close a message ("Thanks,
// sorted", "Danke, erledigt"): a lower-case word after them is no name.
var thanksWords = set(strings.Fields(`thanks thank many merci danke gracias grazie bedankt`))

// signatureClosers end a message after a sign-off without being a name.
var signatureClosers = set(strings.Fields(`bye again everyone all x xx xxx xoxo appreciated lot much tschüss tschüs ciao adiós adios
	salut doei dag ok okay cheers thanks danke merci gracias grazie bedankt anyway whatever lol haha
	anonymous anonym anonyme anónimo anonimo anoniem
	mum mom mummy mommy dad daddy nan nana granny grandma grandpa mama mami papa papi mamá papá mamma papà maman
	oma opa mutti vati moeder vader nonna nonno abuela abuelo`))

// lowerSignature reports a lower-case word at token j that ends the
// message (only punctuation after it) and could be a name: letters only,
// not a stop word, cue, closer or known ordinary word.
func (d *doc) lowerSignature(j int) bool {
	n := len(d.toks)
	if !d.isWord(j) || d.toks[j].upper || d.toks[j].digit || d.toks[j].letters < 3 || d.toks[j].letters > 14 || d.flags[j]&flagBlocked != 0 {
		return false
	}
	for m := j + 1; m < n; m++ {
		if d.toks[m].kind != tPunct {
			return false
		}
	}
	lw := d.lw(j)
	if strings.ContainsAny(lw, "-'’_") || d.e.lex.stop[lw] || cueWords[lw] != 0 || signatureClosers[lw] || d.e.lex.ambiguous[lw] {
		return false
	}
	for _, suf := range []string{"ed", "ing", "ly", "issimi", "issimo", "issima", "issime"} {
		if strings.HasSuffix(lw, suf) {
			return false // participles and adverbs: "sorted", "gentilissimi"
		}
	}
	if _, isCue := nameCues[lw]; isCue {
		return false
	}
	return true
}

// roleWords describe who the writer is in an apposition after their name
// ("I'm dev, the account holder").
var roleWords = set(strings.Fields(`account holder owner customer buyer recipient sender person one manager
	kontoinhaber kunde kundin besteller empfänger titulaire client cliente destinataire titular comprador
	destinatario klant eigenaar ontvanger titolare`))

// roleApposition reports ", the account holder" / ", la titular" from
// token m.
func (d *doc) roleApposition(m int) bool {
	if m >= len(d.toks) || !d.isPunct(m, ',') {
		return false
	}
	for j := m + 1; j < len(d.toks) && j <= m+3; j++ {
		if !d.isWord(j) || d.toks[j].nl {
			return false
		}
		if roleWords[d.lw(j)] {
			return true
		}
	}
	return false
}

// lowerNickname reports a short (nickname-length) lower-case word at j after an
// introduction that the context names as a person: "I'm dev, the account
// holder", "this is wen from the Leeds store".
func (d *doc) lowerNickname(j int) bool {
	if !d.isWord(j) || d.toks[j].upper || d.toks[j].digit || d.toks[j].letters < 2 || d.toks[j].letters > 5 || d.flags[j]&flagBlocked != 0 {
		return false
	}
	lw := d.lw(j)
	if strings.ContainsAny(lw, "-'’_") || d.e.lex.stop[lw] || cueWords[lw] != 0 || contraction(lw) {
		return false
	}
	return d.fromTeam(j+1) || d.roleApposition(j+1)
}

// afterGreeting reports whether token k directly follows a greeting word
// (and a comma): "Hi, it's ...", "Hallo, hier ist ...".
func (d *doc) afterGreeting(k int) bool {
	m := k - 1
	for m >= 0 && (d.isPunct(m, ',') || d.isPunct(m, '!')) {
		m--
	}
	if m < 0 || !d.isWord(m) || d.toks[k].nl {
		return false
	}
	switch d.lw(m) {
	case "hi", "hello", "hey", "hallo", "hoi", "bonjour", "salut", "hola", "buenas", "ciao", "salve", "buongiorno", "moin", "morning":
		return true
	}
	return false
}

// sentenceGoesOn reports whether token e is followed, on its line and
// without punctuation, by a lower-case word that is no name particle.
func (d *doc) sentenceGoesOn(e int) bool {
	m := e + 1
	if m >= len(d.toks) || d.toks[m].nl || d.toks[m].kind != tWord || d.toks[m].upper || d.toks[m].digit {
		return false
	}
	if nameJoiners[d.lw(m)] && d.capWord(m+1) && !d.toks[m+1].nl {
		return false // "Hi Aroha and Tama,": two names, not a sentence
	}
	if d.andTheRest(m) {
		return false // "thanks Tavita en de rest!": the one thanked and the others
	}
	return !particles[d.lw(m)]
}

// andTheRest reports "and the rest/team/others/all" at m in six languages
// ("en de rest", "und das Team", "et toute l'équipe", "y al resto", "e
// tutti gli altri").
func (d *doc) andTheRest(m int) bool {
	if !d.isWord(m) || !pairJoiners[d.lw(m)] {
		return false
	}
	for j := m + 1; j < len(d.toks) && j <= m+3 && d.isWord(j) && !d.toks[j].nl; j++ {
		if restWords[d.lw(j)] {
			return true
		}
	}
	return false
}

// restWords name everyone else after a name.
var restWords = set(strings.Fields(`rest team others all everyone crew gang rest team anderen alle équipe autres tous
	resto equipo demás todos resto squadra altri tutti rest team anderen iedereen l'équipe`))

// elision reports a French or Italian elided pronoun, article or
// preposition before a lower-case word (J'ai, C'est, L'ho, D'accord,
// Qu'il): sentence starts, not names (D'Angelo, O'Sullivan keep a capital).
func elision(w string) bool {
	i := strings.IndexAny(w, "'’")
	if i <= 0 || i > 3 {
		return false
	}
	rest := w[i+1:]
	if w[i] != '\'' {
		rest = w[i+len("’"):]
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest != "" && unicode.IsLower(r)
}

// doorbellCues label a doorbell or letterbox, where names are listed.
var doorbellCues = set(strings.Fields(`klingel klingelschild doorbell buzzer citofono campanello timbre bel deurbel sonnette interphone portero türschild briefkasten`))

// neighbourTitles are the relation words among the title cues: the name
// after them must be one the lexicon knows.
var neighbourTitles = set(strings.Fields(`neighbour neighbor nachbar nachbarin voisin voisine vecino vecina vicino vicina buurman buurvrouw`))

// nameJoiners join two names ("und", "/", "&").
var nameJoiners = set(strings.Fields(`and und et y e en & / + or oder ou o oppure`))

// brandSurname reports a capitalised given name at j followed by a
// surname that is a brand too ("Marco Barilla"), the pair ending its
// clause.
func (d *doc) brandSurname(j int) bool {
	n := len(d.toks)
	return d.isWord(j) && d.toks[j].upper && !d.toks[j].allUp && d.e.lex.given[d.nameLower(j)] && j+1 < n && d.capWord(j+1) && d.toks[j+1].sp && !d.toks[j+1].nl &&
		d.flags[j+1]&flagBrand != 0 && !d.toks[j+1].allUp && (j+2 >= n || d.toks[j+2].nl || d.toks[j+2].kind == tPunct)
}

// possessiveKin reports a capitalised name with an English possessive
// before a kin word ("Lily's mum will collect it", "Tavita's dad").
func (d *doc) possessiveKin(k int) bool {
	if !d.isWord(k) || !d.toks[k].upper || d.toks[k].allUp || d.toks[k].digit || d.flags[k]&flagBlocked != 0 || k+1 >= len(d.toks) || !d.isWord(k+1) || !kinWords[d.lw(k+1)] {
		return false
	}
	base := d.nameLower(k)
	if base == d.lw(k) || len(base) < 3 || d.e.lex.stop[base] || cueWords[base] != 0 || kinWords[base] || monthNames[base] > 0 {
		return false
	}
	t := d.tokText(k)
	return nameShaped(t[:len(t)-(len(d.lw(k))-len(base))])
}

// cardSignature returns the first and last word of a name after "love" or "xoxo"
// that kisses end ("love Tavita x", "lots of love, Nora xx"), as a card's
// message signs; 0 when not.
func (d *doc) cardSignature(k int) (int, int) {
	n := len(d.toks)
	if !d.isWord(k) || d.lw(k) != "love" && d.lw(k) != "liebe" && d.lw(k) != "bisous" && d.lw(k) != "besos" && d.lw(k) != "baci" && d.lw(k) != "liefs" {
		return 0, 0
	}
	if k > 0 && !d.toks[k].nl && d.toks[k-1].kind != tPunct {
		return 0, 0 // "I love Paris x": a verb, not a card's closing
	}
	j := k + 1
	if j < n && d.isPunct(j, ',') {
		j++
	}
	if !d.nameLikeWord(j) || d.toks[j].nl || kinWords[d.lw(j)] {
		return 0, 0 // ("love Mum x": kin, no name)
	}
	if d.toks[k].upper && j == k+1 && d.toks[j].info&(wGiven|wSurname) == 0 {
		return 0, 0 // "Love Island x": a title; a card's "Love, Tavita" has its comma
	}
	e := j
	if e+1 < n && d.nameLikeWord(e+1) && !d.toks[e+1].nl {
		e++
	}
	if e+1 < n && d.isWord(e+1) && !d.toks[e+1].nl && (d.lw(e+1) == "x" || d.lw(e+1) == "xx" || d.lw(e+1) == "xxx" || d.lw(e+1) == "xoxo") {
		return j, e
	}
	return 0, 0
}

// insteadWords say "instead of" between a written name and the right one.
var insteadWords = set([]string{"en vez de", "en lugar de", "instead of", "au lieu de", "statt", "anstatt", "invece di",
	"in plaats van"})

// insteadOfNames reads "<Name> en vez de <Name>" in a sentence about a
// name ("mi nombre, pone Nuria en vez de Núria"): both are the person's
// name as written and as it should be. It returns the second name's
// tokens, or 0, 0.
func (d *doc) insteadOfNames(k int) (int, int) {
	n := len(d.toks)
	m := k + 1
	if k == 0 || m >= n || !d.isWord(m) || !d.toks[k].upper {
		return 0, 0
	}
	switch d.lw(m) {
	case "en", "instead", "au", "statt", "anstatt", "invece", "in":
	default:
		return 0, 0 // no "instead" phrase: the cheap way out for every other word
	}
	if !d.nameLikeWord(k) {
		return 0, 0
	}
	l := 0
	for w := 1; w <= 3 && m+w-1 < n; w++ {
		parts := make([]string, 0, 3)
		ok := true
		for i := 0; i < w; i++ {
			if !d.isWord(m + i) {
				ok = false
				break
			}
			parts = append(parts, d.lw(m+i))
		}
		if ok && insteadWords[strings.Join(parts, " ")] {
			l = w
			break
		}
	}
	if l == 0 || m+l >= n || !d.nameLikeWord(m+l) {
		return 0, 0
	}
	// The sentence speaks of a name.
	for j := k - 1; j >= 0 && j >= k-8; j-- {
		if d.isWord(j) && nameNouns[d.lw(j)] {
			return m + l, m + l
		}
		if d.sentenceBreak(j + 1) {
			break
		}
	}
	return 0, 0
}

// fromWords say where a greeting comes from ("aus der Gärtnerei", "from
// the shop", "de la boutique").
var fromWords = set(strings.Fields(`from aus vom von de du des van uit da dal dalla dallo desde del`))

// signoffFrom returns the token after the comma that closes "from a place"
// at j (at most five words on its line), or j.
func (d *doc) signoffFrom(j int) int {
	if !d.isWord(j) || !fromWords[d.lw(j)] || d.toks[j].upper {
		return j
	}
	for m := j + 1; m < len(d.toks) && m <= j+6; m++ {
		if d.toks[m].nl {
			if d.capWord(m) && m > j+1 && d.nameLikeWord(m) && (d.lastWord(m) || m+1 < len(d.toks) && d.capWord(m+1) && !d.toks[m+1].nl && d.lastWord(m+1)) {
				return m // "Grüße aus Kiel\nHauke": the name on the line after
			}
			return j
		}
		if d.isPunct(m, ',') {
			if m+1 < len(d.toks) && d.capWord(m+1) && !d.toks[m+1].nl && d.lastWord(m+1) {
				return m + 1
			}
			return j
		}
		if !d.isWord(m) {
			return j
		}
	}
	return j
}

// jobTitle reports a job noun or a German job compound ("Konditormeisterin",
// "Filialleiter", "Küchenchefin") written before a name.
func jobTitle(lw string) bool {
	if jobNouns[lw] {
		return true
	}
	for _, suf := range [...]string{"meister", "meisterin", "leiter", "leiterin", "chef", "chefin"} {
		if len(lw) > len(suf)+3 && strings.HasSuffix(lw, suf) {
			return true
		}
	}
	return false
}

// secondName reads a name joined to the name that ends at token e and
// returns its last token (e when there is none).
func (d *doc) secondName(e int, comma bool) int {
	m := e + 1
	if m+1 >= len(d.toks) || d.toks[m].nl || d.toks[m+1].nl || !nameJoiners[d.lw(m)] && !d.isPunct(m, '/') && !d.isPunct(m, '&') && !(comma && d.isPunct(m, ',')) {
		return e
	}
	m++
	p := m
	if particles[d.lw(m)] && m+1 < len(d.toks) && !d.toks[m+1].nl {
		p = m + 1 // "Jansen & De Vries"
	}
	if !d.capWord(p) || d.toks[p].letters < 3 || d.e.lex.stop[d.lw(p)] || cueWords[d.lw(p)] != 0 || !nameShaped(d.tokText(p)) {
		return e
	}
	s2, e2, ok := d.readName(m, ncStrong)
	if !ok {
		return e
	}
	d.addName(s2, e2, 0.8, "person-cue")
	return e2
}

// labelLine reports whether the line that starts at token k holds only a
// label that asks for a name ("Surname", "Nachname", "First name") with no
// colon, and returns the first token of the next line.
func (d *doc) labelLine(k int) (int, bool) {
	n := len(d.toks)
	if k > 0 && !d.toks[k].nl {
		return 0, false
	}
	label := false
	m := k
	for ; m < n && m-k < 3; m++ {
		if m > k && d.toks[m].nl {
			break
		}
		if !d.isWord(m) {
			return 0, false
		}
		lw := d.lw(m)
		if nameLabels[lw] {
			label = true
			continue
		}
		if lw != "first" && lw != "last" && lw != "given" && lw != "family" && lw != "full" && lw != "completo" && lw != "complet" {
			return 0, false
		}
	}
	if !label || m >= n || !d.toks[m].nl {
		return 0, false
	}
	return m, true
}

// dobAbbrev reports "D.O.B" (with or without spaces) starting at token k.
func (d *doc) dobAbbrev(k int) bool {
	return d.lw(k) == "d" && k+4 < len(d.toks) && d.isPunct(k+1, '.') && d.lw(k+2) == "o" && d.isPunct(k+3, '.') && d.lw(k+4) == "b"
}

// headerCues are the mail header labels among the colon cues.
var headerCues = set(strings.Fields(`from von de van da to an à a aan`))

// anyKnown reports whether a word of tokens s..e is a given name or surname
// the lexicon knows.
func (d *doc) anyKnown(s, e int) bool {
	for k := s; k <= e && k < len(d.toks); k++ {
		if _, known := d.nameWord(k); known {
			return true
		}
	}
	return false
}

// nameWord reports whether token k can be part of a name, and whether the
// lexicon knows it.
func (d *doc) nameWord(k int) (ok, known bool) {
	if !d.isWord(k) {
		return false, false
	}
	tk := &d.toks[k]
	if tk.digit || tk.letters == 0 || d.flags[k]&flagBlocked != 0 {
		return false, false
	}
	lw := d.nameLower(k)
	if placeParts[lastPart(lw)] && lastPart(lw) != lw {
		return false, false // Karl-Marx-Stadt, Villeneuve-la-Ville: a place named after someone
	}
	lex := d.e.lex
	known = lex.given[lw] || lex.surname[lw] || lex.given[firstPart(lw)] || lex.surname[firstPart(lw)] || lex.surname[lastPart(lw)]
	return true, known
}

// nameLower is token k's lower case without a possessive 's.
func (d *doc) nameLower(k int) string {
	lw := d.lw(k)
	if strings.HasSuffix(lw, "'s") {
		return lw[:len(lw)-2]
	}
	if strings.HasSuffix(lw, "’s") {
		return lw[:len(lw)-4]
	}
	return lw
}

// compoundOfNames reports whether every part of the hyphenated word k is
// capitalised and a given name or surname the lexicons know.
func (d *doc) compoundOfNames(k int) bool {
	t := d.tokText(k)
	lex := d.e.lex
	for _, p := range strings.Split(t, "-") {
		r, _ := utf8.DecodeRuneInString(p)
		lp := strings.ToLower(p)
		if p == "" || !unicode.IsUpper(r) || !lex.given[lp] && !lex.surname[lp] {
			return false
		}
	}
	return true
}

func firstPart(w string) string {
	if i := strings.IndexAny(w, "-'’"); i > 0 {
		return w[:i]
	}
	return w
}

func lastPart(w string) string {
	if i := strings.LastIndexAny(w, "-'’"); i > 0 && i+1 < len(w) {
		return w[i+1:]
	}
	return w
}

// readName reads a name starting at token j: its first word, then
// capitalised words, initials and particles on the same line, at most five
// words. kind says how much the context already vouches for a name.
func (d *doc) readName(j int, kind nameCueKind) (int, int, bool) {
	n := len(d.toks)
	lex := d.e.lex
	if j >= n {
		return 0, 0, false
	}
	if j+3 < n && d.isWord(j) && (d.lw(j) == "a" || d.lw(j) == "an") && !d.toks[j].upper && d.isWord(j+1) && d.toks[j+1].letters == 1 && d.toks[j+1].upper && d.isPunct(j+2, '.') && d.capWord(j+3) {
		j++ // "signed by a J. Whitfield": the article before an initial
	}
	first := j
	if d.dobAbbrev(j) {
		return 0, 0, false // "Name: D.O.B. ...": the birth-date label
	}
	if d.isWord(j) && !d.toks[j].upper && elidedArticle(d.lw(j)) && !capitalAfterElision(d.text[d.toks[j].s:d.toks[j].e]) {
		// round 15: "i biglietti sono nell'app": a preposition's elided
		// article, not a name; "d'Amico", "dell'Orto" are surnames.
		return 0, 0, false
	}
	// Initial: "K. Nowicki".
	if d.isWord(j) && d.toks[j].letters == 1 && d.toks[j].upper && j+2 < n && d.isPunct(j+1, '.') {
		m := j + 2
		for m+1 < n && m-j < 6 && d.isWord(m) && d.toks[m].letters == 1 && d.toks[m].upper && d.isPunct(m+1, '.') {
			m += 2 // "J. R. Whitfield", "M. A. de Vries"
		}
		for m < n && m-j < 8 && d.isWord(m) && particles[d.lw(m)] {
			m++
		}
		if d.capWord(m) {
			if ok, _ := d.nameWord(m); ok && (!lex.stop[d.lw(m)] || kind == ncStrong && d.toks[m].info&wSurname != 0 && !d.toks[m].allUp) {
				// (A surname that is a word elsewhere, "J. Vos", after a
				// cue that names a person.)
				e := d.extendName(m, 4)
				return first, e, true
			}
		}
	}
	// A title: the name comes after it ("Buonasera Sig.ra Conti",
	// "received by neighbour Kowalski").
	if d.isWord(j) && (titleWords[d.lw(j)] || kind != ncTitle && d.familyWord(j)) && (kind != ncTitle || j > 0 && neighbourTitles[d.lw(j-1)]) {
		if neighbourTitles[d.lw(j)] {
			if s, e, ok := d.readName(j+1, ncTitle); ok && d.anyKnown(s, e) {
				return s, e, true
			}
			return 0, 0, false
		}
		m := j + 1
		for m < n && m-j < 4 && (d.isPunct(m, '.') || d.lw(m) == "ra" || d.lw(m) == "na" || d.lw(m) == "ssa") {
			m++
		}
		s, e, ok := d.readName(m, ncTitle)
		return s, e, ok
	}
	// Particles first after a title: "Herr van der Meer". A German article
	// is no particle on its own ("angenommen von der Nachbarin").
	if (kind == ncTitle || kind == ncStrong) && !germanArticles[d.lw(j)] {
		m := j
		for m < n && m-j < 3 && d.isWord(m) && particles[d.lw(m)] && !d.toks[m].nl {
			m++
		}
		if m > j && m < n && d.capWord(m) {
			if ok, _ := d.nameWord(m); ok {
				e := d.extendName(m, 4)
				return first, e, true
			}
		}
	}
	ok, known := d.nameWord(j)
	if !ok {
		return 0, 0, false
	}
	tk := &d.toks[j]
	lw := d.nameLower(j)
	if !tk.upper && j > 0 && copulaIntro[d.lw(j-1)] && !d.hereWord(j+1) && j+1 < n && d.isWord(j+1) && !d.toks[j+1].nl && !nameFollowers[d.lw(j+1)] {
		// "it's held at the depot", "c'est parti pour": a lower-case
		// word that the clause runs on from is a participle or adjective,
		// even when some name is spelled the same.
		return 0, 0, false
	}
	if contraction(lw) || elision(d.tokText(j)) {
		return 0, 0, false // I'm, we're, don't, J'ai, C'est, L'ho
	}
	if lex.stop[lw] && !(kind == ncTitle && tk.upper && known) &&
		// "my sister Mei Lin": a given name that is a stop word elsewhere
		// (Dutch "mei" is May), capitalised after a strong cue and followed
		// by a second name word.
		!(kind == ncStrong && tk.upper && known && j+1 < n && d.capWord(j+1) && !d.toks[j+1].nl && d.toks[j+1].sp && !lex.stop[d.lw(j+1)]) {
		return 0, 0, false
	}
	if !tk.upper && (kind == ncIntro || kind == ncGreet) && tk.letters >= 3 && !tk.allUp && d.hereWord(j+1) && cueWords[lw] == 0 &&
		(known || lex.ambiguous[lw] || !copulaIntro[d.lw(j-1)]) {
		// "hier ist moni nochmal", "sono gigi di nuovo", "it's jess
		// again": a nickname in lower case, vouched for by "again".
		return first, j, true
	}
	if tk.allUp && !known && (kind != ncStrong || tk.letters <= 4 || j > 0 && d.isWord(j-1) && d.toks[j-1].allUp) {
		// (A cue shouted in capitals too, "MY NAME IS SPELLED WRONG",
		// says nothing of an unknown word's case.)
		// Unknown capitals are acronyms (SMS, DHL, IPs), except a longer
		// surname on a form ("Name: MÜLLER").
		return 0, 0, false
	}
	if !tk.upper && !known {
		return 0, 0, false
	}
	if !tk.upper && kind == ncTitle {
		return 0, 0, false
	}
	if lex.ambiguous[lw] && !tk.upper && !(kind == ncStrong && j+1 < len(d.toks) && !d.toks[j+1].nl && d.toks[j+1].info&wSurname != 0) {
		// "nome e cognome: mario rossi": on a form a surname after it
		// vouches for a lower-case name that is also a word or brand.
		return 0, 0, false
	}
	if d.flags[j]&flagPlace != 0 {
		return 0, 0, false
	}
	if kind == ncIntro && !known && !tk.upper {
		return 0, 0, false
	}
	if !known && kind != ncStrong && kind != ncTitle && (len(lw) >= 6 && (strings.HasSuffix(lw, "ed") || strings.HasSuffix(lw, "ing")) || commonEnding(lw)) {
		// "Regards\nUpdated", "Hi, Following up", "Grazie mille,
		// Risolto": a sentence's verb or adjective.
		return 0, 0, false
	}
	e := d.extendName(j, 4)
	if kind == ncStrong && !tk.upper && e == j {
		e = d.lowerSurname(j)
	}
	if kind == ncStrong && e == j && d.brandSurname(j) {
		// "Titolare Marco Barilla, ...": after a cue that names a person,
		// a given name's surname that is a brand too, ending the clause.
		e = j + 1
	}
	return first, e, true
}

// caseEnders may follow a full name written in one case after a naming
// phrase: a conjunction, "speaking", "here", the start of a new clause.
var caseEnders = set(strings.Fields(`and but speaking here again from und aber hier nochmal aus et mais ici qui
	y pero aquí aqui desde en maar hier uit e ma qui da`))

// chatWords close a chat line and are no surname ("lol", "sorry", "pls").
var chatWords = set(strings.Fields(`thanks thx ty please pls plz sorry lol ok okay btw asap again too x xx xxx
	danke bitte merci svp stp gracias porfa grazie bedankt alsjeblieft aub`))

// caseFullName reads a name of a given name the lexicons know (or, before
// "speaking", any name-shaped word) and one to three more name-shaped
// words or particles, all in lower case or all in capitals, that then ends
// its clause; it returns the last word, or j when there is none.
func (d *doc) caseFullName(j int, kind nameCueKind) int {
	n := len(d.toks)
	if !d.isWord(j) || d.toks[j].upper && !d.toks[j].allUp || d.toks[j].digit || d.flags[j]&flagBlocked != 0 {
		return j
	}
	caps := d.toks[j].allUp
	lex := d.e.lex
	e := j
	for m := j + 1; m < n && m-j <= 4; m++ {
		tk := &d.toks[m]
		if tk.nl || tk.kind != tWord || !tk.sp || tk.digit || tk.allUp != caps || !caps && tk.upper || tk.letters < 2 {
			break
		}
		lw := d.lw(m)
		if particles[lw] && m+1 < n && d.isWord(m+1) {
			continue
		}
		if lex.stop[lw] || cueWords[lw] != 0 || caseEnders[lw] || chatWords[lw] || d.flags[m]&flagBlocked != 0 || subjectVerbs[lw] {
			break
		}
		if _, cue := nameCues[lw]; cue {
			break // "my name is daniel thanks": a thanks, not a surname
		}
		e = m
		break // a given name and a surname: "daniel whitaker", "sanne de vries"
	}
	if e == j {
		return j
	}
	end := e + 1
	speaking := end < n && d.isWord(end) && (d.lw(end) == "speaking" || d.lw(end) == "here" || d.lw(end) == "hier" || d.lw(end) == "ici" || d.lw(end) == "qui" || d.lw(end) == "aquí")
	if !(end >= n || d.toks[end].nl || d.toks[end].kind == tPunct && !d.isPunct(end, '\'') && !d.isPunct(end, '-') || d.isWord(end) && caseEnders[d.lw(end)]) {
		return j
	}
	if kind == ncIntro && !speaking && !caps {
		return j // "it's mark down, the price": an introduction in lower case needs "speaking" or "here"
	}
	lw := d.nameLower(j)
	if !lex.given[lw] && !(speaking && kind == ncIntro && !lex.stop[lw] && cueWords[lw] == 0 && d.toks[j].letters >= 3) {
		return j
	}
	return e
}

// placeParts end hyphenated place names.
var placeParts = set(strings.Fields(`stadt dorf ville city town ciudad città citta stad dorp bourg burg les-bains sur-mer`))

// nameFollowers may follow a lower-case name after "it's"/"c'est" ("it's
// jess from the shop", "c'est marie qui a commandé").
var nameFollowers = set(strings.Fields(`from who here again speaking qui de du des von vom aus van uit die der que di da dal del`))

// copulaIntro end introductions that are as often followed by an adjective
// ("it's broken again", "c'est cassé encore", "het is kapot weer"): an
// unknown lower-case word after them is no nickname.
var copulaIntro = set(strings.Fields(`it's its it’s is c'est c’est est`))

// lowerSurname extends a lower-case name read after a strong cue over at
// most two more lower-case words and particles ("in his name, john
// whitaker", "op zijn naam, bram de vries") when the name then ends its
// clause; otherwise the name stays its first word.
func (d *doc) lowerSurname(j int) int {
	n := len(d.toks)
	e := j
	for m, words := j+1, 0; m < n && words < 3; m++ {
		tk := &d.toks[m]
		if tk.nl || tk.kind != tWord || tk.upper || tk.digit || !tk.sp {
			break
		}
		lw := d.lw(m)
		if d.e.lex.stop[lw] && !particles[lw] || cueWords[lw] != 0 || d.flags[m]&flagBlocked != 0 || subjectVerbs[lw] {
			break // "mi hermana carmen quiere otro": the verb ends the name
		}
		words++
		if !particles[lw] {
			e = m
		}
	}
	if e == j || e+1 < n && !d.toks[e+1].nl && d.toks[e+1].kind == tWord {
		return j
	}
	return e
}

// extendName continues a name from its word k over capitalised words,
// particles followed by a capitalised word, and initials, on one line.
func (d *doc) extendName(k, more int) int {
	n := len(d.toks)
	lex := d.e.lex
	e := k
	unknown := 0 // words after k that no lexicon knows
	for more > 0 {
		d.work++
		m := e + 1
		if m >= n || d.toks[m].nl || !d.toks[m].sp && !d.isPunct(m, '-') {
			break
		}
		if d.nameLower(e) != d.lw(e) {
			break // possessive ends the name
		}
		// Particles: "van den Berg", "de la Fuente", "El Amrani", "van 't
		// Hof", "Lo Bianco".
		p := m
		for p < n && p-m < 4 && !d.toks[p].nl {
			l := d.particleAt(p)
			if l == 0 {
				break
			}
			p += l
		}
		if p > m {
			if p == m+1 && pairJoiners[d.lw(m)] && p < n && d.isWord(p) && (e == k && d.toks[k].info&wSurname == 0 || d.toks[p].info&wGiven != 0 && !lex.surname[d.nameLower(p)]) {
				// "Nerea y Fermín", "Ilaria e Gianni": "y"/"e" join a
				// surname to a surname ("Ortega y Gasset"), not a given
				// name to the next person's.
				break
			}
			if p < n && d.isWord(p) && (businessWord(d.lw(p)) || e == k && d.toks[k].info&wSurname == 0 && d.firmAfterParticle(p)) && !lex.surname[d.lw(p)] {
				// "Loes van Lampenfabriek Noord", "Ilse von Gartenladen":
				// "van" before a business is "from", the name ends.
				break
			}
			if p < n && d.capWord(p) && !d.toks[p].nl && (d.flags[p]&flagBlocked == 0 && !lex.stop[d.lw(p)] || d.flags[p]&flagBrand == 0 && d.articleParticle(m, p)) {
				// After an article particle ("ter Haar", "van den Bosch",
				// "von der Heide") a place's name is the surname: "van" or
				// "de" alone may still mean "from".
				e = p
				more -= p - m + 1
				continue
			}
			break
		}
		// A surname initial: "Mark T.".
		if d.isWord(m) && d.toks[m].letters == 1 && d.toks[m].upper && m+1 < n && d.isPunct(m+1, '.') && !d.toks[m+1].sp {
			e = m + 1
			break
		}
		if !d.toks[k].upper && d.isWord(m) && !d.toks[m].upper && d.toks[m].info&(wGiven|wSurname) != 0 && !lex.stop[d.lw(m)] {
			// An all lower-case name: "anna schmidt".
			e = m
			more--
			continue
		}
		if d.particleCompound(m) && d.flags[m]&flagBlocked == 0 {
			e = m // "Omar al-Farsi", "Hassan el-Amin"
			more--
			continue
		}
		if !d.capWord(m) || d.flags[m]&flagBlocked != 0 {
			break
		}
		lw := d.nameLower(m)
		if lex.stop[lw] || d.toks[m].allUp && !lex.surname[lw] && !lex.given[lw] || cueWords[lw]&(cueRef|cuePhone) != 0 && !lex.surname[lw] {
			break
		}
		known := d.toks[m].info&(wGiven|wSurname) != 0 || lex.given[firstPart(lw)] || lex.surname[lastPart(lw)]
		if !known && unknown > 0 && d.lang == "de" {
			// German capitalises nouns: a second word the lexicons do not
			// know after a name is more likely a noun ("Paul Hewitt
			// Armreif") than a second surname.
			break
		}
		if !known {
			unknown++
		}
		if _, isCue := nameCues[lw]; isCue && !lex.surname[lw] && !lex.given[lw] {
			break
		}
		e = m
		more--
	}
	return e
}

// firmAfterParticle reports two capitalised words after a particle at p
// whose first no lexicon knows as a name ("Sietske van Fietsenmaker Bos",
// "sono Ottavia di Ceramiche Bellini"): after a lone given name a surname
// with a particle is one word, so "van"/"di"/"de" is "from" and a
// business follows. (After a surname it may be a compound one: "Ruiz de
// Alarcón Vega".)
func (d *doc) firmAfterParticle(p int) bool {
	if d.capWord(p) && !nameShaped(d.tokText(p)) && d.toks[p].info&(wGiven|wSurname) == 0 {
		return true // "Macarena de ElectroHogar": a brand written in camel case
	}
	if p+1 >= len(d.toks) || !d.capWord(p) || !d.capWord(p+1) || d.toks[p+1].nl || d.toks[p].info&(wGiven|wSurname) != 0 {
		return false
	}
	lw := d.lw(p)
	return !d.e.lex.given[firstPart(lw)] && !d.e.lex.surname[lastPart(lw)]
}

// lexiconName finds a name that starts with a known given name.
func (d *doc) lexiconName(k int) (int, int, bool) {
	if !d.isWord(k) || !d.toks[k].upper {
		return 0, 0, false
	}
	lex := d.e.lex
	if d.toks[k].info&wGiven == 0 && !strings.ContainsAny(d.tokText(k), "-'’") {
		return 0, 0, false
	}
	lw := d.nameLower(k)
	if contraction(d.lw(k)) {
		return 0, 0, false // "Don't", "Can't" opening a quoted text message
	}
	if elidedArticle(d.lw(k)) || d.ampersandBrand(k) || d.invertedAdverb(k) {
		return 0, 0, false // "Nell'ordine", "Viktor&Rolf", "Dan sturen we"
	}
	if !lex.given[lw] && !lex.given[firstPart(lw)] || lex.stop[lw] || d.flags[k]&flagBlocked != 0 || d.toks[k].allUp {
		return 0, 0, false
	}
	if ok, _ := d.nameWord(k); !ok {
		return 0, 0, false
	}
	if i := strings.IndexByte(lw, '-'); i > 0 && !lex.given[lw] && !d.compoundOfNames(k) {
		// "Engel-Figur", "Fleur-print", "Bas-gitaar": a German or Dutch
		// compound that starts with a given name; a double name is names
		// throughout (Hans-Peter, Anne-Marie, Marie-Dupont).
		return 0, 0, false
	}
	// After a street or place word the name belongs to it, also further
	// into the street's name ("Corso Vittorio Emanuele", "Calle Juan
	// Bravo", "Via Giuseppe Verdi").
	for m := k - 1; m >= 0 && m >= k-4 && !d.toks[m+1].nl; m-- {
		if prefixTypes[d.lw(m)] && d.isWord(m) {
			return 0, 0, false
		}
		if !d.capWord(m) && !(d.isWord(m) && streetConnectors[d.lw(m)]) {
			break
		}
	}
	if k > 0 && d.isWord(k-1) && brandWords[d.lw(k-1)] && !d.toks[k].nl {
		return 0, 0, false // "la marca Valentina Promesas": a brand named after its founder
	}
	// Right after a brand it names a product ("Amazon Alexa", "Corolle
	// Marie", "Lego Friends Emma's House").
	if k > 0 && d.flags[k-1]&flagBrand != 0 && d.toks[k].sp && !d.toks[k].nl {
		return 0, 0, false
	}
	e := d.extendName(k, 4)
	if e > k && placeSuffixWords[d.lw(e)] {
		return 0, 0, false
	}
	if e+1 < len(d.toks) && d.isWord(e+1) && !d.toks[e+1].nl && characterGoods[d.lw(e+1)] {
		// "the Lara Croft figure", "Sam figures", "Elsa costume": a
		// character's merchandise, not a person.
		return 0, 0, false
	}
	if d.productName(k, e) || d.shopBoughtAt(k, e) || d.quotedModel(k, e) || d.deliveredIn(k) {
		return 0, 0, false
	}
	if lex.ambiguous[lw] {
		supported := e > k && (lex.surname[d.nameLower(e)] || lex.surname[lastPart(d.nameLower(e))])
		if !supported && d.sentenceStart(k) && k+1 < len(d.toks) && subjectVerbs[d.lw(k+1)] {
			supported = true
		}
		// An object pronoun between subject and verb: "Rosa lo quiere",
		// "Violette la veut", "Rosa la vuole".
		if !supported && d.sentenceStart(k) && k+2 < len(d.toks) && d.isWord(k+1) && objectClitics[d.lw(k+1)] && subjectVerbs[d.lw(k+2)] {
			supported = true
		}
		if !supported && d.personUse(k, e) {
			supported = true
		}
		if !supported {
			return 0, 0, false
		}
	}
	return k, e, true
}

// Round 10: a given name that is also a word ("Céleste", "Pierre",
// "Viola", "Olive") is used as a person's in the same message where the
// word names a colour or a material: as the subject of a verb of coming
// or collecting after "est-ce que", or as whom a purchase is for.

// modalVerbs after a subject say what someone can or will do ("Céleste
// peut récupérer", "Olive kann abholen", "Amber will collect").
var modalVerbs = set(strings.Fields(`can will may could peut pourra pourrait va vient viendra kann wird darf kommt holt
	puede podrá va viene recoge kan zal mag komt haalt può potrà viene ritira passa`))

// copulaInfinitives after a modal describe the word ("Olive can be a
// nice colour"), not what a person does.
var copulaInfinitives = set(strings.Fields(`be look seem être sembler sein werden aussehen ser estar parecer zijn worden lijken essere stare sembrare`))

// indefArticles open a description after a copula ("peut être une
// couleur").
var indefArticles = set(strings.Fields(`a an une un ein eine einen una uno een`))

// brandWords say the next words are a brand ("la marca Valentina
// Promesas", "the brand ...", "die Marke ...").
var brandWords = set(strings.Fields(`brand brands label marke marken label marque marques marca marcas merk merken marchio marchi`))

// purchaseVerbs1 are a buyer's first-person verbs after "for <Name>"
// ("Per Viola prendo ...", "For Amber I'll take ...").
var purchaseVerbs1 = set(strings.Fields(`prendo compro ordino scelgo nehme kaufe bestelle prends achète commande choisis
	tomo pido elijo neem koop bestel kies i i'll i’ll ich je j'ai je prends io yo ik`))

// forWordsStart open a sentence with whom a purchase is for.
var forWordsStart = set(strings.Fields(`for für pour para per voor`))

// personUse reports the name k..e used as a person: a modal or subject
// verb after it where a sentence or "est-ce que" opens before it; "for
// <Name>" opening a sentence before a buyer's verb; or an apposition of
// kin after a comma ("pour Pierre, mon fils").
func (d *doc) personUse(k, e int) bool {
	n := len(d.toks)
	start := d.sentenceStart(k) || k >= 2 && d.isWord(k-1) && d.lw(k-1) == "que" && d.lw(k-2) == "est-ce"
	if start && e+1 < n && d.isWord(e+1) && (modalVerbs[d.lw(e+1)] || subjectVerbs[d.lw(e+1)]) && !(e+3 < n && d.isWord(e+2) && copulaInfinitives[d.lw(e+2)] && d.isWord(e+3) && indefArticles[d.lw(e+3)]) {
		// (Not "Rose peut être une couleur", "Olive can be a colour".)
		return true
	}
	if k >= 1 && d.isWord(k-1) && forWordsStart[d.lw(k-1)] && d.sentenceStart(k-1) && e+1 < n && d.isWord(e+1) && purchaseVerbs1[d.lw(e+1)] {
		return true
	}
	if e+3 < n && d.isPunct(e+1, ',') && d.isWord(e+2) && possessive[d.lw(e+2)] && d.isWord(e+3) && kinWords[d.lw(e+3)] {
		return true
	}
	return d.callName(k)
}

// callVerbs ask the reader to call or text someone; callInfinitives end a
// German, Dutch or French instruction ("bei Fragen Jörg anrufen").
var callVerbs = set(strings.Fields(`call ring phone text ruf rufen sie bel belt bellen appelez appelle appeler llama llamad llamar
	llámame chiama chiamate chiamare`))

var callInfinitives = set(strings.Fields(`anrufen bellen appeler`))

// phonePreps join a name to the number to call it on ("call Bev on 07700
// ...", "chiamate Gino al 333 ...").
var phonePreps = set(strings.Fields(`on at op au al unter sur`))

// callName reports a name-shaped word at k as whom to call: after a call
// verb with a number or the clause's end after it ("call Bev on 07700
// 900123", "llamad a Paqui."), or before a call infinitive that ends the
// clause ("bei Fragen Jörg anrufen"); in German a known given name only.
func (d *doc) callName(k int) bool {
	n := len(d.toks)
	if k < 1 || k+1 >= n || !d.capWord(k) || d.toks[k].nl || d.toks[k].allUp {
		return false
	}
	before := d.toks[k-1].info&wCall != 0 && callVerbs[d.lw(k-1)]
	if !before && d.toks[k+1].info&wCall == 0 {
		return false // most words: neither a call verb before nor an infinitive after
	}
	known := d.toks[k].info&wGiven != 0
	if !known && (d.lang == "de" || !d.nameLikeWord(k)) || d.flags[k]&flagBlocked != 0 || d.e.lex.stop[d.lw(k)] {
		return false
	}
	if before {
		if d.isWord(k+1) && phonePreps[d.lw(k+1)] && k+2 < n && d.toks[k+2].kind == tNum {
			return true
		}
		return known && (d.isPunct(k+1, '.') || d.isPunct(k+1, '!') || d.isPunct(k+1, ','))
	}
	if d.isWord(k+1) && callInfinitives[d.lw(k+1)] && (k+2 >= n || d.toks[k+2].kind == tPunct || d.toks[k+2].nl) {
		return known
	}
	return false
}

// businessWords name a trade or an institution; capitalised in a name,
// they make it a business's ("Jansen Meubelen", "Autohaus Becker",
// "Boulangerie Martin", "Stichting De Vries").
var businessWords = set(strings.Fields(`meubelen möbel meubles muebles mobili furniture bakkerij bäckerei boulangerie
	panadería panificio bakery autobedrijf autohaus garage transport transporte logistiek logistik logistics
	installatietechniek bouw bau tuincentrum gartencenter schoenen schuhe chaussures zapatos calzature shoes mode moda
	fashion textiel kapsalon friseur coiffure peluquería parrucchiere apotheek apotheke pharmacie farmacia pharmacy
	drogisterij drogerie optiek optik optique óptica ottica opticians juwelier juwelen schmuck bijouterie joyería
	gioielleria jewellers jewelers fietsen fahrräder vélos bicicletas cycles motors automobile immobilien makelaardij
	vastgoed keukens küchen cuisines cocinas cucine kitchens verhuur vermietung alquiler noleggio rentals groothandel
	großhandel wholesale handelsonderneming consultancy beratung diensten dienstleistungen services
	stichting stiftung fondation fundación fondazione foundation fonds vereniging verein association asociación
	associazione ziekenhuis klinik clinique clínica clinica universiteit universität université universidad università
	university museum
	centro centre center studio club società cooperativa ippico equestre hípico cabinet officina taller talleres
	metzgerei gärtnerei schreinerei agenzia agence agencia agentur istituto institut instituto scuola école escuela
	schule academy accademia academia akademie ristorante restaurant restaurante pizzeria trattoria hotel praxis`))

// businessWord reports a trade word or a compound ending in one
// ("Cultuurfonds", "Familiebedrijf").
func businessWord(lw string) bool {
	if businessWords[lw] {
		return true
	}
	for _, suf := range []string{"fonds", "stichting", "stiftung", "meubelen", "möbel", "bedrijf", "fabriek", "fabrik", "winkel",
		"shop", "store", "laden", "handel", "markt", "zaak", "werkstatt", "atelier",
		// Care homes and residences ("Seniorenstift Lindenhof", "Zorgcentrum
		// De Linde").
		"stift", "residenz", "pflegeheim", "altenheim", "seniorenheim", "zentrum", "centrum", "klinikum", "verpleeghuis",
		// Clubs and practices ("Reitverein Lindenhof", "Zahnarztpraxis Ferri").
		"verein", "praxis"} {
		if len(lw) > len(suf)+2 && strings.HasSuffix(lw, suf) {
			return true
		}
	}
	return false
}

// familyWords before a surname are outside the name, like a title
// ("Fam. de Boer", "Familie Meier").
var familyWords = set(strings.Fields(`fam familie famille familia famiglia family`))

// familyWord: token j is a family word (they all start with "f"; the map
// is asked only then, since readName runs for every cue).
func (d *doc) familyWord(j int) bool {
	w := d.lw(j)
	return len(w) >= 3 && w[0] == 'f' && familyWords[w]
}

// addName adds a PERSON from token s to e, without a possessive 's.
func (d *doc) addName(s, e int, score float64, rec string) {
	// A title is outside the span ("Sig.", "Sr.", "Hr."); a title alone is
	// no name.
	for s <= e && d.isWord(s) && (titleWords[d.lw(s)] || s < e && d.familyWord(s)) && d.toks[s].letters > 1 && !d.e.lex.surname[d.lw(s)] {
		s++
		for s <= e && (d.isPunct(s, '.') || d.isWord(s) && (d.lw(s) == "ra" || d.lw(s) == "na" || d.lw(s) == "ssa")) {
			s++
		}
	}
	// A job title before the name is outside the span too
	// ("Konditormeisterin Sabine Krüger", "Filialleiter Jonas Becker").
	for s < e && d.isWord(s) && d.toks[s].upper && d.capWord(s+1) && jobTitle(d.lw(s)) && !d.e.lex.surname[d.lw(s)] {
		s++
	}
	if s > e {
		return
	}
	for m := s + 1; m <= e; m++ {
		// Round 13: a name ends before where its bearer works ("Björn von
		// der Spedition", "Lotte van de klantenservice").
		if particles[d.lw(m)] && d.fromTeam(m) {
			e = m - 1
			break
		}
	}
	for m := s; m <= e; m++ {
		// Round 13: a credential word is no one's name ("Password del wifi
		// ...", "PIN vom Konto"), whichever rule read it as one.
		if lw := d.lw(m); d.isWord(m) && (passwordCues[lw] || otpCues[lw] || keyCues[lw]) && !d.e.lex.given[lw] && !d.e.lex.surname[lw] {
			return
		}
	}
	if e > s && d.isWord(s) && buildingWords[d.lw(s)] && !d.e.lex.given[d.lw(s)] {
		// "Spedire a Residenza Le Ginestre": a residence, not a person.
		return
	}
	if e > s && d.isWord(e) && buildingWords[d.lw(e)] && e+2 < len(d.toks) && d.isPunct(e+1, ',') && d.toks[e+2].kind == tNum {
		// "Deliver to Ashdown Court, 14 Beech Road": a building before
		// its street and number, not a person.
		return
	}
	for m := s; m <= e; m++ {
		if d.isWord(m) && d.toks[m].upper && businessWord(d.lw(m)) {
			// "Jansen Meubelen", "Prins Bernhard Cultuurfonds", "Bakkerij
			// Visser": a business or foundation named after a person.
			return
		}
	}
	start, end := d.toks[s].s, d.toks[e].e
	lw := d.lw(e)
	if strings.HasSuffix(lw, "'s") {
		end -= 2
	} else if strings.HasSuffix(lw, "’s") {
		end -= 4
	}
	d.add(start, end, Person, score, rec)
}

// nameGoalPreps introduce who something is for, to or from ("for james",
// "für lena", "pour léa", "para marta", "voor sanne", "per giulia").
var nameGoalPreps = set(strings.Fields(`for to from with für an von mit pour avec para con voor aan van met per`))

// personPronouns refer back to a person: after "for james," they say the
// lower-case word was a person's name.
var personPronouns = set(strings.Fields(`he she er sie il elle él ella hij zij lui lei`))

// lowerThanksName reports a lower-case given name the lexicon knows (also
// one that is a word too) that ends the message, before only punctuation
// or kisses ("thanks tommy", "ok thank u ciara x").
func (d *doc) lowerThanksName(j int) bool {
	n := len(d.toks)
	if !d.isWord(j) || d.toks[j].upper || d.toks[j].digit || d.toks[j].info&wGiven == 0 || d.flags[j]&flagBlocked != 0 || d.toks[j].nl {
		return false
	}
	if lw := d.lw(j); d.e.lex.stop[lw] || cueWords[lw] != 0 || signatureClosers[lw] {
		return false
	}
	for m := j + 1; m < n; m++ {
		if d.toks[m].kind == tPunct {
			continue
		}
		if lw := d.lw(m); lw != "x" && lw != "xx" && lw != "xxx" && lw != "xoxo" {
			return false
		}
	}
	return true
}

// articleParticle reports whether the particles m..p-1 end in an article
// or a fused one ("ter", "ten", "van 't", "van der", "von der"), so the
// capitalised word after them is a surname even when it is also a word or
// a place ("ter Haar", "van den Bosch"), not a place the person is from.
func (d *doc) articleParticle(m, p int) bool {
	switch d.lw(p - 1) {
	case "ter", "ten", "t", "van't":
		return true
	case "der", "den":
		return p-1 > m && (d.lw(m) == "van" || d.lw(m) == "von")
	}
	return false
}

// lineEndsAt reports whether only punctuation follows token e on its line.
func (d *doc) lineEndsAt(e int) bool {
	for m := e + 1; m < len(d.toks); m++ {
		if d.toks[m].nl {
			return true
		}
		if d.toks[m].kind != tPunct {
			return false
		}
	}
	return true
}

// titleBinders bind a relation title to its clause ("bei Nachbar …",
// "with my neighbour …", "chez la voisine …").
var titleBinders = set(strings.Fields(`bei beim mit von vom an zu zum zur with to from by at my our your the mein meine meinem meiner meinen unser unsere
	unserem unserer dem der den die chez à avec de par ma mon notre la le con a al da mi nuestro nuestra el
	dal dalla alla col mio mia nostro nostra il bij met van aan mijn onze de`))

// boundTitle reports whether the title at k follows a preposition or a
// determiner, so the word after it is the relation's name: "bei Nachbarin
// Oltmanns" names her, a bare "Nachbar Paket" names no one.
func (d *doc) boundTitle(k int) bool {
	return k > 0 && d.isWord(k-1) && !d.toks[k].nl && titleBinders[d.lw(k-1)]
}

// germanSurnameShape: endings of German surnames that no German noun has
// (Lindemann, Oltmanns, Kowalski, Jankowitz), since German capitalises
// every noun ("bei Nachbar Garten" names no one).
func germanSurnameShape(w string) bool {
	for _, suf := range [...]string{"mann", "manns", "ski", "ska", "sky", "witz", "itz", "ow", "ek", "ić", "meier", "mayer", "maier", "ke", "sen", "ssen"} {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			return true
		}
	}
	return false
}
