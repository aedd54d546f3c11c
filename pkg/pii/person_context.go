package pii

import "strings"

// Round 5: words the message itself says are no person. A chat assistant
// introduces itself by name ("I'm Kiwi, Northgate's virtual assistant"), a
// customer greets it by that name before asking for a human ("Hola Lupa,
// quiero hablar con un humano"), a place is named by its apposition
// ("Victoria the city", "Georgia (the US state)") and a pet by its kind
// ("mon chien s'appelle Paris"). Each trigger word carries the wNotPerson
// bit, so a message without one pays a bit test per token.

// botWords name a chat assistant.
var botWords = set(strings.Fields(`assistant assistants chatbot bot chat-bot assistent assistente assistentin
	asistente chatbotje l'assistant l’assistant l'assistante l’assistante l'assistente l’assistente l'asistente
	assistante helper-bot shopbot chatassistent`))

// appositionWords reports whether tokens a..b-1 can stand between a name
// and the bot word of its apposition: emoji and punctuation, capitalised
// words (the shop's name) and the few lower-case words of such a phrase,
// never a verb or conjunction ("I'm Sarah and the bot ..." is no bot's name).
func (d *doc) appositionWords(a, b int) bool {
	for m := a; m < b; m++ {
		if d.isWord(m) && !d.toks[m].upper && !botApposition[d.lw(m)] {
			return false
		}
	}
	return true
}

// botApposition are the lower-case words of "the X virtual assistant".
var botApposition = set(strings.Fields(`the your our a an virtual digital helper friendly ai shopping support chat
	le la l' l’ votre notre un une virtuel virtuelle numérique el tu su nuestro asistente virtual
	der die das dein ihr euer unser digitale digitaler virtuelle virtueller de het je jouw uw onze virtuele digitale
	il lo la tuo vostro nostro virtuale digitale`))

// botIntros introduce the assistant by its name ("I'm", "je suis", "soy").
var botIntros = set(strings.Fields(`i'm i’m im am suis bin soy sono ben heiße heisse llamo appelle chiamo heet`))

// humanWords ask for a person instead of the assistant that was greeted.
var humanWords = set(strings.Fields(`human humans humano humana humanos mensch menschen mens humain humaine umano umana`))

// placeNouns after a name in apposition make it a place ("Victoria the
// city", "Georgia (the US state)", "Paris la ville").
var placeNouns = set(strings.Fields(`city town village state country island county province region capital
	ville état pays île région capitale stadt staat dorf insel provinz hauptstadt bundesland
	ciudad pueblo estado país isla región provincia stad dorp eiland provincie hoofdstad città paese stato isola
	regione`))

// petWords: a name given to one of these is an animal's.
var petWords = set(strings.Fields(`dog dogs cat cats puppy kitten pup hamster rabbit bunny horse pony parrot
	chien chienne chat chatte chiot chaton lapin cheval hund hündin katze kater welpe hase pferd
	perro perra perrito perrita gato gata gatito conejo caballo hond hondje kat kater poes konijn paard
	cane cagnolino cagnolina gatto gatta gattino coniglio cavallo
	mare stallion foal parakeet budgie canary goldfish tortoise turtle guinea-pig ferret gerbil
	jument poney perroquet perruche canari poisson-rouge tortue cochon-d'inde furet lapine
	stute hengst fohlen papagei wellensittich kanarienvogel goldfisch schildkröte meerschweinchen frettchen häsin kaninchen
	yegua potro poni loro periquito canario pececito tortuga cobaya hurón coneja
	merrie veulen pony papegaai parkiet kanarie goudvis schildpad cavia fret
	cavalla giumenta puledro pony pappagallo cocorita canarino pesciolino tartaruga criceto furetto coniglietta`))

// petPronouns may stand between a pet noun and its naming verb ("la
// chienne (elle s'appelle Margot)", "the mare, she is called ...").
var petPronouns = set(strings.Fields(`she he it her his elle il lui ella él lei lui sie er es zij hij ze het`))

// nameNouns say "name" ("Ramón es un nombre estupendo para un loro").
var nameNouns = set(strings.Fields(`name nom prénom nombre naam nome`))

