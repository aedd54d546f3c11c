package signals

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Injection is what DetectInjection found: whether the text tries to steer
// the assistant, and a short name of the first pattern that matched (a
// name from this file, never a quote of the text), for logs and tests.
type Injection struct {
	Found   bool
	Pattern string
	// Encoded is true when the pattern was found only after decoding a
	// base64, hex or percent-encoded run, or text hidden in Unicode tag
	// characters or split by zero-width characters.
	Encoded bool
}

// DetectInjection reports whether text (a customer's message, or what a
// tool returned to the assistant: an order's note, a product description)
// holds a prompt-injection pattern: instructions to ignore earlier ones,
// role-play jailbreaks ("you are now DAN", developer mode), requests for
// the system prompt, chat-template role markers, in English, German,
// French, Spanish, Dutch and Italian; the same hidden in base64 or hex
// blobs, percent-encoding, Unicode tag characters or split by zero-width
// characters; and long runs of invisible characters, which carry smuggled
// bits.
//
// Precision matters more than recall here: a customer writing "please
// ignore my previous message" or "disregard the instructions I gave you
// about delivery" is ordinary, and the patterns are written so that it
// does not match (TestOrdinaryMessagesAreNotInjections keeps a labelled
// list). The assistant never gets more authority from a message than the
// customer has (tool calls run as the customer), so a miss is a signal
// lost, not a breach.
func DetectInjection(text string) Injection {
	if p := tagSmuggling(text); p != "" {
		return Injection{Found: true, Pattern: p, Encoded: true}
	}
	if invisibleRun(text) {
		return Injection{Found: true, Pattern: "invisible_run", Encoded: true}
	}
	plain := normalise(text, false)
	if p := matchPatterns(plain); p != "" {
		return Injection{Found: true, Pattern: p}
	}
	// The same text with invisible characters removed and tag characters
	// read as the ASCII they shadow.
	if hidden := normalise(text, true); hidden != plain {
		if p := matchPatterns(hidden); p != "" {
			return Injection{Found: true, Pattern: p, Encoded: true}
		}
	}
	for _, dec := range decodedRuns(text) {
		if p := matchPatterns(normalise(dec, true)); p != "" {
			return Injection{Found: true, Pattern: p, Encoded: true}
		}
		// One more layer: base64 of hex, hex of base64.
		for _, dec2 := range decodedRuns(dec) {
			if p := matchPatterns(normalise(dec2, true)); p != "" {
				return Injection{Found: true, Pattern: p, Encoded: true}
			}
		}
	}
	return Injection{}
}

// invisible reports format characters that render as nothing: zero-width
// space, joiners, word joiner, invisible operators, byte-order mark, soft
// hyphen, Mongolian vowel separator.
func invisible(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, r >= 0x2060 && r <= 0x2064, r == 0xfeff, r == 0x00ad, r == 0x180e:
		return true
	}
	return false
}

// tag reports Unicode tag characters (U+E0000–U+E007F): they shadow ASCII
// invisibly, and models read them.
func tag(r rune) bool { return r >= 0xe0000 && r <= 0xe007f }

// tagSmuggling names text hidden in tag characters. Emoji subdivision flags
// (England, Scotland, Wales: U+1F3F4 then a few lower-case letters or
// digits as tags, then CANCEL TAG) are the one ordinary use and pass.
func tagSmuggling(text string) string {
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		if !tag(rs[i]) {
			continue
		}
		if i > 0 && rs[i-1] == 0x1f3f4 {
			j := i
			for j < len(rs) && j-i < 7 && ((rs[j] >= 0xe0061 && rs[j] <= 0xe007a) || (rs[j] >= 0xe0030 && rs[j] <= 0xe0039)) {
				j++
			}
			if j < len(rs) && rs[j] == 0xe007f && j > i {
				i = j
				continue
			}
		}
		return "unicode_tags"
	}
	return ""
}

