package pii

import "strings"

// resetPathWords mark a URL path as a password-reset, activation or
// sign-in link: the random segment after them is the link's token, a
// credential like a "?token=" value ("https://shop.nl/account/reset/
// Qm7x...", ".../passwort-neu/Xa9K...?lang=de").
var resetPathWords = []string{"reset", "passwort", "password", "wachtwoord", "mot-de-passe", "motdepasse",
	"contrasena", "contraseña", "recuperar", "recover", "activate", "activation", "aktivier", "verify", "confirm",
	"magic", "login", "signin", "anmelden", "token", "herstel",
	// Reset in the six languages, as shops spell it in a path (without
	// accents or umlauts, or with them).
	"zuruecksetzen", "zurücksetzen", "wiederherstellen", "reinitialiser", "réinitialiser", "restablecer",
	"reestablecer", "reimposta", "reimpostare", "ripristina", "recupera", "recuperer", "récupérer"}

// scanLinkTokens finds the token segment of a reset or sign-in link's
// path; the rest of the URL is no secret.
func (d *doc) scanLinkTokens() {
	t := d.text
	for off := 0; ; {
		i := strings.Index(t[off:], "://")
		if i < 0 {
			return
		}
		start := off + i + 3
		end := start
		for end < len(t) && t[end] > ' ' && t[end] != '"' && t[end] != '<' && t[end] != '>' {
			end++
		}
		off = end
		q := strings.IndexAny(t[start:end], "?#")
		if q >= 0 {
			end = start + q
		}
		cue := false
		for s := start; s < end; {
			e := strings.IndexByte(t[s:end], '/')
			if e < 0 {
				e = end
			} else {
				e += s
			}
			seg := t[s:e]
			if s > start && cue && keyLike(seg) && (mixedCase(seg) || hexRun(seg, 32)) {
				d.work++
				d.add(s, e, Secret, 0.9, "secret-link")
			}
			if s > start && !cue {
				lw := strings.ToLower(seg)
				for _, w := range resetPathWords {
					if strings.Contains(lw, w) {
						cue = true
						break
					}
				}
			}
			s = e + 1
		}
	}
}

// keyWords say "key" in the six languages; unlike the API words they name
// door and locker keys too, so they count only in the sentence of a 32-
// hex value ("a laissé la clé dans le ticket : 9f3a…").
var keyWords = set(strings.Fields(`key clé clef chiave schlüssel sleutel clave keys clés chiavi`))

// keyWordBefore reports a key word before token j in its sentence, within
// fifteen words.
func (d *doc) keyWordBefore(j int) bool {
	for m, words := j-1, 0; m >= 0 && words < 15; m-- {
		tk := &d.toks[m]
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' {
				return false
			}
			continue
		}
		if keyWords[d.lw(m)] {
			return true
		}
		if tk.nl {
			return false
		}
		words++
	}
	return false
}

// colonValueAhead reports a colon directly before a number within six
// words from j, with no sentence or clause end first: a clause between a
// code's cue and its value that ends by introducing it.
func (d *doc) colonValueAhead(j int) bool {
	for words := 0; j+1 < len(d.toks) && words <= 6; j++ {
		tk := &d.toks[j]
		if tk.nl {
			return false
		}
		if tk.kind == tPunct {
			switch d.text[tk.s] {
			case ':':
				return d.toks[j+1].kind == tNum && !d.toks[j+1].nl
			case '.', '!', '?', ',', ';':
				return false
			}
			continue
		}
		if tk.kind == tNum {
			return false
		}
		words++
	}
	return false
}
