package pii

import (
	_ "embed"
	"strings"
	"sync"
)

// The lexicons ship inside the binary (lexicon/README.md says where they
// come from); nothing is fetched at run time. Each is a string, so the
// words parsed from it point into the binary's read-only data instead of
// into a copy on the heap (an embed.FS hands out copies, which the parsed
// words then kept alive).
var (
	//go:embed lexicon/given.txt
	givenTxt string
	//go:embed lexicon/surnames.txt
	surnamesTxt string
	//go:embed lexicon/ambiguous.txt
	ambiguousTxt string
	//go:embed lexicon/stop.txt
	stopTxt string
	//go:embed lexicon/brands.txt
	brandsTxt string
	//go:embed lexicon/places.txt
	placesTxt string
)

var lexiconFiles = map[string]*string{
	"given.txt": &givenTxt, "surnames.txt": &surnamesTxt, "ambiguous.txt": &ambiguousTxt,
	"stop.txt": &stopTxt, "brands.txt": &brandsTxt, "places.txt": &placesTxt,
}

// lexiconLines returns a lexicon's lines without comments and blank lines,
// trimmed and folded.
func lexiconLines(file string) []string {
	src, ok := lexiconFiles[file]
	if !ok {
		panic("pii: embedded lexicon missing: " + file) // a build defect, not an input error
	}
	s := *src
	out := make([]string, 0, strings.Count(s, "\n")+1)
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		out = append(out, foldString(line))
	}
	return out
}

// lexicon is the read-only word lists the name and address recognisers use.
type lexicon struct {
	given     map[string]bool
	surname   map[string]bool
	ambiguous map[string]bool // names that are also common words
	stop      map[string]bool // never a name after a cue
	brand1    map[string]bool // one-word brands that are no one's name
	phrases   map[string][][]string
	// phrases holds multi-word brands and places by first word; kind says
	// which.
	phraseKind map[string]byte // joined phrase → 'b' brand, 'p' place
	place1     map[string]bool // one-word places
	// info holds, per word, which tables know it, so each scanner tests a
	// bit of the token instead of looking the word up in its own map.
	info map[string]wordInfo
}

// wordInfo is a set of the tables a word appears in.
type wordInfo uint32

const (
	wGiven wordInfo = 1 << iota
	wSurname
	wPhrase // first word of a brand or place phrase
	wBrandOrPlace
	wNameCue
	wSecretCue
	wBirth
	wStreet // street type, German street preposition
	wSpoken
	wAt
	wNotPerson // a word that says a nearby name is no person's (person_context.go)
	// Round 10's trigger words, so that a message without one pays a bit
	// test per token: a job noun, a doorbell word, a bank, a call verb.
	wJob
	wBell
	wBank
	wCall
	// Round 11: an entrance, a key box or a parcel collection (secret_entry.go).
	wEntry
	// Round 12 (person_positions.go): a role only a person fills, a speech verb, a gift
	// noun or "met"/"mit" (each scanner checks its own table after the bit); a joiner before "I".
	wRole
	wJoin
)

var (
	lexOnce sync.Once
	lexVal  *lexicon
)

// defaultLexicon parses the embedded lists once per process; every engine
// shares the result, which is never written after.
func defaultLexicon() *lexicon {
	lexOnce.Do(func() { lexVal = loadLexicon() })
	return lexVal
}