// placeArticles may stand between a name and its place noun.
var placeArticles = set(strings.Fields(`the la le l el die der das de het il lo a an`))

// notPerson looks at the trigger word at k and records the word it says
// is no person.
func (d *doc) notPerson(k int) {
	lw := d.lw(k)
	switch {
	case humanWords[lw]:
		d.wantsHuman = true
	case botWords[lw] || botWords[elided(lw)]:
		// The assistant's name stands before a comma that opens the
		// apposition: "Ich bin Fidi, der digitale Assistent", "Sono Pepe 🌶️,
		// l'assistente virtuale", "Kiwi here, your assistant".
		for m := k - 1; m >= 0 && m >= k-8; m-- {
			if d.toks[m+1].nl || d.isPunct(m, '.') || d.isPunct(m, '?') || d.isPunct(m, '!') {
				return
			}
			if d.capWord(m) && m > 0 && d.isWord(m-1) && botIntros[d.lw(m-1)] && d.appositionWords(m+1, k) {
				// "I'm Juniper 🌿 the Harbourside helper bot": no comma,
				// the introduced name opens the apposition.
				d.noteNotName(m)
				return
			}
			if d.isPunct(m, ',') {
				j := m - 1
				for j >= 0 && j >= m-3 && (!d.isWord(j) || d.toks[j].letters == 0 && !d.toks[j].digit) && !d.isPunct(j, '.') && !d.isPunct(j, '!') && !d.isPunct(j, '?') {
					j-- // an emoji after the name ("Soy Lupa 🔎,"), or its variation selector
				}
				if j >= 0 && d.hereWord(j) {
					j-- // "Kiwi here, your assistant"
				}
				if d.capWord(j) {
					d.noteNotName(j)
				}
				return
			}
		}
	case placeNouns[lw]:
		// "Victoria the city", "Georgia (the US state)": name, a bracket,
		// an article, at most one qualifier, the place noun.
		m := k - 1
		if m >= 0 && (d.capWord(m) && d.toks[m].allUp || d.isWord(m) && !d.toks[m].upper && m > 0 && placeArticles[d.lw(m-1)]) && !placeArticles[d.lw(m)] {
			m-- // "the US state", "the capital city"
		}
		if m < 0 || !d.isWord(m) || !placeArticles[d.lw(m)] || d.toks[m].nl {
			return
		}
		m--
		if m >= 0 && d.isPunct(m, '(') {
			m--
		}
		if d.capWord(m) && !d.toks[m+1].nl {
			d.noteNotName(m)
		}
	case petWords[lw] && !(lw == "loro" && d.lang != "es") && !(lw == "mare" && d.lang != "en"):
		// "loro" is "they" in Italian, "mare" the sea.
		// "my dog Paris", "mon chien s'appelle Paris", "unser Hund heißt
		// Bello", "il mio cane si chiama Luna".
		m := k + 1
		for m < len(d.toks) && m <= k+6 && (d.isWord(m) && !d.toks[m].upper && (namingCues[d.lw(m)] || petNaming[d.lw(m)] || namingAdverbs[d.lw(m)] || petPronouns[d.lw(m)]) || d.isPunct(m, '(') || d.isPunct(m, ',')) {
			m++
		}
		if d.capWord(m) && !d.toks[m].nl {
			d.noteNotName(m)
		}
		// "Henk de goudvis", "Charlie, our dog": the name before the pet
		// noun and its article or possessive, as an apposition.
		if a := k - 1; a > 0 && d.isWord(a) && (placeArticles[d.lw(a)] || possessives[d.lw(a)]) && !d.toks[a].nl {
			if b := a - 1; b > 0 && d.isPunct(b, ',') {
				a = b
			}
			if d.capWord(a-1) && !d.toks[a].nl {
				d.noteNotName(a - 1)
			}
		}
		// "Ramón es un nombre estupendo para un loro", "Charlie is a great
		// name for a dog": the name that a name noun before the pet noun
		// speaks of.
		for m := k - 1; m >= 0 && m >= k-5 && !d.sentenceBreak(m+1); m-- {
			if d.isWord(m) && nameNouns[d.lw(m)] {
				for c := m - 1; c >= 0 && c >= m-5; c-- {
					if d.capWord(c) {
						d.noteNotName(c)
						break
					}
					if d.sentenceBreak(c + 1) {
						break
					}
				}
				break
			}
		}
	}
}