// invisibleRun reports eight or more invisible characters in a row (binary
// smuggled as zero-width spaces and joiners). Emoji sequences use one ZWJ
// between pictographs, never a run.
func invisibleRun(text string) bool {
	run := 0
	for _, r := range text {
		if invisible(r) {
			run++
			if run >= 8 {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// normalise folds text for the patterns: NFKC (full-width and other
// compatibility forms become ASCII), lower case, punctuation and runs of
// space as one space. With reveal, invisible characters are dropped and
// tag characters become the ASCII they shadow.
func normalise(text string, reveal bool) string {
	var b strings.Builder
	b.Grow(len(text))
	space := true
	for _, r := range norm.NFKC.String(text) {
		switch {
		case reveal && invisible(r):
			continue
		case reveal && tag(r) && r >= 0xe0020 && r <= 0xe007e:
			r -= 0xe0000
		case tag(r) || invisible(r):
			continue
		}
		r = unicode.ToLower(r)
		// Keep the characters the patterns need: letters, digits and
		// the few symbols of chat-template markers.
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '<' || r == '>' || r == '|' || r == '[' || r == ']' || r == '#' || r == '\'' || r == '’' {
			if r == '’' {
				r = '\''
			}
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// pattern is one named expression over normalised text.
type pattern struct {
	name string
	re   *regexp.Regexp
}

// Words shared by the patterns. A determiner other than the customer's own
// ("my", "meine", "mes", ...) keeps "ignore my previous message" out.
const (
	enPrior = `(?:previous|prior|above|earlier|preceding|initial|original|former|system|all)`
	enRules = `(?:instructions?|prompts?|rules|directives?|guidelines|commands|programming|constraints|restrictions)`
	// What a jailbreak makes the assistant: unrestricted, DAN, in a
	// developer mode, in the six languages.
	jailbroken = `(?:dan|stan|dude|aim|jailbroken|jailbreak|unrestricted|unfiltered|uncensored|unlimited|evil|developer mode|dev mode|god mode|do anything now` +
		`|ohne (?:regeln|einschränkungen|filter|grenzen)|uneingeschränkt|entwicklermodus` +
		`|sans (?:règles|restrictions|filtres?|limites)|mode développeur` +
		`|sin (?:reglas|restricciones|filtros?|límites)|modo desarrollador` +
		`|zonder (?:regels|beperkingen|filters?)|ontwikkelaarsmodus` +
		`|senza (?:regole|restrizioni|filtri|limiti)|modalità sviluppatore)`
)

var patterns = []pattern{
	// English.
	{"ignore_previous_en", regexp.MustCompile(`\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|these\s+|those\s+)?(?:` + enPrior + `\s+)+` + enRules + `\b`)},
	{"ignore_your_rules_en", regexp.MustCompile(`\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+)?(?:of\s+)?your\s+(?:` + enPrior + `\s+)?` + enRules + `\b`)},
	{"new_instructions_en", regexp.MustCompile(`\b(?:new|updated|real|actual|true)\s+(?:system\s+)?instructions\s*(?:are|follow)?\s*(?:from\s+now|:|\bnow\b)|\bfrom now on (?:you (?:are|will|must)|ignore|respond|answer only)`)},
	{"roleplay_en", regexp.MustCompile(`\b(?:you are now|you're now|from now on you are|act as|pretend (?:to be|you are|that you are)|roleplay as|role play as|you will now act as|enter|enable|activate|switch to)\s+(?:an?\s+|the\s+|in\s+)?(?:ai\s+|assistant\s+|chatbot\s+|model\s+)?` + jailbroken + `\b`)},
	{"no_rules_en", regexp.MustCompile(`\b(?:you have no|you don't have any|you do not have any|without any|free (?:from|of) (?:all |any )?)(?:rules|restrictions|filters|guidelines|limits|content policy)\b.{0,40}\b(?:now|anymore|any more|from now|answer|respond|tell)|\bdo anything now\b|\bjailbreak(?:ed)? mode\b`)},
	{"system_prompt_en", regexp.MustCompile(`\b(?:reveal|show|print|display|repeat|output|tell me|give me|what is|what are|what's|leak|dump|write out|spell out)\s+(?:me\s+)?(?:your|the)\s+(?:full\s+|entire\s+|exact\s+|original\s+|hidden\s+|secret\s+|initial\s+)?(?:system|hidden|secret|initial|original|developer|pre)\s*(?:prompt|instructions|message|rules)\b`)},
	{"repeat_above_en", regexp.MustCompile(`\b(?:repeat|print|output|reveal)\s+(?:all\s+|everything\s+|the\s+)?(?:text|words|everything|instructions)\s+(?:above|before this|that came before)|\brepeat (?:everything|all) (?:above|from the start)\b`)},
	// Chat-template and role markers a customer never types.
	{"role_marker", regexp.MustCompile(`<\|?(?:im ?start|im ?end|system|endoftext|start ?header ?id|eot ?id)\|?>|\[/?(?:inst|sys|system)\]|<<sys>>|</?system>|#{2,} ?(?:system|instruction)s? ?#*\b`)},
	// German.
	{"ignore_previous_de", regexp.MustCompile(`\b(?:ignoriere|ignorier|ignorieren sie|vergiss|vergessen sie|missachte|übergehe)\s+(?:bitte\s+)?(?:alle\s+)?(?:deine\s+|die\s+|ihre\s+)?(?:vorherigen|bisherigen|obigen|vorigen|früheren|ursprünglichen|alle)?\s*(?:anweisungen|instruktionen|befehle|regeln|vorgaben|systemanweisungen)\b`)},
	{"roleplay_de", regexp.MustCompile(`\b(?:du bist (?:jetzt|ab jetzt|nun)|ab jetzt bist du|tu so als wärst du|spiele|aktiviere)\s+(?:ein(?:e|en)?\s+)?(?:ki\s+)?` + jailbroken + `\b`)},
	{"system_prompt_de", regexp.MustCompile(`\b(?:zeig|zeige|gib|nenne|verrate|wiederhole)\s+(?:mir\s+)?(?:deinen|deine|den|die|ihren|ihre)\s+(?:system\s*prompt|systemprompt|systemanweisungen|system anweisungen|versteckten anweisungen|ursprünglichen anweisungen)\b`)},
	// French.
	{"ignore_previous_fr", regexp.MustCompile(`\b(?:ignore|ignorez|oublie|oubliez|ne tiens pas compte des|ne tenez pas compte des)\s+(?:toutes\s+|tout\s+)?(?:les\s+|tes\s+|vos\s+)?(?:instructions|consignes|règles|directives)\s+(?:précédentes|antérieures|ci dessus|initiales|système)\b|\b(?:ignore|ignorez|oublie|oubliez)\s+(?:toutes\s+)?(?:tes|vos)\s+(?:instructions|consignes|règles)\b`)},
	{"roleplay_fr", regexp.MustCompile(`\b(?:tu es maintenant|vous êtes maintenant|désormais tu es|fais comme si tu étais|active|agis comme)\s+(?:un(?:e)?\s+)?(?:ia\s+)?` + jailbroken + `\b`)},
	{"system_prompt_fr", regexp.MustCompile(`\b(?:montre|montrez|affiche|affichez|révèle|révélez|donne|donnez|répète|répétez)\s+(?:moi\s+)?(?:ton|votre|le|tes|vos|les)\s+(?:prompt système|prompt systeme|instructions système|instructions cachées|instructions initiales|message système)\b`)},
	// Spanish.
	{"ignore_previous_es", regexp.MustCompile(`\b(?:ignora|ignore|olvida|olvide|omite|haz caso omiso de)\s+(?:todas\s+)?(?:las\s+|tus\s+|sus\s+)?(?:instrucciones|indicaciones|reglas|órdenes|directrices)\s*(?:anteriores|previas|de arriba|iniciales|del sistema)?\b`)},
	{"roleplay_es", regexp.MustCompile(`\b(?:ahora eres|a partir de ahora eres|finge que eres|actúa como|activa)\s+(?:un(?:a)?\s+)?(?:ia\s+)?` + jailbroken + `\b`)},
	{"system_prompt_es", regexp.MustCompile(`\b(?:muestra|muéstrame|revela|revélame|dime|repite|imprime)\s+(?:me\s+)?(?:tu|el|las|tus)\s+(?:prompt del sistema|prompt de sistema|mensaje del sistema|instrucciones del sistema|instrucciones ocultas|instrucciones iniciales)\b`)},
	// Dutch.
	{"ignore_previous_nl", regexp.MustCompile(`\b(?:negeer|vergeet|ignoreer)\s+(?:alle\s+)?(?:je\s+|jouw\s+|de\s+|uw\s+)?(?:vorige|eerdere|voorgaande|bovenstaande|oorspronkelijke)?\s*(?:instructies|opdrachten|regels|richtlijnen|systeeminstructies)\b`)},
	{"roleplay_nl", regexp.MustCompile(`\b(?:je bent nu|vanaf nu ben je|doe alsof je|activeer|speel)\s+(?:een\s+)?(?:ai\s+)?` + jailbroken + `\b`)},
	{"system_prompt_nl", regexp.MustCompile(`\b(?:toon|laat|geef|herhaal|onthul)\s+(?:me\s+|mij\s+)?(?:je|jouw|de|uw)\s+(?:systeemprompt|systeem prompt|systeeminstructies|verborgen instructies|oorspronkelijke instructies)\b`)},
	// Italian.
	{"ignore_previous_it", regexp.MustCompile(`\b(?:ignora|ignori|dimentica|dimentichi|trascura)\s+(?:tutte\s+)?(?:le\s+)?(?:tue\s+|sue\s+)?(?:istruzioni|regole|direttive|indicazioni)\s*(?:precedenti|iniziali|di sistema|sopra)?\b`)},
	{"roleplay_it", regexp.MustCompile(`\b(?:ora sei|adesso sei|da ora sei|d'ora in poi sei|fingi di essere|comportati come|attiva)\s+(?:un(?:a|o)?\s+)?(?:ia\s+)?` + jailbroken + `\b`)},
	{"system_prompt_it", regexp.MustCompile(`\b(?:mostra|mostrami|rivela|rivelami|dimmi|ripeti|stampa)\s+(?:mi\s+)?(?:il|le|tuo|tue|il tuo|le tue)\s*(?:prompt di sistema|istruzioni di sistema|istruzioni nascoste|istruzioni iniziali|messaggio di sistema)\b`)},
}

// triggers are, per pattern, words of which a match must hold one (those
// its branches begin with, or a word every branch needs), as they appear
// in normalised text: a text with none of them is not run through the
// expression. Go's regexp finds no literal prefix behind \b, so without
// this every message ran all the expressions, a tenth of the conversation
// service's CPU per message (TestChatLoad's profile).
// TestTriggersSkipOnlyWhatCannotMatch checks them against every case.
var triggers = map[string][]string{
	"ignore_previous_en":   {"ignore", "disregard", "forget", "override", "bypass", "skip"},
	"ignore_your_rules_en": {"ignore", "disregard", "forget", "override", "bypass"},
	"new_instructions_en":  {"instructions", "from now on"},
	"roleplay_en": {"you are now", "you're now", "from now on you are", "act as", "pretend", "roleplay as", "role play as",
		"you will now act as", "enter", "enable", "activate", "switch to"},
	"no_rules_en": {"you have no", "you don't have any", "you do not have any", "without any", "free ", "do anything now", "jailbreak"},
	"system_prompt_en": {"reveal", "show", "print", "display", "repeat", "output", "tell me", "give me", "what is", "what are",
		"what's", "leak", "dump", "write out", "spell out"},
	"repeat_above_en":    {"repeat", "print", "output", "reveal"},
	"role_marker":        {"<", "[", "##"},
	"ignore_previous_de": {"ignorier", "vergiss", "vergessen sie", "missachte", "übergehe"},
	"roleplay_de":        {"du bist", "ab jetzt bist du", "tu so als wärst du", "spiele", "aktiviere"},
	"system_prompt_de":   {"zeig", "gib", "nenne", "verrate", "wiederhole"},
	"ignore_previous_fr": {"ignore", "oublie", "ne tiens pas compte des", "ne tenez pas compte des"},
	"roleplay_fr":        {"tu es maintenant", "vous êtes maintenant", "désormais tu es", "fais comme si tu étais", "active", "agis comme"},
	"system_prompt_fr":   {"montre", "affiche", "révèle", "révélez", "donne", "répète", "répétez"},
	"ignore_previous_es": {"ignora", "ignore", "olvida", "olvide", "omite", "haz caso omiso de"},
	"roleplay_es":        {"ahora eres", "a partir de ahora eres", "finge que eres", "actúa como", "activa"},
	"system_prompt_es":   {"muestra", "muéstrame", "revela", "revélame", "dime", "repite", "imprime"},
	"ignore_previous_nl": {"negeer", "vergeet", "ignoreer"},
	"roleplay_nl":        {"je bent nu", "vanaf nu ben je", "doe alsof je", "activeer", "speel"},
	"system_prompt_nl":   {"toon", "laat", "geef", "herhaal", "onthul"},
	"ignore_previous_it": {"ignora", "ignori", "dimentica", "dimentichi", "trascura"},
	"roleplay_it":        {"ora sei", "adesso sei", "da ora sei", "d'ora in poi sei", "fingi di essere", "comportati come", "attiva"},
	"system_prompt_it":   {"mostra", "rivela", "dimmi", "ripeti", "stampa"},
}

// mayMatch reports whether normalised text s holds one of the pattern's
// triggers (true for a pattern without any).
func mayMatch(s, name string) bool {
	ts, ok := triggers[name]
	if !ok {
		return true
	}
	for _, t := range ts {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// Spanish, Italian and Dutch "ignore the instructions" are common in
// ordinary speech about a product's instructions ("ignora las
// instrucciones del manual"?): they count only with a word that makes the
// assistant their object (previous, system, your).
var needsPrior = map[string]*regexp.Regexp{
	"ignore_previous_es": regexp.MustCompile(`anteriores|previas|de arriba|iniciales|del sistema|tus instrucciones|tus reglas|todas las instrucciones`),
	"ignore_previous_it": regexp.MustCompile(`precedenti|iniziali|di sistema|sopra|tue istruzioni|tue regole|tutte le istruzioni`),
	"ignore_previous_nl": regexp.MustCompile(`vorige|eerdere|voorgaande|bovenstaande|oorspronkelijke|systeeminstructies|je instructies|jouw instructies|alle instructies`),
	"ignore_previous_de": regexp.MustCompile(`vorherigen|bisherigen|obigen|vorigen|früheren|ursprünglichen|systemanweisungen|deine|alle anweisungen|alle regeln|alle befehle`),
}

// mineAfter: "... instructions I gave you", "... about delivery": the
// customer speaking of their own earlier wishes.
var mineAfter = regexp.MustCompile(`^\s*(?:i|that i|which i|we|about|regarding|for|on|concerning|in my|from my|ich|die ich|que j|que je|concernant|pour|que te di|que le di|sobre|para|die ik|over|voor|che ti ho|che le ho|per|sul|sulla|su)\b`)

func matchPatterns(s string) string {
	if s == "" {
		return ""
	}
	for _, p := range patterns {
		if !mayMatch(s, p.name) {
			continue
		}
		loc := p.re.FindStringIndex(s)
		if loc == nil {
			continue
		}
		if need, ok := needsPrior[p.name]; ok && !need.MatchString(s[loc[0]:loc[1]]) {
			continue
		}
		if strings.HasPrefix(p.name, "ignore_") && mineAfter.MatchString(s[loc[1]:]) && !strings.Contains(s[loc[0]:loc[1]], "all") {
			continue
		}
		return p.name
	}
	return ""
}

var (
	// base64 (standard or URL alphabet) runs long enough to carry a
	// sentence; hex runs likewise; percent-encoded text with several
	// escapes.
	base64Run     = regexp.MustCompile(`[A-Za-z0-9+/_-]{24,}={0,2}`)
	hexRun        = regexp.MustCompile(`(?:[0-9a-fA-F]{2}[\s:]?){16,}`)
	percentEscape = regexp.MustCompile(`%[0-9a-fA-F]{2}`)
)

// maxDecoded bounds the work on one text (a 4 KiB message has few runs).
const maxDecoded = 16

// decodedRuns returns the printable text that base64, hex and percent
// runs of s decode to. Binary results are dropped: they cannot instruct a
// model in words.
func decodedRuns(s string) []string {
	var out []string
	add := func(b []byte) {
		if len(out) < maxDecoded && printable(b) {
			out = append(out, string(b))
		}
	}
	for _, run := range base64Run.FindAllString(s, maxDecoded) {
		trimmed := strings.TrimRight(run, "=")
		// A run glued to a word may start mid-quantum: try each offset
		// (printable keeps the wrong ones out).
		for off := 0; off < 4 && off < len(trimmed); off++ {
			c := trimmed[off:]
			if len(c)%4 == 1 {
				c = c[:len(c)-1]
			}
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(c); err == nil && printable(b) {
					add(b)
					break
				}
			}
		}
	}
	for _, run := range hexRun.FindAllString(s, maxDecoded) {
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == ':' || r == '\t' || r == '\n' {
				return -1
			}
			return r
		}, run)
		if len(clean)%2 == 1 {
			clean = clean[:len(clean)-1]
		}
		if b, err := hex.DecodeString(clean); err == nil {
			add(b)
		}
	}
	if len(percentEscape.FindAllStringIndex(s, 4)) == 4 {
		if u, err := url.PathUnescape(s); err == nil && u != s {
			add([]byte(u))
		}
	}
	return out
}

// printable: valid UTF-8, mostly letters and spaces.
func printable(b []byte) bool {
	if len(b) < 8 || !utf8.Valid(b) {
		return false
	}
	good, all := 0, 0
	for _, r := range string(b) {
		all++
		if unicode.IsLetter(r) || unicode.IsSpace(r) || unicode.IsDigit(r) || unicode.IsPunct(r) {
			good++
		}
	}
	return good*10 >= all*9
}