// words returns a word list's words (several to a line).
func words(file string) []string {
	var out []string
	for _, line := range lexiconLines(file) {
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// lines returns a phrase list's entries (one to a line).
func lines(file string) []string { return lexiconLines(file) }

// foldString is foldRune over s: the lexicons are folded as the tokens are.
func foldString(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "ı", "i")
}

func set(ws []string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

func loadLexicon() *lexicon {
	l := &lexicon{
		given:      set(words("given.txt")),
		surname:    set(words("surnames.txt")),
		ambiguous:  set(words("ambiguous.txt")),
		stop:       set(words("stop.txt")),
		brand1:     map[string]bool{},
		phrases:    map[string][][]string{},
		phraseKind: map[string]byte{},
		place1:     map[string]bool{},
	}
	for w := range l.ambiguous {
		l.given[w] = true
	}
	addPhrase := func(p string, kind byte) {
		ws := phraseWords(p)
		if len(ws) == 0 {
			return
		}
		if len(ws) == 1 {
			w := ws[0]
			switch {
			case kind == 'p':
				l.place1[w] = true
			case l.given[w] || l.surname[w]:
				// A brand that is also a name ("Hugo", "Otto") needs support.
				l.ambiguous[w] = true
			default:
				l.brand1[w] = true
			}
			return
		}
		l.phrases[ws[0]] = append(l.phrases[ws[0]], ws)
		l.phraseKind[strings.Join(ws, " ")] = kind
	}
	for _, p := range lines("brands.txt") {
		addPhrase(p, 'b')
	}
	for _, p := range lines("places.txt") {
		addPhrase(p, 'p')
	}
	l.info = map[string]wordInfo{}
	mark := func(bit wordInfo, ws map[string]bool) {
		for w, ok := range ws {
			if ok {
				l.info[w] |= bit
			}
		}
	}
	mark(wGiven, l.given)
	mark(wSurname, l.surname)
	for w := range l.phrases {
		l.info[w] |= wPhrase
	}
	mark(wBrandOrPlace, l.brand1)
	mark(wBrandOrPlace, l.place1)
	for w := range nameCues {
		l.info[w] |= wNameCue
	}
	mark(wSecretCue, passwordCues)
	mark(wSecretCue, otpCues)
	mark(wSecretCue, keyCues)
	mark(wSecretCue, changeVerbs)
	mark(wSecretCue, credWords)
	l.info["secure"] |= wSecretCue // after "3D" / "3-D" (scanSecrets)
	l.info["passe"] |= wSecretCue
	mark(wBirth, birthCues)
	mark(wBirth, birthYearWords) // scanBirthYearDates
	mark(wJob, jobNouns)
	mark(wBell, bellWords)
	mark(wBank, bankWords)
	mark(wEntry, entryBoxWords)
	mark(wEntry, entryNouns)
	mark(wEntry, collectionWords)
	mark(wRole, personRoles)
	mark(wRole, giftNouns)
	mark(wRole, secretNouns)    // secret_clause.go: "code secret", "geheime code"
	mark(wRole, extraCodeCues)  // Geheimzahl, PUK
	mark(wRole, unlockVerbs)    // "unlock … with 7741"
	for w := range pluralCues { // "my passwords are …"
		l.info[w] |= wRole
	}
	for w := range speechVerbs {
		l.info[w] |= wRole
	}
	for _, w := range []string{"person", "met", "mit"} {
		l.info[w] |= wRole
	}
	for w := range firstPersonAfterJoiner {
		l.info[w] |= wJoin
	}
	mark(wCall, callVerbs)
	mark(wCall, callInfinitives)
	mark(wStreet, prefixTypes)
	mark(wStreet, suffixTypes)
	mark(wStreet, germanPrepStreets)
	for w := range spokenNumbers {
		l.info[w] |= wSpoken
	}
	for w := range repeatWords {
		l.info[w] |= wSpoken
	}
	l.info["plus"] |= wSpoken
	mark(wAt, atWords)
	mark(wNotPerson, botWords)
	mark(wNotPerson, humanWords)
	mark(wNotPerson, placeNouns)
	mark(wNotPerson, petWords)
	return l
}

// phraseWords splits a lexicon phrase the way the tokeniser splits text
// into words (punctuation such as '&' and '.' is dropped).
func phraseWords(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool {
		return r == ' ' || r == '&' || r == '.' || r == ','
	})
}

// phraseAt returns the number of tokens of the longest brand or place
// phrase starting at word token k (punctuation tokens inside are skipped)
// and its kind, or 0.
func (d *doc) phraseAt(k int) (int, byte) {
	lex := d.e.lex
	cands := lex.phrases[d.lw(k)]
	best, kind := 0, byte(0)
	for _, ws := range cands {
		j, i := k, 0
		for i < len(ws) && j < len(d.toks) {
			if d.toks[j].kind == tPunct {
				if j == k {
					break
				}
				j++
				continue
			}
			if d.lw(j) != ws[i] {
				break
			}
			i++
			j++
		}
		if i == len(ws) && j-k > best {
			best, kind = j-k, lex.phraseKind[strings.Join(ws, " ")]
		}
	}
	return best, kind
}