// petNaming are the single words of the naming phrases after a pet noun.
var petNaming = set(strings.Fields(`is called named heißt heisst s'appelle s’appelle se llama heet si chiama hieß
	chiamato chiamata llamado llamada genannt nommé nommée appelé appelée`))

// noteNotName records token k's word; blockNotNames flags every mention.
func (d *doc) noteNotName(k int) {
	if len(d.notNames) < 8 {
		d.notNames = append(d.notNames, d.nameLower(k))
	}
}

func (d *doc) blockNotNames() {
	if d.wantsHuman {
		// The name greeted at the message's start is the assistant's.
		for k := 0; k+1 < len(d.toks) && k < 6; k++ {
			if d.isWord(k) && d.toks[k].info&wNameCue != 0 && greetWord(d.lw(k)) && d.capWord(k+1) {
				d.noteNotName(k + 1)
				break
			}
		}
	}
	if len(d.notNames) == 0 {
		return
	}
	for k := range d.toks {
		if !d.capWord(k) && !d.isWord(k) {
			continue
		}
		lw := d.nameLower(k)
		for _, w := range d.notNames {
			if w == lw {
				d.flags[k] |= flagBlocked | flagNotName
			}
		}
	}
}

// spanFlagged reports whether a token from s to e carries flag f.
func (d *doc) spanFlagged(s, e int, f uint8) bool {
	for m := s; m <= e && m < len(d.flags); m++ {
		if d.flags[m]&f != 0 {
			return true
		}
	}
	return false
}

// introVerb reports a one-word introduction ("soy", "sono", "bin"): after
// a greeting it starts the writer's sentence, it is not the greeted name.
func introVerb(lw string) bool {
	for _, c := range nameCues[lw] {
		if c.kind == ncIntro && len(c.words) == 1 && len(lw) > 2 {
			return true
		}
	}
	return false
}

// greetWord reports a one-word greeting ("hallo", "ciao").
func greetWord(lw string) bool {
	for _, c := range nameCues[lw] {
		if c.kind == ncGreet && len(c.words) == 1 {
			return true
		}
	}
	return false
}

// contactRoles name a contact person without a colon; they need a name
// the lexicons know.
var contactRoles = set([]string{"referente", "referent", "referentin", "contactpersoon", "ansprechpartnerin",
	"interlocuteur", "interlocutrice", "contact person", "persona de contacto", "persona di riferimento"})

// alsoWords may stand between a naming verb and the name.
var alsoWords = set(strings.Fields(`auch ebenfalls aussi también tambien ook anche pure too also`))

// lowerKnownGiven reports a lower-case given name the lexicons know that
// is no ordinary word, stop word or blocked token.
func (d *doc) lowerKnownGiven(j int) bool {
	if !d.isWord(j) || d.toks[j].upper || d.toks[j].digit || d.toks[j].info&wGiven == 0 || d.flags[j]&flagBlocked != 0 {
		return false
	}
	lw := d.lw(j)
	return !d.e.lex.ambiguous[lw] && !d.e.lex.stop[lw] && cueWords[lw] == 0
}

// lastWord reports whether only punctuation follows token k.
func (d *doc) lastWord(k int) bool {
	for m := k + 1; m < len(d.toks); m++ {
		if d.toks[m].kind != tPunct {
			return false
		}
	}
	return true
}

// fromDept is fromTeam for the back-office departments (deptWords).
func (d *doc) fromDept(j int) bool {
	switch d.lw(j) {
	case "from", "vom", "von", "de", "du", "del", "van", "dal", "dello", "della", "of", "in", "en":
	default:
		return false
	}
	for m := j + 1; m < len(d.toks) && m <= j+3; m++ {
		if d.toks[m].nl || !d.isWord(m) {
			return false
		}
		if deptWords[d.lw(m)] {
			return true
		}
	}
	return false
}
