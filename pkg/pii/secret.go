package pii

import (
	"bytes"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Secrets: passwords, one-time codes and keys the customer pastes. Only
// provider key prefixes stand on their own; everything else needs a cue
// (password, code, TAN, token, key ...) and the value must look like one.
// Promo, discount, order and return codes are not secrets.

// keyPrefixes are the published prefixes of providers' secret keys and
// tokens (Stripe, GitHub, GitLab, Slack, Shopify, AWS, Google, OpenAI,
// Anthropic, SendGrid, npm, PyPI, Hugging Face, DigitalOcean, Square,
// Mailgun, Brevo, Twilio auth tokens are bare hex and need a cue).
var keyPrefixes = []string{
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
	"glpat-", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-", "shpat_", "shpss_", "shpca_", "shppa_",
	"AKIA", "ASIA", "AIza", "sk-proj-", "sk-ant-", "sk-", "SG.", "npm_", "pypi-", "hf_", "dop_v1_", "ya29.",
	"sq0atp-", "sq0csp-", "key-", "xkeysib-", "EAAG", "EAAB", "glsa_", "lin_api_", "pat-na1-", "ntn_", "secret_",
}

// urlSecretParams are query parameters whose value is a credential.
var urlSecretParams = []string{
	"token=", "access_token=", "refresh_token=", "id_token=", "api_key=", "apikey=", "key=", "auth=", "secret=",
	"client_secret=", "password=", "pwd=", "pass=", "sig=", "signature=", "session=", "sessionid=", "code=",
	"otp=", "x-amz-signature=", "jwt=", "reset_token=", "t=", "magic=",
	// The local words for "key" name the token as "key=" does
	// ("reinitialiser?cle=9f3a...", "?clé=", "?chiave=").
	"cle=", "clé=", "clef=", "chiave=", "sleutel=", "schluessel=", "schlüssel=", "clave=",
}

// urlGenericParams name a record as often as a credential: their value is
// a secret only when it looks like a random token.
var urlGenericParams = []string{"id=", "uid=", "u=", "k=", "s=", "h=", "hash=", "tk=", "ticket=", "link=", "l=", "c="}

// uuidShaped: 8-4-4-4-12 hex digits.
func uuidShaped(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if v[i] != '-' {
				return false
			}
		} else if !isHex(v[i]) {
			return false
		}
	}
	return true
}

// hexRun: v is at least n hex digits and nothing else.
func hexRun(v string, n int) bool {
	if len(v) < n {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return false
		}
	}
	return true
}

// mixedCase: both upper- and lower-case letters and a digit, as random
// tokens have and slugs and ids do not.
func mixedCase(v string) bool {
	up, lo, dg := false, false, false
	for i := 0; i < len(v); i++ {
		up = up || isUpper(v[i])
		lo = lo || isLower(v[i])
		dg = dg || isDigit(v[i])
	}
	return up && lo && dg
}

func isKeyByte(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '.' || c == '=' || c == '/' || c == '+'
}

// secretFillers may stand between a cue and the value.
var secretFillers = map[string]bool{
	"is": true, "was": true, "ist": true, "lautet": true, "war": true, "est": true, "c'est": true, "es": true,
	"era": true, "è": true, "now": true, "jetzt": true, "nun": true, "maintenant": true, "ahora": true, "nu": true,
	"ora": true, "still": true, "noch": true, "new": true, "neues": true, "neue": true, "nouveau": true, "nueva": true,
	"nuevo": true, "nieuw": true, "nieuwe": true, "nuova": true, "nuovo": true, "my": true, "mein": true, "meine": true,
	"mon": true, "ma": true, "mi": true, "mijn": true, "il": true, "mio": true, "the": true, "das": true, "der": true,
	"die": true, "le": true, "la": true, "el": true, "het": true, "de": true, "lo": true, "code": true, "i": true,
	"got": true, "received": true, "erhalten": true, "bekommen": true, "reçu": true, "recibido": true, "ontvangen": true,
	"ricevuto": true, "sent": true, "you": true, "it's": true, "its": true, "it": true, "was:": true, "here": true,
	"hier": true, "ici": true, "aquí": true, "qui": true, "temporary": true, "temp": true, "old": true, "altes": true,
	"set": true, "to": true, "auf": true, "en": true, "a": true, "zu": true, "sms": true, "via": true, "per": true,
	"by": true, "par": true, "por": true, "door": true, "da": true, "von": true, "from": true, "of": true, "for": true,
	"für": true, "pour": true, "para": true, "voor": true, "geändert": true, "changed": true, "is:": true, "also": true,
	"also:": true, "just": true, "gerade": true, "that": true, "which": true, "die ich": true, "che": true, "que": true,
	"wifi": true, "wlan": true, "account": true, "konto": true, "login": true, "user": true, "compte": true, "cuenta": true,
	"verification": true, "security": true, "login-code": true, "one-time": true, "pickup": true, "locker": true,
	"del": true, "della": true, "dello": true, "du": true, "des": true, "vom": true, "van": true, "wi-fi": true,
	"router": true, "netzwerk": true, "réseau": true, "red": true, "rete": true, "netwerk": true, "network": true,
	"bestätigungs": true, "mobile": true, "mobiletan": true, "tan": true, "otp": true, "pin": true, "ihre": true,
	"your": true, "votre": true, "tu": true, "su": true, "uw": true, "je": true, "tuo": true, "vostro": true,
	// "clave de acceso", "code d'accès", "Zugangs-Passwort", "codice d'accesso", "toegangscode".
	"acceso": true, "accès": true, "d'accès": true, "zugang": true, "zugangs": true, "accesso": true, "d'accesso": true,
	"toegang": true, "access": true, "eenmalige": true, "inlog": true, "usage": true, "unique": true, "único": true,
	"monouso": true, "einmal": true,
	// "código de verificación es", "code de vérification :", "backup code",
	// "il codice di verifica è": what kind of code it is.
	"verificación": true, "verificacion": true, "vérification": true, "verifica": true,
	"verificatie": true, "verifizierung": true, "confirmación": true, "confirmation": true, "conferma": true,
	"bevestiging": true, "bestätigung": true, "backup": true, "recovery": true, "récupération": true, "recuperación": true,
	"recuperacion": true, "recupero": true, "secours": true, "respaldo": true, "sécurité": true, "seguridad": true,
	"sicurezza": true, "beveiliging": true, "sicherheit": true, "di": true, "currently": true, "actual": true,
	"actuel": true, "attuale": true, "aktuelles": true, "huidige": true, "adesso": true, "ancora": true,
}

// notSecretCues turn a code into a reference or a discount.
var notSecretCues = map[string]bool{
	"promo": true, "promocode": true, "discount": true, "coupon": true, "voucher": true, "gutschein": true,
	"gutscheincode": true, "rabatt": true, "rabattcode": true, "aktionscode": true, "réduction": true, "remise": true,
	"promotionnel": true, "descuento": true, "cupón": true, "cupon": true, "korting": true, "kortingscode": true,
	"actiecode": true, "sconto": true, "buono": true, "referral": true, "gift": true, "postal": true, "postleitzahl": true,
	"zip": true, "area": true, "error": true, "fehler": true, "erreur": true, "errore": true, "fout": true,
	"order": true, "bestellung": true, "commande": true, "pedido": true, "bestelling": true, "ordine": true,
	"return": true, "retoure": true, "retour": true, "devolución": true, "reso": true, "tracking": true, "sendung": true,
	"product": true, "produkt": true, "produit": true, "producto": true, "prodotto": true, "sku": true, "ean": true,
	"batch": true, "lot": true, "charge": true, "lote": true, "lotto": true, "serial": true, "serie": true,
	"ray": true, "id": true, "reference": true, "referenz": true, "référence": true, "referencia": true,
	"riferimento": true, "referentie": true, "invoice": true, "rechnung": true, "facture": true, "factura": true,
	"postcode": true, "plz": true, "cap": true, "cp": true, "welcome": true, "willkommens": true, "bienvenue": true,
	"newsletter": true, "sale": true, "payment": true, "zahlung": true, "paiement": true, "pago": true, "pagamento": true,
	"country": true, "color": true, "colour": true, "farb": true, "dress": true, "status": true, "hs": true, "qr": true,
	"bar": true, "barcode": true, "tarif": true, "tariff": true, "style": true, "model": true, "article": true, "item": true,
	"source": true, "quellcode": true, "dress-code": true, "dresscode": true, "kunden": true, "customer": true,
	"client": true, "cliente": true, "klant": true, "member": true, "voucher-code": true, "gift-card": true, "cadeau": true,
	"regalo": true, "cadeaubon": true, "geschenk": true, "promozionale": true, "promocional": true, "código_postal": true,
	// A receipt's or terminal's authorisation code is no credential.
	"approval": true, "authorisation": true, "authorization": true, "autorisation": true, "autorización": true,
	"autorizacion": true, "autorizzazione": true, "autorisatie": true, "genehmigung": true, "autorisierung": true,
	"autorisierungs": true, "terminal": true, "receipt": true, "beleg": true, "kassenbon": true, "ticket": true,
	"scontrino": true, "ricevuta": true, "recibo": true, "bonnetje": true, "kassabon": true,
	// Postal and serial numbers in the languages that put the kind after
	// "code": codice postale, code postal, codice seriale, número de serie.
	"postale": true, "seriale": true, "série": true, "serienummer": true, "seriennummer": true,
	// A booking's code is its reference.
	"booking": true, "buchung": true, "buchungs": true, "réservation": true, "reserva": true, "reservación": true,
	"boeking": true, "reservering": true, "prenotazione": true,
}

var passwordCues = map[string]bool{
	"password": true, "passwort": true, "kennwort": true, "passwd": true, "pwd": true, "pw": true, "mdp": true,
	"contraseña": true, "contrasena": true, "wachtwoord": true, "passphrase": true, "passcode": true, "pass": true,
	"clave": true, "parola": true, "passe": true, "psw": true, "senha": true,
	// Belgian Dutch, abbreviations and compounds: "paswoord", "ww:", "pword", "Zugangspasswort".
	"paswoord": true, "ww": true, "pword": true, "motdepasse": true, "inlogwachtwoord": true, "zugangspasswort": true,
	"loginpasswort": true, "wifi-passwort": true, "wlan-passwort": true, "wifi-wachtwoord": true,
	// A possessive glued to the cue: "my password's now ...".
	"password's": true, "password’s": true,
}

var otpCues = map[string]bool{
	"code": true, "codes": true, "otp": true, "tan": true, "pin": true, "2fa": true, "mfa": true, "sms-code": true,
	"smscode": true, "verifizierungscode": true, "bestätigungscode": true, "sicherheitscode": true, "einmalcode": true,
	"abholcode": true, "zugangscode": true, "login-code": true, "logincode": true, "código": true, "codigo": true,
	"codice": true, "verificatiecode": true, "bevestigingscode": true, "ophaalcode": true, "pincode": true,
	"mobiletan": true, "pushtan": true, "smstan": true, "3ds": true, "securecode": true, "entsperrcode": true,
	"freischaltcode": true, "sicherheits-code": true, "code:": true, "token": true, "otp-code": true,
	"authentifizierungscode": true, "verification-code": true, "codigo:": true, "pin-code": true, "abhol-code": true,
	"inlogcode": true, "toegangscode": true, "codice:": true, "mtan": true, "phototan": true, "chiptan": true,
	"sms-tan": true, "apptan": true, "itan": true, "beveiligingscode": true,
	// Unlock codes: "Entsperrcode" is above; "ontgrendelcode", "unlock-code".
	"ontgrendelcode": true, "ontgrendelingscode": true, "unlock-code": true, "unlockcode": true,
	"controlecode": true, "authenticatiecode": true, "sms-code:": true, "anmeldecode": true, "bestätigungs-code": true,
	"pin's": true, "pin’s": true, "code's": true,
	// Recovery and backup codes, closed compounds: "Wiederherstellungscode", "herstelcode".
	"wiederherstellungscode": true, "wiederherstellungscodes": true, "backup-code": true, "backupcode": true,
	"backup-codes": true, "herstelcode": true, "herstelcodes": true, "notfallcode": true,
	// Round 15: the plural of the Romance code words, as "codes" ("i codici
	// di recupero: …", "los códigos de recuperación: …").
	"codici": true, "códigos": true, "codigos": true,
	// Round 15: a ticket's or an account's transfer code, which lets its
	// holder claim it ("Übertragungscode", "overdrachtscode").
	"übertragungscode": true, "transfercode": true, "overdrachtscode": true, "overdrachtcode": true,
}

var keyCues = map[string]bool{
	"key": true, "apikey": true, "api-key": true, "api_key": true, "token": true, "secret": true, "bearer": true,
	"schlüssel": true, "clé": true, "cle": true, "sleutel": true, "chiave": true, "credentials": true,
	"client_secret": true, "webhook": true, "api-schlüssel": true, "api-token": true, "access-token": true,
	"jeton": true, "gettone": true,
}

// envTags are the environment parts of a provider's key ("pk_live_",
// "mkp_prod_", "rk_test_"): the convention Stripe started and many
// providers copied.
var envTags = []string{"_live_", "_test_", "_prod_", "_production_", "_sandbox_", "_staging_", "_dev_"}

// scanEnvKeys finds keys of a provider the prefix list does not know, by
// the convention's structure: a short lower-case provider part, an
// environment tag, and a long high-entropy body of letters and digits
// (round 13). A snake_case identifier has no such body.
func (d *doc) scanEnvKeys() {
	t := d.text
	for k := range d.toks {
		tk := &d.toks[k]
		if tk.kind != tWord || tk.e-tk.s < 20 || strings.IndexByte(t[tk.s:tk.e], '_') < 0 {
			continue
		}
		s := tk.s
		e := s
		for e < len(t) && (isAlnum(t[e]) || t[e] == '_') && e-s < 256 {
			e++
		}
		w := t[s:e]
		i := strings.IndexByte(w, '_')
		if i < 2 || i > 8 {
			continue
		}
		lowerHead := true
		for _, c := range []byte(w[:i]) {
			if c < 'a' || c > 'z' {
				lowerHead = false
			}
		}
		if !lowerHead {
			continue
		}
		for _, tag := range envTags {
			if !strings.HasPrefix(w[i:], tag) {
				continue
			}
			body := w[i+len(tag):]
			if len(body) < 16 || strings.IndexByte(body, '_') >= 0 || !hasDigit(body) || entropy(body) < 3.5 {
				break
			}
			letters := 0
			for _, c := range []byte(body) {
				if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
					letters++
				}
			}
			if letters < 4 {
				break
			}
			d.add(s, e, Secret, 0.9, "secret-key-env")
			break
		}
	}
}

func (d *doc) scanSecrets() {
	d.scanKeyPrefixes()
	d.scanEnvKeys()
	d.scanURLSecrets()
	d.scanLinkTokens()
	d.scanNamedKeys()
	d.scanBankCodes()
	d.scanEntryCodes()
	n := len(d.toks)
	for k := 0; k < n; k++ {
		if d.toks[k].kind != tWord {
			continue
		}
		w := d.lw(k)
		if d.toks[k].info&wSecretCue == 0 {
			// A compound's last part decides ("API-sleutel", "Backup-Code",
			// "SMS-Passwort"); a promo or reference first part cancels it
			// ("Gutschein-Code", "Produkt-Code").
			if i := strings.LastIndexByte(w, '-'); i > 0 && i < len(w)-1 {
				last, first := w[i+1:], w[:i]
				if codeDevices[last] && otpCues[first] && !genericCodeWords[first] {
					// "TAN-Generator", "SMS-App", "OTP-Token": the device
					// that shows the code names the code.
					last = first
				}
				if !passwordCues[last] && !otpCues[last] && !keyCues[last] || notSecretCues[first] || hasAnySuffixCue(first) {
					continue
				}
				w = last
			} else if suf := compoundCue(w); suf != "" && !hasAnySuffixCue(w) {
				w = suf // closed compounds: Zugangsschlüssel, toegangssleutel, Zugangspasswort
			} else {
				continue
			}
		}
		pw, otp, key := passwordCues[w], otpCues[w], keyCues[w]
		if w == "passe" && !(k >= 2 && d.lw(k-1) == "de" && d.lw(k-2) == "mot") {
			pw = false
		}
		if w == "clave" {
			key = false
		}
		if w == "tan" && !d.toks[k].allUp && d.lang != "de" && d.lang != "nl" {
			otp = false // a colour in English, "so" in Spanish: only TAN is the bank's code
		}
		if w == "pass" && !(k+1 < n && (d.isPunct(k+1, ':') || d.isPunct(k+1, '='))) {
			pw = false // season pass, boarding pass, "pass it on": only "pass: ..." names a password
		}
		if w == "parola" && !(k+1 < n && strings.HasPrefix(d.lw(k+1), "d'ordine")) {
			pw = false
		}
		if w == "secure" && k > 0 && (d.lw(k-1) == "3d" || d.lw(k-1) == "d" || d.lw(k-1) == "3-d") {
			otp = true // "3D Secure", "3-D Secure"
		}
		if credWords[w] {
			if m := d.credentialPair(k); m > k || !pw && !otp && !key {
				k = m
				continue
			}
		}
		if !pw && !otp && !key {
			if changeVerbs[w] {
				k = d.changedPassword(k)
			}
			continue
		}
		if d.inURL(k) {
			// "/password/reset?id=...": a path word, not a cue; the URL
			// scanner reads the query's values.
			continue
		}
		d.work++
		// A promo, order or postal word just before the cue (or after, for
		// languages that put it there) makes it no secret.
		if d.notSecret(k) {
			continue
		}
		if genericCodeWords[w] && d.authAbbrev(k) && d.paymentContext() {
			// "auth code 083214" on a receipt or a charge: the card
			// issuer's authorisation code, written short.
			continue
		}
		if genericCodeWords[w] && !(k > 0 && d.cueOf(k-1)&(cueOTP|cuePassword) != 0) {
			// A bare "code" is a credential only when the message says so:
			// not in a message about a discount unless the code was sent
			// to the writer ("the code you texted me"), not as a "code
			// number" (a locker's or a product's).
			if d.promoEarlier(k) || d.promoContext() && !d.deliveredCode(k) || d.qualifiedCode(k) {
				continue
			}
		}
		if genericCodeWords[w] && k+1 < n && d.isWord(k+1) && numberWords[d.lw(k+1)] {
			continue
		}
		if pw && !otp && !key && k > 1 {
			if bs, be := d.passwordBefore(k); bs < be {
				// "I'm using Lisbon$2023 as my password".
				d.add(bs, be, Secret, 0.8, "secret-password")
				continue
			}
		}
		if otp && !pw && !key && k > 1 {
			if bs, be := d.codeBefore(k); bs < be {
				// "I received 381 904 as the code", "ho inserito 482913
				// come codice".
				d.add(bs, be, Secret, 0.85, "secret-otp")
				continue
			}
			if bs, be := d.otpBehind(k); bs < be {
				// "403 221 is your verification code": a pasted SMS.
				d.add(bs, be, Secret, 0.85, "secret-otp")
				continue
			}
		}
		// Find the value: the first token after fillers and punctuation.
		// stated: a copula or colon says what the value is ("the code is
		// 2024"), as "code 2024 is not valid" or "the code worked in 2023"
		// does not.
		j, seen, colon, stated := k+1, 0, false, false
		for j < n && seen < 5 {
			tk := &d.toks[j]
			if tk.kind == tPunct {
				c := d.text[tk.s]
				if c == ':' || c == '=' || c == '-' || c == '>' || c == '"' || c == '\'' || c == '(' || c == ',' {
					colon = colon || (c == ':' || c == '=') && seen == 0
					stated = stated || c == ':' || c == '='
					j++
					continue
				}
				if tt := d.tokText(j); quoteMark(tt) || tt == "—" || tt == "–" {
					j++ // « Marseille13 », „Fr3ib4d“
					continue
				}
				if c == '*' || c == '`' {
					j++
					continue
				}
				break
			}
			if d.toks[j].nl && seen > 0 {
				break
			}
			lw := d.lw(j)
			if el := elided(lw); el != lw && (secretFillers[el] || el == "api") {
				lw = el // "il token dell'API è ..."
			}
			if otp && deviceWord(lw) && j > k+1 && secretFillers[d.lw(j-1)] {
				// "De toegangscode van de tablet is ...", "il PIN del
				// telefono è ...": the device the code unlocks.
				j++
				seen++
				continue
			}
			if secretFillers[lw] || changeVerbs[lw] && (pw || key) || lw == "d'ordine" || lw == "mot" || lw == "passe" || lw == "de" || otpCues[lw] && otp || passwordCues[lw] && pw || keyCues[lw] && key || lw == "api" {
				if notSecretCues[lw] {
					j = n
					break
				}
				stated = stated || copulas[lw]
				j++
				seen++
				continue
			}
			break
		}
		if otp && (j >= n || d.toks[j].kind != tNum && !d.otpChunk(j)) {
			// "Der Code aus der SMS ist 318 540": a numeric code a few
			// words on, in the same clause, with no reference word between.
			if jj := d.otpAhead(k + 1); jj > 0 {
				j = jj
			} else if jj := d.codeLater(k); jj > 0 {
				// "the lock code for the e-scooter ..., the app says: 48213",
				// "le code de validation ..., c'est 48291377".
				j = jj
			}
		}
		if otp && d.lockerCue(k) && (j >= n || d.toks[j].kind != tNum && !d.otpChunk(j)) {
			// "Votre code casier Pickup : 4F7-K29", "il codice del locker
			// che mi avete mandato: 7G4-2K91": a locker's letter-digit code
			// a few words on, in the same clause.
			if jj := d.lockerCodeAhead(k + 1); jj > 0 {
				s, e := d.valueChunk(jj)
				d.add(s, e, Secret, 0.85, "secret-otp")
				k = d.tokenAt(e) - 1
				continue
			}
		}
		if otp && (j >= n || d.toks[j].kind != tNum && !d.otpChunk(j)) {
			// "Mijn herstelcode voor de app: rk7q-m2xp-9d4w-h8tn": a
			// recovery or mailed code's shape later in the sentence.
			if jj := d.shapedCodeAhead(k + 1); jj > 0 {
				j = jj
			}
		}
		if key && (j >= n || d.toks[j].kind != tNum && !keyLike(d.text[d.toks[j].s:d.chunkEnd(j)])) {
			// "il mio token è scaduto: 5d41...", "la chiave che mi avete
			// dato (9f86...)": a key a few words on in the clause.
			if jj := d.keyAhead(k + 1); jj > 0 {
				j = jj
			}
		}
		if j >= n {
			continue
		}
		s, e := d.valueChunk(j)
		if s >= e {
			if pw && !otp && !key && d.isPunct(j, '.') {
				// "asked for my password. I told them it was Kestrel!88".
				if jj := d.passwordAhead(j); jj > 0 {
					s, e = d.valueChunk(jj)
					d.add(s, e, Secret, 0.8, "secret-password")
					k = d.tokenAt(e) - 1
				}
			}
			continue
		}
		if jc := d.tokenAt(e); pw && j > k+1 && !stated && jc < n && d.toks[jc].s == e && d.isPunct(jc, ':') {
			// Round 14: "Mijn wachtwoord voor de fiets-app: …": the word
			// glued to a colon after the cue's purpose names what the
			// password is for; its value, if any, follows the colon.
			jj := jc + 1
			if jj >= n || d.toks[jj].nl {
				continue
			}
			j = jj
			s, e = d.valueChunk(j)
			if s >= e {
				continue
			}
		}
		v := d.text[s:e]
		if credentialKind(v) {
			// "je wachtwoord of sms-code", "Passwort oder TAN-Code": a list
			// of credential kinds, not a value.
			continue
		}
		if j == k+2 && d.isPunct(k+1, '-') && !d.toks[k+1].sp && !d.toks[j].sp && pw && !otp && !key && d.toks[k].allUp && d.toks[k].letters <= 3 && d.toks[j].kind == tNum {
			// "Bestellnummer: WW-4425590": a short capital prefix glued to
			// digits is a reference's, even when it spells a password
			// abbreviation (PW, WW).
			continue
		}
		if j == k+2 && d.isPunct(k+1, '-') && !d.toks[k+1].sp && !d.toks[j].sp && (k > 1 && d.isPunct(k-1, '-') && !d.toks[k].sp || strings.IndexByte(d.lw(k), '-') > 0) {
			// "NG-2FA-00192", "CS-OTP-4471": the cue is a part of a
			// hyphenated reference, and its digits are the reference's.
			continue
		}
		if otp && !pw && !key && d.toks[j].kind == tNum && !d.otpValue(j, &e) && !((d.lockerCue(k) || d.codeComplaint(k)) && lockerDigits(d.text[s:e])) {
			// "Code 3-D Secure reçu : 556 208": the first number was not
			// the code; look further in the clause.
			if jj := d.otpAhead(j + 1); jj > 0 {
				j = jj
				s, e = d.valueChunk(j)
				v = d.text[s:e]
			}
		}
		if d.toks[j].kind == tNum && d.maskedCardDigits(j) {
			continue
		}
		if d.toks[j].kind == tNum && j > 0 && d.toks[j-1].kind == tNum && !d.toks[j].nl && d.text[d.toks[j-1].e:d.toks[j].s] == " " {
			// "is 030 2345 6789 your hotline?": the tail of a longer spaced
			// number is no code of its own.
			continue
		}
		// With a locker word, an object word after the code ("box 12") is the
		// compartment the code opens, not where it is printed.
		if otp && !pw && !key && (d.printedOn(d.tokenAt(e-1)) && !d.lockerCue(k) || d.objectBetween(k+1, j)) {
			continue
		}
		if otp && !pw && !key && genericCodeWords[w] && d.namedOtherwise(d.tokenAt(e-1)+1) {
			// "Code 4417 is the locker number, not the pickup code".
			continue
		}
		if otp && !pw && !key && genericCodeWords[w] && !(k > 0 && d.cueOf(k-1)&(cueOTP|cuePassword) != 0) && !d.credentialContext() {
			// A bare "code" with 4–5 or 7–8 plain digits is a credential
			// only when the message says so (verification, locker, sent to
			// me, sign-in ...): "code 4417 from the newsletter" is not.
			// Six digits, grouped digits and letter-digit mixes are shaped
			// like one-time codes and need no more.
			if ee := e; (d.toks[j].kind == tNum && !d.otpValue(j, &ee) || allDigits(d.text[s:ee]) && ee-s != 6) && !((d.lockerCue(k) || d.codeComplaint(k)) && lockerDigits(d.text[s:e])) {
				continue
			}
		}
		if pw && !otp && !key && d.toks[j].kind == tWord && !d.quoted(s, e) {
			// "password admin Negozio!Salumi2025": a user name, then the
			// password itself, which has a password's strength.
			if jj := d.tokenAt(e); jj < n && d.toks[jj].sp && !d.toks[jj].nl && accountHandle(v) {
				if s2, e2 := d.valueChunk(jj); s2 == d.toks[jj].s && unmistakablePassword(d.text[s2:e2]) {
					s, e, v, j = s2, e2, d.text[s2:e2], jj
				}
			}
		}
		if w == "token" && d.toks[j].kind == tNum && d.toks[j].e-d.toks[j].s < 6 {
			continue // "token 4412 for the arcade": a one-time token has six digits or more
		}
		if otp && !pw && !key && !stated && !strings.HasPrefix(w, "pin") && yearLike(d.text[s:e]) {
			// "Code 2024 gilt nicht", "the code worked in 2023": a year
			// after a bare "code" word is a date, not the code.
			continue
		}
		switch {
		case otp && !pw && !key && d.toks[j].kind == tNum && (d.lockerCue(k) || d.codeComplaint(k)) && lockerDigits(d.text[s:e]):
			// "Pakketkluis code: 4471-09": a parcel locker's code may come
			// in unequal groups, which elsewhere make a product number.
			d.add(s, e, Secret, 0.85, "secret-otp")
		case otp && d.otpValue(j, &e):
			d.add(s, e, Secret, 0.85, "secret-otp")
		case pw && passwordLike(v):
			d.add(s, e, Secret, 0.85, "secret-password")
		case pw && w == "passcode" && d.toks[j].kind == tNum && d.otpValue(j, &e):
			d.add(s, e, Secret, 0.85, "secret-otp") // "passcode 30 91 57"
		case pw && (d.quoted(s, e) || colon && d.clauseEnds(e)) && d.plainPassword(v):
			// "password: bluebird", "Passwort „sommerwind“": a cue's colon
			// or quotes make a plain word the value, as a sentence does not
			// ("my password is wrong").
			d.add(s, e, Secret, 0.8, "secret-password")
		case key && keyLike(v):
			d.add(s, e, Secret, 0.85, "secret-key")
		case otp && !pw && !key && d.toks[j].kind == tWord && hasLetter(v) && hasDigit(v) && passwordLike(v) && d.accessCue(k):
			// "Der Zugangscode des Laptops lautet Sommer2021": a word and
			// digits after an access code, a passcode like a password.
			d.add(s, e, Secret, 0.8, "secret-password")
		case otp && w == "token" && keyLike(v):
			d.add(s, e, Secret, 0.85, "secret-key")
		case pw:
			// "I use the same password everywhere, it's chelsea1905": the
			// value after a copula later in the sentence.
			jj := d.passwordAhead(k + 1)
			if jj == 0 {
				continue
			}
			s, e = d.valueChunk(jj)
			d.add(s, e, Secret, 0.8, "secret-password")
		default:
			continue
		}
		k = d.tokenAt(e) - 1
		if k < j {
			k = j
		}
	}
}

// notSecret reports whether a promo, reference or postal word stands in
// the three tokens before cue k or right after it ("codice sconto").
func (d *doc) notSecret(k int) bool {
	for j := k - 1; j >= 0 && j >= k-3; j-- {
		if d.isPunct(j, '?') || d.isPunct(j, '!') || d.isPunct(j, '.') && d.toks[k].upper && j+1 < len(d.toks) && d.toks[j+1].sp {
			// Round 14: "¿Ha llegado la devolución? Contraseña …": the
			// sentence before says nothing about the cue that opens this one.
			break
		}
		if d.toks[j].nl && d.isWord(j) && j+1 < k && d.isPunct(j+1, ':') {
			// A transcript's speaker ("Customer: the code you sent me
			// is ...") says who writes, not what the code is for.
			break
		}
		if d.toks[j].kind == tWord && notSecretCues[elided(d.lw(j))] {
			return true
		}
		if d.toks[j].kind == tWord {
			lw := d.lw(j)
			// Compounds: Gutscheincode, Rabattcode, kortingscode.
			if hasAnySuffixCue(lw) {
				return true
			}
		}
	}
	if hasAnySuffixCue(d.lw(k)) {
		return true
	}
	for j := k + 1; j < len(d.toks) && j <= k+2; j++ {
		if d.toks[j].kind == tWord && notSecretCues[elided(d.lw(j))] {
			if elided(d.lw(j)) == "area" && passwordCues[d.lw(k)] {
				continue // round 14: "la password dell'area clienti": a site's area, no area code
			}
			return true
		}
	}
	return false
}

// elided drops an elided article or preposition (dell'ordine, l'ordine,
// d'acquisto, all'ordine) so the word itself can be looked up.
func elided(w string) string {
	if i := strings.IndexAny(w, "'’"); i > 0 && i <= 5 {
		if w[i] == '\'' {
			return w[i+1:]
		}
		return w[i+len("’"):]
	}
	return w
}

func hasAnySuffixCue(s string) bool {
	for _, p := range []string{"gutschein", "rabatt", "korting", "promo", "aktions", "rückgabe", "retouren", "gift", "sconto", "descuento", "postleit", "bestell", "kunden", "auftrags", "rechnungs", "cadeau", "kado", "geschenk", "regalo"} {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}

// valueChunk is the whitespace-delimited chunk starting at token j, without
// surrounding quotes, brackets or trailing sentence punctuation.
func (d *doc) valueChunk(j int) (int, int) {
	t := d.text
	s := d.toks[j].s
	e := s
	for e < len(t) && e-s < 200 {
		c := t[e]
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			break
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(t[e:])
			if r == '\u00a0' || r == '”' || r == '»' || r == '“' {
				break
			}
			e += n
			continue
		}
		e++
	}
	// A trailing '*' closes markdown emphasis only when one opens the
	// value ("*Sol.2024*"); alone it is the password's own symbol
	// ("Alameda_2026*").
	star := t[s] == '*'
	for e > s {
		c := t[e-1]
		if c == '.' || c == ',' || c == ';' || c == ':' || c == ')' || c == '"' || c == '\'' || c == '`' || c == '*' && star || c == ']' || c == '?' {
			e--
			continue
		}
		break
	}
	for s < e && (t[s] == '"' || t[s] == '\'' || t[s] == '`' || t[s] == '(' || t[s] == '[' || t[s] == '*') {
		s++
	}
	return s, e
}

// numberRunOver8 reports whether the number tokens from j on that single
// spaces join on one line hold more than eight digits. It stops counting
// there: asked at every group of a long run ("code 12 34 56 …"), a full
// count made detection quadratic (1 MB of two-digit groups: 3 minutes).
func (d *doc) numberRunOver8(j int) bool {
	n := 0
	for i := j; i < len(d.toks) && d.toks[i].kind == tNum && (i == j || d.toks[i].sp && !d.toks[i].nl && d.toks[i].s-d.toks[i-1].e == 1); i++ {
		d.work++
		if n += d.toks[i].e - d.toks[i].s; n > 8 {
			return true
		}
	}
	return false
}

// otpValue accepts a one-time code at token j: 4–8 digits, or two groups of
// 3–4 digits ("123 456"), or 4–10 letters and digits with at least two
// digits; it may move *e to the end of the second group.
func (d *doc) otpValue(j int, e *int) bool {
	tk := &d.toks[j]
	l := tk.e - tk.s
	if tk.kind == tNum {
		if d.numberRunOver8(j) {
			// The head of a longer number typed in groups ("0151 2345
			// 6789"): a code taken from it would leave the rest in clear,
			// and one-time codes are shorter.
			return false
		}
		if l >= 3 && l <= 4 && j+1 < len(d.toks) && d.toks[j+1].kind == tNum && d.toks[j+1].sp && !d.toks[j+1].nl && d.toks[j+1].e-d.toks[j+1].s == l {
			*e = d.toks[j+1].e
			return true
		}
		if l >= 3 && l <= 4 && j+1 < len(d.toks) && d.toks[j+1].kind == tNum && d.toks[j+1].sp && !d.toks[j+1].nl &&
			d.toks[j+1].e-d.toks[j+1].s >= 3 && d.toks[j+1].e-d.toks[j+1].s <= 4 && (*e == tk.e || *e == d.toks[j+1].e) &&
			(j+2 >= len(d.toks) || d.toks[j+2].kind != tNum && !(d.toks[j+2].kind == tPunct && !d.toks[j+2].sp && j+3 < len(d.toks) && d.toks[j+3].kind == tNum)) {
			// "4471 902", "731 6044": a code typed in two groups of
			// three and four digits, the whole number (not a phone's
			// first groups, which run on).
			*e = d.toks[j+1].e
			return true
		}
		if l >= 4 && l <= 8 && *e == tk.e {
			return true
		}
		if m := d.twoDigitGroups(j); m > j && (*e == tk.e || *e == d.toks[m].e) {
			*e = d.toks[m].e
			return true
		}
		if l >= 4 && l <= 8 && *e > tk.e {
			// 123-456 or 12.34.56: groups of one length. Unequal groups
			// (4471-20, 4471-2093-11) are article and product numbers.
			v := d.text[tk.s:*e]
			digits, grp := 0, 0
			for i := 0; i <= len(v); i++ {
				if i < len(v) && isDigit(v[i]) {
					digits++
					continue
				}
				if i < len(v) && v[i] != '-' && v[i] != '.' {
					return false
				}
				g := i - strings.LastIndexAny(v[:i], "-.") - 1
				if grp != 0 && g != grp {
					return false
				}
				grp = g
			}
			return digits >= 4 && digits <= 10
		}
		if l == 3 && j+2 < len(d.toks) && d.isPunct(j+1, '-') && d.toks[j+2].kind == tNum && d.toks[j+2].e-d.toks[j+2].s == 3 {
			*e = d.toks[j+2].e
			return true
		}
		return false
	}
	v := d.text[tk.s:*e]
	if recoveryShaped(v) || mailedCodeShaped(v) {
		return true
	}
	if len(v) < 4 || len(v) > 12 {
		return false
	}
	digits, letters := 0, 0
	for i := 0; i < len(v); i++ {
		switch {
		case isDigit(v[i]):
			digits++
		case isAlpha(v[i]):
			letters++
		case v[i] == '-':
		default:
			return false
		}
	}
	if promoShaped(v) {
		return false
	}
	if dash := strings.IndexByte(v, '-'); dash >= 0 {
		// One-time codes carry at most a short letter prefix (G-582914) or
		// are two equal groups of capitals and digits (K7Q-2XM, a backup
		// code); XK-4471-B and AB-4471-XZ-20 are product codes.
		if strings.Count(v, "-") > 1 {
			return false
		}
		left, right := v[:dash], v[dash+1:]
		pair := len(left) == len(right) && len(left) >= 3 && len(left) <= 4 && upperOrDigits(left) && upperOrDigits(right)
		if !pair && (dash > 3 || !allDigits(right)) {
			return false
		}
	}
	return digits >= 2 && letters <= 8
}

// codeFunctionWords may stand next to a code word without saying what
// kind of code it is: articles, possessives, demonstratives, "same", "new".
var codeFunctionWords = set(strings.Fields(`
	the a an my your his her our their this that these those same new old last first another wrong correct right
	which what whose any one six-digit 6-digit four-digit 4-digit digit
	der die das den dem des ein eine einen einem mein meine meinen ihr ihre ihren dein deinen diesen dieser neuen neue richtigen falschen
	le la les l' un une mon ma ton votre vos ce cet cette nouveau même bon mauvais
	el los las una mi tu su este ese esa nuevo mismo
	de het een mijn je jouw uw deze nieuwe zelfde juiste
	il lo gli uno mio tuo suo questo quel quello nuovo stesso giusto`))

// codePreps attach what a code belongs to ("the code of the store", "le
// code du magasin", "il codice della promozione", "der Code der Filiale").
var codePreps = set(strings.Fields(`of for from du de des del della dello dei delle di der van voor von vom für pour para per`))

// kindWords name a kind of code that is no credential: what it is printed
// for or belongs to ("size code", "store code", "codice colore", "code du
// magasin", "el código de la tienda", "der Code der Filiale").
var kindWords = set(strings.Fields(`
	size store shop branch catalogue catalog leaflet flyer brochure shipping colour color style item article
	product discount sale offer voucher gift tax country area region dress qr bar
	stock inventory part model variant warehouse shelf bin batch lot
	claim case incident complaint warranty event
	schaden reklamation garantie
	réclamation sinistre garantie
	reclamación siniestro garantía
	claim klacht reclamatie garantie
	reclamo sinistro garanzia
	lager bestand modell variante teil
	référence modèle variante pièce entrepôt
	existencias modelo variante pieza almacén referencia
	voorraad model variant onderdeel magazijn
	scorta modello variante ricambio magazzino
	größe grösse farbe filiale laden geschäft katalog prospekt artikel angebot aktion
	taille couleur magasin boutique catalogue article offre rayon
	talla color tienda catálogo folleto artículo oferta promoción
	maat kleur winkel filiaal folder artikel aanbieding actie
	taglia colore negozio catalogo volantino articolo offerta promozione barre barras`))

// qualifiedCode reports whether the bare code word k is qualified as a
// kind of code that is no credential, by a kind word before it ("size
// code"), right after it ("codice colore") or in a phrase after it ("the
// code of the store", "el código de la tienda"): a statement of what the
// code is, where a credential's would say it was sent or is for signing in.
func (d *doc) qualifiedCode(k int) bool {
	// A kind word after the code must be on its line; one before it may
	// start the line ("Stock code 262834" opening a message).
	kind := func(m int) bool {
		return m >= 0 && m < len(d.toks) && d.isWord(m) && (m < k || !d.toks[m].nl) && kindWords[elided(d.lw(m))]
	}
	if k > 0 && !d.toks[k].nl && kind(k-1) || kind(k+1) {
		return true
	}
	m := k + 1
	if m < len(d.toks) && d.isWord(m) && codePreps[d.lw(m)] {
		m++
		for m < len(d.toks) && d.isWord(m) && codeFunctionWords[d.lw(m)] {
			m++
		}
		return kind(m)
	}
	return false
}

// credentialWords say a code is a credential: what it verifies or
// unlocks, and how it came ("verification", "one-time", "locker", "door",
// "SMS"), in the six languages.
var credentialWords = set(strings.Fields(`
	verification verify verified verifying confirm confirmation security secure one-time onetime otp 2fa mfa two-factor
	authentication authenticate authenticator authorise authorize login log-in logging signin sign-in sign signing
	pickup pick-up collect collection locker lockers door gate access unlock unlocking entry alarm pin tan
	reset expired expires expire valid
	verifizierung verifizieren bestätigung bestätigen sicherheit sicherheits einmal einmalig anmeldung anmelden einloggen
	abholen abholung packstation schließfach paketfach paketbox abholstation tür tor zugang entsperren freischalten
	vérification vérifier confirmation sécurité unique connexion connecter identifier authentification
	retrait récupérer casier consigne porte accès déverrouiller
	verificación verificar confirmación confirmar seguridad único iniciar sesión acceder autenticación recogida recoger
	taquilla casillero puerta acceso desbloquear
	verificatie verifiëren bevestiging bevestigen beveiliging eenmalig eenmalige inloggen aanmelden ophalen pakketautomaat
	kluis deur toegang ontgrendelen
	verifica verificare conferma confermare sicurezza monouso accesso accedere autenticazione ritiro ritirare
	armadietto locker porta sblocco sbloccare
	backup recovery wiederherstellung secours respaldo recuperación récupération herstel recupero
	validation validación validazione validatie validierung convalida
	lock déverrouillage desbloqueo ontgrendeling entsperrung schloss schloß cadenas candado lucchetto hangslot fietsslot`))

// credentialContext reports, once per message, whether it says a code is
// a credential anywhere: a credential word, a password, sign-in or key
// word, a one-time code cue other than the bare "code", a channel it came
// by, or that it was sent or received. A bare "code" with a number in a
// message that says none of this is a discount, reference or product code.
func (d *doc) credentialContext() bool {
	if d.cred != 0 {
		return d.cred > 0
	}
	d.cred = -1
	if d.loginContext() {
		d.cred = 1
		return true
	}
	for m := range d.toks {
		if d.toks[m].kind != tWord {
			continue
		}
		lw := elided(d.lw(m))
		if i := strings.LastIndexByte(lw, '-'); i > 0 && i+1 < len(lw) && credentialWords[lw[i+1:]] {
			d.cred = 1 // "iDEAL-bevestiging", "SMS-Bestätigung"
			break
		}
		if credentialWords[lw] || deliveryWords[lw] || channelWords[lw] || otpCues[lw] && !genericCodeWords[lw] || keyCues[lw] ||
			d.lw(m) == "secure" || strings.HasSuffix(lw, "code") && lw != "code" && otpCues[lw] {
			d.cred = 1
			break
		}
	}
	return d.cred > 0
}

// numberWords say "number" (a "code number" is a reference's).
var numberWords = set(strings.Fields(`number no nr nummer numéro número numero num n°`))

// deliveryWords say a code was sent to or received by the writer.
var deliveryWords = set(strings.Fields(`sent send texted emailed received got get getting arrived came
	geschickt gesendet geschickt erhalten bekommen gekommen zugeschickt envoyé envoyée reçu reçue arrivé
	enviado enviaste enviasteis recibido recibí llegó llegado inviato inviata ricevuto ricevuta arrivato arrivata
	gestuurd verstuurd gekregen kreeg ontvangen stuurden`))

// promoContext reports, once per message, whether it speaks of a discount
// or promotion anywhere (a promo word, or "15 off", "20% off").
func (d *doc) promoContext() bool {
	if d.promo != 0 {
		return d.promo > 0
	}
	d.promo = -1
	for m := range d.toks {
		if d.toks[m].kind != tWord {
			continue
		}
		if d.cueOf(m)&cuePromo != 0 || d.lw(m) == "off" && m > 0 && (d.toks[m-1].kind == tNum || d.isPunct(m-1, '%')) || d.freeShipping(m) {
			d.promo = 1
			break
		}
	}
	return d.promo > 0
}

// freeShipping reports "free shipping", "gratis verzending", "livraison
// gratuite", "envío gratis", "spedizione gratuita", "kostenloser Versand"
// at word m: an offer, as a promo word is.
func (d *doc) freeShipping(m int) bool {
	if !freeWords[d.lw(m)] {
		return false
	}
	for _, j := range [2]int{m - 1, m + 1} {
		if d.isWord(j) && shippingWords[d.lw(j)] {
			return true
		}
	}
	return false
}

var freeWords = set(strings.Fields(`free gratis gratuit gratuite gratuito gratuita kostenlos kostenlose kostenloser kostenlosen`))

var shippingWords = set(strings.Fields(`shipping delivery postage returns verzending bezorging levering livraison envío envio
	entrega spedizione consegna versand lieferung rücksendung`))

// discountAfter reports whether what a delivery word at m got is a discount
// ("got 10% off", "kreeg 10% korting", "got free shipping"), not a code.
func (d *doc) discountAfter(m int) bool {
	for j := m + 1; j < len(d.toks) && j <= m+3; j++ {
		if d.isPunct(j, '%') || d.isWord(j) && (d.cueOf(j)&cuePromo != 0 || d.lw(j) == "off" || d.freeShipping(j)) {
			return true
		}
	}
	return false
}

// deliveredCode reports a word saying the code was sent or received, or
// the channel it came by, near the code word k on its line.
func (d *doc) deliveredCode(k int) bool {
	for m := max(0, k-4); m < len(d.toks) && m <= k+8; m++ {
		if m > k && d.toks[m].nl {
			break
		}
		if d.isWord(m) && (deliveryWords[d.lw(m)] && !d.discountAfter(m) || channelWords[d.lw(m)]) {
			return true
		}
	}
	return false
}

// namedOtherwise reports whether the words from token m name the value
// something else: "4417 is the locker number", "1184 c'est le numéro".
func (d *doc) namedOtherwise(m int) bool {
	if m >= len(d.toks) || !d.isWord(m) || !copulas[d.lw(m)] {
		return false
	}
	for j := m + 1; j < len(d.toks) && j <= m+4; j++ {
		if !d.isWord(j) {
			return false
		}
		lw := d.lw(j)
		if numberWords[lw] || notSecretCues[lw] || d.cueOf(j)&(cueRef|cuePromo) != 0 {
			return true
		}
	}
	return false
}

// compoundSuffixCues end closed compounds that name a key or password.
var compoundSuffixCues = []string{"schlüssel", "sleutel", "token", "passwort", "kennwort", "wachtwoord"}

// compoundCue returns the cue a closed compound ends in, or "".
func compoundCue(w string) string {
	for _, suf := range compoundSuffixCues {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			return suf
		}
	}
	return ""
}

// upperOrDigits: v is made of capitals and digits only.
func upperOrDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isUpper(v[i]) && !isDigit(v[i]) {
			return false
		}
	}
	return v != ""
}

// yearLike: four digits from 1900 to 2099.
func yearLike(v string) bool {
	return len(v) == 4 && allDigits(v) && (v[:2] == "19" || v[:2] == "20")
}

// promoShaped: a word of four or more letters then at most three digits
// (WELCOME10, SOMMER2024 has four and is caught by its cue), the shape of
// discount codes; one-time codes are digits or random mixes (G-582914,
// A7K9Q2).
func promoShaped(v string) bool {
	i := 0
	for i < len(v) && isAlpha(v[i]) {
		i++
	}
	if i < 4 {
		return false
	}
	rest := strings.TrimLeft(v[i:], "-")
	if len(rest) == 0 || len(rest) > 3 {
		return false
	}
	for j := 0; j < len(rest); j++ {
		if !isDigit(rest[j]) {
			return false
		}
	}
	return true
}

// passwordLike: 4–64 characters without spaces that hold a digit, a symbol
// or an inner capital, so "my password is wrong" is not a secret.
func passwordLike(v string) bool {
	if len(v) < 4 || len(v) > 64 {
		return false
	}
	digit, sym, innerUp, lower := false, false, false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			digit = true
		case isUpper(c):
			if i > 0 {
				innerUp = true
			}
		case isLower(c):
			lower = true
		case c >= utf8.RuneSelf:
		default:
			sym = true
		}
	}
	if !digit && !innerUp && lower && strings.Count(v, "'")+strings.Count(v, "’") == 1 && onlyLettersAnd(v, "'’") {
		return false // an elision (l'ai, j'ai), not a password
	}
	return digit || sym || innerUp
}

// keyLike: at least 16 characters of a key alphabet with high entropy
// (≥ 3.5 bits per character, or 32+ hex digits).
func keyLike(v string) bool {
	if len(v) < 16 || len(v) > 512 {
		return false
	}
	hex := true
	for i := 0; i < len(v); i++ {
		if !isKeyByte(v[i]) {
			return false
		}
		if !isHex(v[i]) {
			hex = false
		}
	}
	if hex && len(v) >= 32 {
		return true
	}
	return entropy(v) >= 3.5 && hasDigit(v)
}

func hasDigit(v string) bool {
	for i := 0; i < len(v); i++ {
		if isDigit(v[i]) {
			return true
		}
	}
	return false
}

// entropy is the Shannon entropy of v in bits per byte.
func entropy(v string) float64 {
	var counts [256]int
	for i := 0; i < len(v); i++ {
		counts[v[i]]++
	}
	h, n := 0.0, float64(len(v))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// scanKeyPrefixes finds provider keys by their prefix at a token start.
func (d *doc) scanKeyPrefixes() {
	t := d.text
	// skip is the end of the last scanned value: tokens inside it are not
	// scanned again, which keeps "eyJ.eyJ.eyJ..." linear.
	skip := 0
	for k := range d.toks {
		tk := &d.toks[k]
		if tk.kind != tWord || tk.s < skip {
			continue
		}
		s := tk.s
		c := t[s]
		if !(c == 's' || c == 'r' || c == 'w' || c == 'g' || c == 'x' || c == 'A' || c == 'S' || c == 'n' || c == 'p' ||
			c == 'h' || c == 'd' || c == 'y' || c == 'k' || c == 'E' || c == 'l' || c == 'e') {
			continue
		}
		for _, p := range keyPrefixes {
			if !strings.HasPrefix(t[s:], p) {
				continue
			}
			d.work++
			e := s + len(p)
			for e < len(t) && isKeyByte(t[e]) && e-s < 512 {
				e++
			}
			skip = e
			d.work += (e - s) / 16
			// Trailing dots and dashes are sentence punctuation, but the
			// prefix's own ("key-", "SG.") stays: "my key-" ends there.
			for e > s+len(p) && (t[e-1] == '.' || t[e-1] == '-') {
				e--
			}
			body := t[s+len(p) : e]
			if len(body) < 12 || !hasDigit(body) && entropy(body) < 3 {
				break
			}
			if p == "AKIA" || p == "ASIA" {
				if len(body) != 16 || strings.ToUpper(body) != body {
					break
				}
			}
			if p == "key-" || p == "sk-" || p == "secret_" {
				if len(body) < 20 || entropy(body) < 3.5 {
					break
				}
			}
			d.add(s, e, Secret, 0.95, "secret-key-prefix")
			break
		}
		// JWTs: three base64url parts, the first a JSON header ("eyJ").
		if strings.HasPrefix(t[s:], "eyJ") {
			e := s
			dots := 0
			for e < len(t) && (isAlnum(t[e]) || t[e] == '_' || t[e] == '-' || t[e] == '.') && e-s < 4096 {
				if t[e] == '.' {
					dots++
				}
				e++
			}
			skip = e
			d.work += (e - s) / 16
			if dots == 2 && e-s > 30 {
				d.add(s, e, Secret, 0.95, "secret-jwt")
			}
		}
	}
}

// scanURLSecrets finds credentials in URL query strings (reset links,
// signed URLs): the value only, not the URL.
func (d *doc) scanURLSecrets() {
	t := d.text
	for off := 0; ; {
		i := strings.IndexByte(t[off:], '=')
		if i < 0 {
			return
		}
		eq := off + i
		off = eq + 1
		// The parameter name, back to '?' or '&'.
		p := eq
		for p > 0 && eq-p < 20 && (isAlnum(t[p-1]) || t[p-1] == '_' || t[p-1] == '-' || t[p-1] >= utf8.RuneSelf) {
			p--
		}
		if p == 0 || (t[p-1] != '?' && t[p-1] != '&' && t[p-1] != ';') {
			continue
		}
		name := strings.ToLower(t[p : eq+1])
		ok, generic := false, false
		for _, q := range urlSecretParams {
			if name == q {
				ok = true
				break
			}
		}
		for _, q := range urlGenericParams {
			if !ok && name == q {
				ok, generic = true, true
				break
			}
		}
		if !ok {
			continue
		}
		d.work++
		e := eq + 1
		for e < len(t) && e-eq < 2048 && (isAlnum(t[e]) || strings.IndexByte("-._~%+/", t[e]) >= 0) {
			e++
		}
		for e > eq+1 && (t[e-1] == '.' || t[e-1] == ',') {
			e--
		}
		v := t[eq+1 : e]
		if len(v) < 8 || !hasDigit(v) && entropy(v) < 3 {
			continue
		}
		if generic && (!keyLike(v) || uuidShaped(v) || !mixedCase(v) && !hexRun(v, 32)) {
			// "?id=48213", "?id=<uuid>": a record's id. A long random
			// mixed-case value under "id" is a token (a reset link's).
			continue
		}
		d.add(eq+1, e, Secret, 0.9, "secret-url")
		off = e
	}
}

// otpAhead returns the first numeric token from j within eight words of
// the same clause, or 0 when a reference word or clause end comes first.
func (d *doc) otpAhead(j int) int {
	for words := 0; j < len(d.toks) && words < 8; j++ {
		tk := &d.toks[j]
		if tk.nl && words > 0 {
			return 0
		}
		if tk.kind == tPunct {
			c := d.text[tk.s]
			if c == ',' && words > 0 && j+1 < len(d.toks) && d.toks[j+1].kind == tNum && !d.toks[j+1].nl {
				continue // "the code you texted me, 482913"
			}
			if c == ',' && d.entryClause(j+1) {
				continue // "it asks for the code, I typed 4821", "a PIN, mine is 4821"
			}
			if c == ',' && words > 0 && d.colonValueAhead(j+1) {
				continue // "login code for the dashboard, as the SMS said: 448 209"
			}
			if c == '.' || c == '!' || c == '?' || c == ',' || c == ';' {
				return 0
			}
			continue
		}
		if tk.kind == tNum {
			l := tk.e - tk.s
			if l >= 3 && l <= 8 {
				return j
			}
			if e := tk.e; l == 2 && d.otpValue(j, &e) {
				return j
			}
			continue
		}
		if lw := d.lw(j); (notSecretCues[lw] || cueWords[lw]&(cueRef|cuePhone|cueMoney) != 0 && !otpCues[lw] && !channelWords[lw]) && !d.purposeBefore(j) && !d.pickupAround(j) {
			return 0
		}
		words++
	}
	return 0
}

// purposeBefore reports a verb of confirming among the two words before
// token j: "the code to confirm the payment: 731 604" names what the code
// is for, not a payment reference.
func (d *doc) purposeBefore(j int) bool {
	for m := j - 1; m >= 0 && m >= j-2; m-- {
		if d.isWord(m) && purposeVerbs[d.lw(m)] {
			return true
		}
	}
	return false
}

// pickupVerbs collect a parcel with a code: the order or parcel named after
// them (before them in Dutch and German word order) is what the code
// releases, not a reference ("el código para recoger mi pedido es …", "il
// codice per ritirare il pacco è …", "de code om het pakket op te halen is
// …": round 15).
var pickupVerbs = set(strings.Fields(`collect recoger retirar ritirare retirer abholen abzuholen ophalen halen`))

// pickupAround reports a pickup verb among the three words before token j
// or the three after it, in its clause.
func (d *doc) pickupAround(j int) bool {
	for m, words := j-1, 0; m >= 0 && words < 3; m-- {
		if !d.isWord(m) {
			return false
		}
		if pickupVerbs[d.lw(m)] {
			return true
		}
		words++
	}
	for m, words := j+1, 0; m < len(d.toks) && words < 3; m++ {
		if !d.isWord(m) || d.toks[m].nl {
			return false
		}
		if pickupVerbs[d.lw(m)] {
			return true
		}
		words++
	}
	return false
}

// purposeVerbs say what a one-time code confirms.
var purposeVerbs = set(strings.Fields(`confirm approve authorise authorize validate verify
	bestätigen freigeben autorisieren valider confirmer autoriser validar confirmar autorizar
	confermare autorizzare convalidare bevestigen goedkeuren valideren`))

// changeVerbs say a password was changed or reset ("changed it to",
// "auf ... geändert", "je l'ai changé en", "la cambié a", "l'ho cambiata
// in", "gewijzigd naar").
var changeVerbs = set(strings.Fields(`
	changed change reset set updated update switched
	geändert geaendert zurückgesetzt gesetzt umgestellt aktualisiert
	changé changée réinitialisé réinitialisée modifié modifiée mis remplacé
	cambié cambie cambiado cambiada restablecí restablecido restablecida puse puesto modifiqué
	cambiata cambiato reimpostata reimpostato impostata impostato modificata modificato messo messa
	gewijzigd veranderd gereset aangepast ingesteld gezet`))

// changePreps stand between the change verb and the new value.
var changePreps = set(strings.Fields(`to into auf zu in en à a pour par por con naar op`))

// changeObjects refer to the password that was changed: pronouns, elided
// pronouns (l'ai, l'ho) and password words.
var changeObjects = set(strings.Fields(`it es ihn sie la lo le het hem my mein meine mon ma mi mijn il mio mia the das den le el de`))

// loginWords make a message about signing in, where a changed value is a
// password.
var loginWords = set(strings.Fields(`login log logging logged logs sign signing signed account app anmelden einloggen anmeldung
	konto connecter connexion connecte compte identifier iniciar sesión acceder entrar cuenta accedere accesso entra
	entrare inloggen inlog aanmelden account`))

// changedPassword reads "changed it to <value>" at the change verb k (or
// "auf <value> geändert" before it) and reports the value as a password
// when it looks like one and the message is about a password or signing
// in. It returns the last token it consumed.
func (d *doc) changedPassword(k int) int {
	n := len(d.toks)
	d.work++
	object := false
	// An object right before the verb or its auxiliary: "je l'ai changé",
	// "la cambié", "l'ho cambiata", "ik heb het gewijzigd" (not "het
	// formaat gewijzigd": the size was changed).
	if m := k - 1; m >= 0 && d.isWord(m) {
		if auxVerbs[d.lw(m)] && m > 0 && d.isWord(m-1) {
			m--
		}
		object = d.changeObject(m)
	}
	// Forwards: verb, object words, preposition, value.
	for m, words := k+1, 0; m < n && words < 5; m++ {
		if d.toks[m].nl || d.toks[m].kind == tPunct {
			break
		}
		lw := d.lw(m)
		if changePreps[lw] && m+1 < n && !d.toks[m+1].nl {
			v := m + 1
			if d.isPunct(v, ':') && v+1 < n && !d.toks[v+1].nl {
				v++ // "changed it to: Kx8#mQ2z"
			}
			if (object || d.changeObjectBetween(k+1, m)) && d.passwordAt(v) {
				return v
			}
			break
		}
		if !d.changeObject(m) && !passwordCues[lw] && lw != "mot" && lw != "passe" && lw != "de" {
			break
		}
		words++
	}
	// Backwards: pronoun, preposition, value, verb ("ich habe es auf
	// Sonne2026! geändert", "ik heb het in Fiets2026 veranderd").
	{
		for m := k - 1; m >= 2 && m >= k-6; m-- {
			if d.toks[m].nl {
				break
			}
			if d.isWord(m-1) && changePreps[d.lw(m-1)] && d.toks[m].kind != tPunct {
				if !pronounObjects[d.lw(m-2)] && !passwordCues[d.lw(m-2)] {
					break
				}
				if s, e := d.valueChunk(m); s < e && d.tokenAt(e-1) == k-1 || s < e && d.tokenAt(e-1) >= k-2 && d.tokenAt(e-1) < k {
					if d.passwordAt(m) {
						return k
					}
				}
				break
			}
		}
	}
	return k
}

// auxVerbs stand between an object pronoun and its participle ("l'ai
// changé", "heb het", "habe es").
var auxVerbs = set(strings.Fields(`have has had ai avais habe hab hatte he ha has heb hebt had ho hai abbiamo`))

// pronounObjects refer back to a password named before.
var pronounObjects = set(strings.Fields(`it es ihn het hem passwort kennwort wachtwoord`))

func (d *doc) changeObject(m int) bool {
	lw := d.lw(m)
	return changeObjects[lw] || passwordCues[lw] || strings.HasPrefix(lw, "l'") || strings.HasPrefix(lw, "l’") || lw == "lo" || lw == "la"
}

func (d *doc) changeObjectBetween(a, b int) bool {
	for m := a; m < b; m++ {
		if d.isWord(m) && d.changeObject(m) {
			return true
		}
	}
	return false
}

// passwordAt adds the chunk at token j as a password when it is one beyond
// doubt (a letter, a digit, and a symbol or both cases; not a promo or
// product shape) and the message speaks of a password or of signing in.
func (d *doc) passwordAt(j int) bool {
	s, e := d.valueChunk(j)
	if s >= e || s != d.toks[j].s {
		return false
	}
	v := d.text[s:e]
	if !strongPassword(v) || promoShaped(v) || !d.loginContext() && !passwordSymbol(v) {
		return false
	}
	d.add(s, e, Secret, 0.8, "secret-changed-password")
	return true
}

// passwordSymbol: v holds a symbol that product codes and sizes do not
// (! # $ % & * @ ? = ~ ^), next to its letters and digits.
func passwordSymbol(v string) bool {
	return strings.ContainsAny(v, "!#$%&*@?=~^")
}

// strongPassword: 6–64 characters without spaces with a letter, a digit,
// and a symbol or both letter cases.
func strongPassword(v string) bool {
	if len(v) < 6 || len(v) > 64 {
		return false
	}
	up, lo, dg, sym := false, false, false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			dg = true
		case isUpper(c):
			up = true
		case isLower(c):
			lo = true
		case c == ' ' || c >= utf8.RuneSelf:
			return false
		default:
			sym = true
		}
	}
	return (up || lo) && dg && (sym || up && lo)
}

// loginContext reports, once per message, whether it names a password or
// signing in anywhere.
func (d *doc) loginContext() bool {
	if d.login != 0 {
		return d.login > 0
	}
	d.login = -1
	for m := range d.toks {
		if d.toks[m].kind != tWord {
			continue
		}
		lw := elided(d.lw(m))
		if passwordCues[lw] || loginWords[lw] || lw == "reset" || strings.HasPrefix(lw, "réinitialis") || strings.HasPrefix(lw, "reimpost") || strings.HasPrefix(lw, "zurückgesetzt") {
			d.login = 1
			break
		}
	}
	return d.login > 0
}

// genericCodeWords say "code" and nothing more about it.
var genericCodeWords = map[string]bool{"code": true, "codes": true, "code:": true, "código": true, "codigo": true, "códigos": true, "codice": true, "codici": true, "codigo:": true, "codice:": true}

// authAbbrev reports "auth" (or "auth.", "autor.", "aut.") right before the
// code word k: short for authorisation as often as for authentication.
func (d *doc) authAbbrev(k int) bool {
	m := k - 1
	if m >= 0 && d.isPunct(m, '.') && !d.toks[m].sp {
		m--
	}
	if m < 0 || !d.isWord(m) || d.toks[m].nl {
		return false
	}
	switch d.lw(m) {
	case "auth", "autor", "aut", "autoriz", "autoris", "authoriz", "authoris":
		return true
	}
	return false
}

// paymentWords say a message is about a card payment that went through:
// a charge, a receipt, a terminal, a bank statement.
var paymentWords = set(strings.Fields(`charged charge charges transaction transactions receipt terminal pending statement
	debited billed merchant purchase
	abgebucht abbuchung buchung kontoauszug beleg kassenbon transaktion zahlung bezahlt
	débité débitée prélevé prélèvement transaction relevé reçu ticket paiement
	cargo cargos cobrado cobro cargado transacción recibo datáfono extracto
	afgeschreven afschrijving transactie bonnetje kassabon pinautomaat betaalautomaat afschrift betaling
	addebito addebitato addebitati transazione scontrino ricevuta pos estratto terminale`))

// paymentContext reports whether the message speaks of a card payment; it
// is asked once per message.
func (d *doc) paymentContext() bool {
	if d.payment != 0 {
		return d.payment > 0
	}
	d.payment = -1
	for m := range d.toks {
		if d.isWord(m) && paymentWords[d.lw(m)] {
			d.payment = 1
			break
		}
	}
	return d.payment > 0
}

// promoEarlier reports a promo or discount word earlier in the sentence
// of token k (within twelve words): "which promo should I use, the code
// X7K2P9 or SPRING20?".
func (d *doc) promoEarlier(k int) bool {
	for j, words := k-1, 0; j >= 0 && words < 12; j-- {
		tk := &d.toks[j]
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' {
				return false
			}
			continue
		}
		if d.cueOf(j)&cuePromo != 0 {
			return true
		}
		if tk.nl {
			return false
		}
		words++
	}
	return false
}

// inURL reports whether word token k is part of a URL or path
// ("/password/reset?id=").
func (d *doc) inURL(k int) bool {
	s, e := d.toks[k].s, d.toks[k].e
	return s > 0 && d.text[s-1] == '/' || e < len(d.text) && (d.text[e] == '/' || d.text[e] == '?')
}

// chunkEnd is the end of the value chunk at token j.
func (d *doc) chunkEnd(j int) int {
	_, e := d.valueChunk(j)
	return e
}

// apiWords name an API credential; with one anywhere in the message a
// bare hex key is the credential it speaks of ("la clé API ne marche pas :
// <hex>", "Fehler 'API-Schlüssel ungültig', wir nutzen: <hex>"), even in a
// later line or after an error word.
var apiWords = set(strings.Fields(`api apikey api-key api_key api-token api-schlüssel apischlüssel api-sleutel
	apisleutel access-token access_token`))

// hashWords say a hex string is a digest or an identifier, not a key.
var hashWords = set(strings.Fields(`hash md5 sha sha1 sha256 checksum prüfsumme commit digest fingerprint etag
	empreinte somme huella impronta controllo`))

// scanNamedKeys reports 32+ hex digits (letters and digits both) standing
// alone in a message that names an API key or token.
func (d *doc) scanNamedKeys() {
	// Most messages hold no 32-character word: look for one before
	// looking up every word for an API word.
	first := -1
	for j := range d.toks {
		if tk := &d.toks[j]; tk.kind == tWord && tk.digit && tk.e-tk.s >= 32 {
			first = j
			break
		}
	}
	if first < 0 {
		return
	}
	named := false
	for m := range d.toks {
		if d.isWord(m) && apiWords[d.lw(m)] {
			named = true
			break
		}
	}
	for j := first; j < len(d.toks); j++ {
		tk := &d.toks[j]
		if tk.kind != tWord || !tk.digit || tk.e-tk.s < 32 || !tk.sp && j > 0 && !d.isPunct(j-1, ':') {
			continue
		}
		v := d.text[tk.s:tk.e]
		if i := strings.IndexByte(v, '_'); i >= 2 && i <= 6 && onlyLettersAnd(v[:i], "") {
			// A short provider prefix before the hex body: WooCommerce's
			// "ck_"/"cs_", "whsec_", "key_".
			v = v[i+1:]
		}
		if !hexRun(v, 32) || strings.Trim(v, "0123456789") == "" || d.inURL(j) || !named && !d.keyWordBefore(j) {
			continue
		}
		hashed := false
		for m := max(0, j-3); m < j; m++ {
			if d.isWord(m) && hashWords[d.lw(m)] {
				hashed = true
			}
		}
		if !hashed {
			d.add(tk.s, tk.e, Secret, 0.8, "secret-key")
		}
	}
}

// keyAhead returns the first token within eight words of j, in the same
// sentence, whose chunk is a key (32+ hex digits or a long high-entropy
// string), or 0.
func (d *doc) keyAhead(j int) int {
	lastNot := -1
	for words := 0; j < len(d.toks) && words < 8; j++ {
		tk := &d.toks[j]
		if tk.nl && words > 0 {
			return 0
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' && j+1 < len(d.toks) && d.toks[j+1].sp || c == '!' || c == '?' {
				return 0
			}
			continue
		}
		if s, e := d.valueChunk(j); s == tk.s || s == tk.s+1 {
			if v := d.text[s:e]; len(v) >= 20 && keyLike(v) && (hexRun(v, 32) || mixedCase(v) || upperKey(v)) {
				if lastNot >= 0 && (lastNot == j-1 || lastNot == j-2 && d.toks[j-1].kind == tPunct) {
					return 0 // "order ABCD...": the reference word labels the value
				}
				return j
			}
		}
		if notSecretCues[d.lw(j)] {
			// "the API key for the product feed is ...": a reference word
			// in the words between names what the key is for; only one
			// right before the value makes it the reference.
			lastNot = j
		}
		words++
	}
	return 0
}

// cardEndWords introduce the visible end of a masked card ("ending in
// 4821", "endet auf", "terminant par", "acabada en", "che termina con",
// "eindigend op").
var cardEndWords = map[string]bool{
	"ending": true, "ends": true, "endet": true, "endend": true, "endende": true, "terminant": true, "termine": true,
	"terminée": true, "terminé": true, "termina": true, "terminada": true, "terminado": true, "acabada": true,
	"acabado": true, "acaba": true, "eindigend": true, "eindigt": true, "eindigende": true, "finisce": true,
	"terminante": true,
}

// digitWords say "digits" in the six languages.
var digitWords = map[string]bool{
	"digits": true, "ziffern": true, "stellen": true, "chiffres": true, "dígitos": true, "digitos": true, "cifras": true,
	"cifre": true, "cijfers": true,
}

// maskedCardDigits reports whether the number at token j is the visible
// end of a masked card, not a code: after an ending word or mask
// characters ("**** 4821", "XXXX-4821"), or called the last digits of a
// card ("4821 is the last four digits of my card").
func (d *doc) maskedCardDigits(j int) bool {
	if s := d.toks[j].s; s > 0 {
		p := s - 1
		for p > 0 && (d.text[p] == ' ' || d.text[p] == '-') {
			p--
		}
		if c := d.text[p]; c == '*' || c == 'x' || c == 'X' || strings.HasSuffix(d.text[:p+1], "•") {
			return true
		}
	}
	for m, words := j-1, 0; m >= 0 && words < 3; m-- {
		if d.toks[m].kind != tWord {
			continue
		}
		if cardEndWords[d.lw(m)] {
			return true
		}
		words++
	}
	digits := false
	for m, words := j+1, 0; m < len(d.toks) && words < 8; m++ {
		if d.toks[m].kind != tWord {
			if c := d.text[d.toks[m].s]; c == '.' || c == '!' || c == '?' {
				break
			}
			continue
		}
		if digitWords[d.lw(m)] || lastWords[d.lw(m)] {
			digits = true
		} else if digits && cueWords[d.lw(m)]&cueCard != 0 {
			return true
		}
		words++
	}
	return false
}

// onlyLettersAnd: v holds only letters (any script) and runes from extra.
func onlyLettersAnd(v, extra string) bool {
	for _, r := range v {
		if !unicode.IsLetter(r) && !strings.ContainsRune(extra, r) {
			return false
		}
	}
	return true
}

// lastWords say "last" ("last 4 of card", "letzten vier Ziffern").
var lastWords = map[string]bool{
	"last": true, "letzten": true, "letzte": true, "derniers": true, "dernières": true, "últimos": true, "ultimos": true,
	"ultime": true, "ultimi": true, "laatste": true,
}

// objectWords name where a printed code sits (on the box, the label, the
// packaging): such a code identifies a product, it opens nothing.
var objectWords = map[string]bool{
	"box": true, "label": true, "packaging": true, "package": true, "sticker": true, "tag": true, "bottom": true, "lid": true,
	"karton": true, "etikett": true, "verpackung": true, "aufkleber": true, "schachtel": true, "boden": true, "boîte": true,
	"boite": true, "étiquette": true, "etiquette": true, "emballage": true, "carton": true, "caja": true, "etiqueta": true,
	"embalaje": true, "envase": true, "scatola": true, "etichetta": true, "confezione": true, "imballo": true, "doos": true,
	"verpakking": true, "etiket": true, "sticker,": true, "bodem": true,
	// receipts and invoices carry authorisation codes
	"receipt": true, "beleg": true, "kassenbon": true, "quittung": true, "ticket": true, "recibo": true, "scontrino": true,
	"ricevuta": true, "bonnetje": true, "kassabon": true, "invoice": true, "rechnung": true, "facture": true,
	"factura": true, "fattura": true, "factuur": true,
}

// printedOn reports whether an object word follows the value at token e
// in its clause ("the code 4471 on the bottom of the box").
func (d *doc) printedOn(e int) bool {
	for m, words := e+1, 0; m < len(d.toks) && words < 6; m++ {
		if d.toks[m].nl {
			return false
		}
		if d.toks[m].kind != tWord {
			if c := d.text[d.toks[m].s]; c == '.' || c == '!' || c == '?' || c == ';' {
				return false
			}
			continue
		}
		if objectWords[d.lw(m)] {
			return true
		}
		words++
	}
	return false
}

func allDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return false
		}
	}
	return v != ""
}

// channelWords say how a code came ("the code I got by text", "per SMS",
// "via WhatsApp"); they are phone words that do not make the number a phone.
var channelWords = map[string]bool{"text": true, "texted": true, "sms": true, "whatsapp": true, "signal": true, "telegram": true, "wa": true, "app": true}

// otpChunk reports whether the chunk at word token j is itself a code
// ("G-582914", "A7K9Q2").
func (d *doc) otpChunk(j int) bool {
	s, e := d.valueChunk(j)
	return s < e && s == d.toks[j].s && d.otpValue(j, &e)
}

// quoteMark: a typographic quote the tokeniser leaves as punctuation.
func quoteMark(t string) bool {
	switch t {
	case "«", "»", "„", "“", "”", "‘", "’", "‹", "›", "`":
		return true
	}
	return false
}

// quoted reports whether the value text[s:e] stands between quotes
// ("bluebird", « soleil », „sommerwind“, 'daisy').
func (d *doc) quoted(s, e int) bool {
	t := d.text
	p := s
	for p > 0 && t[p-1] == ' ' {
		p--
	}
	q := e
	for q < len(t) && t[q] == ' ' {
		q++
	}
	if p == 0 || q >= len(t) {
		return false
	}
	open, _ := utf8.DecodeLastRuneInString(t[:p])
	closeR, _ := utf8.DecodeRuneInString(t[q:])
	switch open {
	case '"', '\'', '`':
		return closeR == open
	case '«':
		return closeR == '»'
	case '„', '“':
		return closeR == '“' || closeR == '”'
	case '‘':
		return closeR == '’'
	}
	return false
}

// clauseEnds reports whether the value ending at byte e ends its line,
// message or clause (punctuation, or a sentence's next word after ". ").
func (d *doc) clauseEnds(e int) bool {
	t := d.text
	if e >= len(t) {
		return true
	}
	switch c := t[e]; c {
	case '\n', '\r', '.', ',', ';', '!', '?', ')':
		return true
	case ' ', '\t':
		m := d.tokenAt(e)
		for m < len(d.toks) && d.toks[m].s < e {
			m++
		}
		return m >= len(d.toks) || d.toks[m].nl || d.toks[m].kind == tPunct && strings.IndexByte("(-–—/|", d.text[d.toks[m].s]) >= 0
	}
	return false
}

// notPasswordWords describe a password instead of giving it ("password:
// forgotten", "Passwort: falsch", "mot de passe : oublié").
var notPasswordWords = set(strings.Fields(`
	wrong incorrect invalid expired blocked locked required needed missing forgotten forgot unknown same different
	reset changed none empty blank hidden correct right ok fine weak strong long short new old please see below above
	falsch ungültig abgelaufen gesperrt vergessen erforderlich unbekannt gleich geändert leer korrekt richtig neu alt siehe
	faux fausse incorrect incorrecte invalide expiré expirée bloqué bloquée oublié oubliée requis inconnu identique vide
	nouveau nouvelle ancien ancienne voir
	incorrecta incorrecto inválida inválido caducada caducado bloqueada bloqueado olvidada olvidado desconocida misma
	nueva nuevo vieja viejo vacía ver
	onjuist fout ongeldig verlopen geblokkeerd vergeten onbekend hetzelfde leeg nieuw oud zie
	sbagliata sbagliato errata errato scaduta scaduto bloccata bloccato dimenticata dimenticato sconosciuta stessa vuota
	nuova nuovo vecchia vedi`))

// plainPassword: a value that names no state of the password, of 4–64
// characters, not a mask (****, ____), not a stop word.
func (d *doc) plainPassword(v string) bool {
	if len(v) < 4 || len(v) > 64 {
		return false
	}
	lw := strings.ToLower(v)
	if notPasswordWords[lw] || strings.Trim(v, v[:1]) == "" {
		return false
	}
	for _, r := range v {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return !d.e.lex.stop[lw]
		}
	}
	return false
}

// copulas introduce a value later in the sentence ("..., it's X").
var copulas = set(strings.Fields(`is it's its it’s ist lautet est c'est c’est es era è was war is: ist: est:`))

// passwordAhead returns the token of a password named after a copula
// later in the password cue's sentence (within ten words), or 0. The value
// must look like one beyond doubt: letters with digits or a symbol.
func (d *doc) passwordAhead(j int) int {
	crossed := false
	for words := 0; j < len(d.toks) && words < 10; j++ {
		tk := &d.toks[j]
		if tk.nl && words > 0 {
			return 0
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' && j+1 < len(d.toks) && d.toks[j+1].sp && !d.toks[j+1].nl && !crossed {
				// "asked for my password. I told them it was Kestrel!88":
				// the narrative's next sentence may still give the value.
				crossed = true
				continue
			}
			if c := d.text[tk.s]; c == '.' && j+1 < len(d.toks) && d.toks[j+1].sp || c == '!' || c == '?' || c == ';' {
				return 0
			}
			continue
		}
		lw := d.lw(j)
		if (notSecretCues[lw] || accountNameWords[lw] || cueWords[lw]&(cueRef|cuePhone|cueMoney|cuePromo) != 0) && !d.customerArea(j) {
			return 0
		}
		words++
		if s, e := d.valueChunk(j); s == tk.s && s < e && unmistakablePassword(d.text[s:e]) {
			// "I've set the password as Copper!Kettle19", "mi contraseña
			// sigue siendo Toro.Bravo88": a value shaped like nothing but
			// a password, in the cue's clause.
			return j
		}
		if !copulas[lw] {
			continue
		}
		v := j + 1
		for v < len(d.toks) && (d.isPunct(v, ':') || d.isPunct(v, '"') || quoteMark(d.tokText(v)) || d.isWord(v) && stateAdverbs[d.lw(v)]) {
			v++
		}
		if v >= len(d.toks) || d.toks[v].nl {
			return 0
		}
		s, e := d.valueChunk(v)
		if s >= e || s != d.toks[v].s {
			return 0
		}
		val := d.text[s:e]
		if strings.Contains(val, "://") || strings.HasPrefix(strings.ToLower(val), "www.") || strings.ContainsAny(val, "@/") {
			continue // a link, an address or a path, not the password
		}
		if len(val) >= 6 && hasDigit(val) && hasLower(val) && !promoShaped(val) && passwordLike(val) && d.clauseEnds(e) {
			return v
		}
		// "la password è sempre la stessa, Lago!Blu9": the copula said
		// something else; an unmistakable value may still follow.
	}
	return 0
}

// entryVerbs say the writer typed a code in ("I typed", "I put in",
// "mine is").
var entryVerbs = set(strings.Fields(`typed entered put tried used inserted keyed input mine
	eingegeben eingetippt versucht meiner tapé saisi entré essayé le mien escribí introduje puse probé el mío
	ingevuld ingetypt geprobeerd de mijne inserito digitato provato messo il mio`))

// entryClause reports a clause from token m that says the writer entered
// something ("I typed", "I put in", "mine is"), within three words.
func (d *doc) entryClause(m int) bool {
	for j := m; j < len(d.toks) && j < m+3; j++ {
		if d.toks[j].nl || !d.isWord(j) {
			return false
		}
		if entryVerbs[d.lw(j)] {
			return true
		}
	}
	return false
}

// codeBefore reads "<code> as the code" backwards from the code word k
// and returns the code's byte span, or an empty one.
func (d *doc) codeBefore(k int) (int, int) {
	m := k - 1
	for m > 0 && d.isWord(m) && possessives[d.lw(m)] && !d.toks[m+1].nl {
		m--
	}
	if m < 1 || !d.isWord(m) || !asWords[d.lw(m)] || d.toks[m].nl || d.toks[m-1].kind != tNum {
		return 0, 0
	}
	last := m - 1
	for p := last; p >= 0 && p >= last-2 && d.toks[p].kind == tNum; p-- {
		e := d.toks[p].e
		if d.otpValue(p, &e) && e == d.toks[last].e {
			if p > 0 && d.isWord(p-1) && (notSecretCues[d.lw(p-1)] || d.cueOf(p-1)&(cueRef|cueMoney|cuePromo|cuePhone) != 0) {
				return 0, 0
			}
			return d.toks[p].s, e
		}
		if !d.toks[p].sp {
			break
		}
	}
	return 0, 0
}

// asWords name what a value is used as ("as my password", "als Passwort",
// "comme mot de passe", "como contraseña", "come password").
var asWords = set(strings.Fields(`as als comme como come`))

// passwordBefore reads "<value> as my password" backwards from the
// password cue k, when the cue ends its clause (not "as my password
// manager"), and returns the value's byte span or an empty one.
func (d *doc) passwordBefore(k int) (int, int) {
	if !d.clauseEnds(d.toks[k].e) && !d.conjunctionAfter(d.toks[k].e) {
		return 0, 0
	}
	m := k - 1
	for m > 0 && d.isWord(m) && (possessives[d.lw(m)] || d.lw(m) == "mot" || d.lw(m) == "de") && !d.toks[m+1].nl {
		m--
	}
	if m < 1 || !d.isWord(m) || !asWords[d.lw(m)] || d.toks[m].nl {
		return 0, 0
	}
	m-- // the value's last token
	st := m
	for st > 0 && !d.toks[st].sp && m-st < 8 {
		st--
	}
	s, e := d.valueChunk(st)
	if s >= e || e != d.toks[m].e {
		return 0, 0
	}
	v := d.text[s:e]
	if !strongPassword(v) && !(passwordLike(v) && passwordSymbol(v) && hasLetter(v)) || promoShaped(v) || strings.ContainsAny(v, "/") {
		return 0, 0
	}
	return s, e
}

// possessives and articles between "as" and the password word.
var possessives = set(strings.Fields(`my mein meine mon ma mi mijn mio mia il la el the das het de le mijn`))

// conjunctions start a new clause after a value ("... es Toro.Bravo88 y
// no me deja entrar").
var conjunctions = set(strings.Fields(`and but or so y pero o und aber oder et mais ou en maar of e ma o`))

// conjunctionAfter reports a conjunction as the next word after byte e.
func (d *doc) conjunctionAfter(e int) bool {
	m := d.tokenAt(e)
	for m < len(d.toks) && d.toks[m].s < e {
		m++
	}
	return m < len(d.toks) && !d.toks[m].nl && d.isWord(m) && conjunctions[d.lw(m)]
}

// stateAdverbs stand between a copula and the value ("is now", "is
// still", "è ancora", "ist jetzt").
var stateAdverbs = set(strings.Fields(`now still currently jetzt nun noch immer maintenant toujours désormais ahora todavía
	aún ora adesso ancora sempre nu nog steeds altijd diventata diventato`))

// unmistakablePassword: a value no product code, size, version or link
// looks like: letters of both cases and digits with a symbol inside
// (Garden!Rose22, Rio.Verde19, Neve.2020), or a password symbol.
func unmistakablePassword(v string) bool {
	if !strongPassword(v) || !hasLower(v) || promoShaped(v) || strings.Contains(v, "://") || strings.ContainsRune(v, '/') {
		return false
	}
	if at := strings.IndexByte(v, '@'); at >= 0 && strings.IndexByte(v[at:], '.') >= 0 {
		return false // an e-mail address, not Summer@2024
	}
	if passwordSymbol(v) {
		return true
	}
	up := false
	for i := 0; i < len(v); i++ {
		if isUpper(v[i]) {
			up = true
		}
	}
	// An inner '.', '_', '-' or '+' after a letter: Word.Word12, Word_2020.
	for i := 1; i+1 < len(v); i++ {
		if strings.IndexByte("._-+", v[i]) >= 0 && isAlpha(v[i-1]) && up && isDigit(v[len(v)-1]) {
			return true
		}
	}
	return false
}

func hasLetter(v string) bool {
	for i := 0; i < len(v); i++ {
		if isAlpha(v[i]) {
			return true
		}
	}
	return false
}

// objectBetween reports an object word (box, label, Verpackung) between
// tokens a and b: "der Code auf der Verpackung lautet 4006381" names a
// printed code.
func (d *doc) objectBetween(a, b int) bool {
	for m := a; m < b && m < len(d.toks); m++ {
		if d.toks[m].kind == tWord && objectWords[d.lw(m)] {
			return true
		}
	}
	return false
}

// twoDigitGroups returns the last token of a code written as three groups
// of two digits from token j ("58 21 94"), or j when there is none; a
// fourth group makes it a phone or account number instead.
func (d *doc) twoDigitGroups(j int) int {
	if d.toks[j].e-d.toks[j].s != 2 {
		return j
	}
	m := j
	for g := 0; g < 2; g++ {
		if m+1 >= len(d.toks) || d.toks[m+1].kind != tNum || !d.toks[m+1].sp || d.toks[m+1].nl || d.toks[m+1].e-d.toks[m+1].s != 2 {
			return j
		}
		m++
	}
	if m+1 < len(d.toks) && d.toks[m+1].kind == tNum && d.toks[m+1].sp && !d.toks[m+1].nl {
		return j
	}
	return m
}

// accountNameWords name what is not the password in a sign-in sentence
// ("password reset, my username is anna_k88").
var accountNameWords = set(strings.Fields(`user username benutzername benutzer nutzername utilisateur identifiant usuario
	gebruikersnaam gebruiker utente email e-mail mail login account konto compte cuenta conto link url`))

// credWords introduce a sign-in pair on one line ("Login: anna@example.com
// / Tulpe!77", "Zugangsdaten: jkuehn | Kaffee2023").
var credWords = set(strings.Fields(`login logins credentials zugangsdaten anmeldedaten logindaten identifiants credenciales
	inloggegevens credenziali`))

// credentialPair reads "<user> / <password>" on the line of the sign-in
// word k and adds the password when it looks like one. It returns the last
// token it consumed.
func (d *doc) credentialPair(k int) int {
	d.work++
	for m, words := k+1, 0; m+1 < len(d.toks) && words < 8; m++ {
		if d.toks[m].nl {
			return k
		}
		if d.toks[m].kind != tPunct {
			words++
			continue
		}
		if !(d.isPunct(m, '/') || d.isPunct(m, '|')) || !d.toks[m+1].sp || words == 0 || d.toks[m+1].nl {
			continue
		}
		s, e := d.valueChunk(m + 1)
		if s >= e || s != d.toks[m+1].s {
			return k
		}
		v := d.text[s:e]
		if passwordLike(v) && hasLetter(v) && !strings.ContainsAny(v, "@/") && !promoShaped(v) && d.clauseEnds(e) {
			d.add(s, e, Secret, 0.8, "secret-password")
			return d.tokenAt(e - 1)
		}
		return k
	}
	return k
}

// otpBehind reads a pasted code message backwards from the code word k:
// "<code> is your (verification) code", "<code> ist Ihr Code", "<code> est
// votre code", "<code> es tu código", "<code> is je code", "<code> è il tuo
// codice". It returns the code's byte span, or an empty one.
func (d *doc) otpBehind(k int) (int, int) {
	c := -1
	for m := k - 1; m >= 1 && m >= k-4; m-- {
		if d.toks[m].kind != tWord || d.toks[m+1].nl {
			return 0, 0
		}
		if copulas[d.lw(m)] {
			c = m
			break
		}
	}
	if c < 1 || d.toks[c-1].kind != tNum || d.toks[c].nl {
		return 0, 0
	}
	last := c - 1
	for p := last; p >= 0 && p >= last-2; p-- {
		if d.toks[p].kind != tNum || p < last && d.toks[p+1].nl {
			break
		}
		e := d.toks[p].e
		if d.otpValue(p, &e) && e == d.toks[last].e {
			if d.maskedCardDigits(p) || p > 0 && d.isWord(p-1) && (notSecretCues[d.lw(p-1)] || d.cueOf(p-1)&(cueRef|cueMoney|cuePromo|cuePhone) != 0) {
				return 0, 0 // "order 48213 is the code you need?"
			}
			return d.toks[p].s, e
		}
		if p > 0 && !d.toks[p].sp {
			break
		}
	}
	return 0, 0
}

// hasLower: model and product codes (WH1000XM4, AX1500) have none.
func hasLower(v string) bool {
	for i := 0; i < len(v); i++ {
		if isLower(v[i]) {
			return true
		}
	}
	return false
}

// credentialKind reports a value that is itself the name of a kind of
// credential ("sms-code", "TAN-Code", "pincode"), whole or as the last
// part of a hyphenated compound.
func credentialKind(v string) bool {
	if len(v) > 24 || len(v) < 2 {
		return false
	}
	// Lower-case ASCII on the stack: this runs for every candidate value,
	// and the map look-ups with string(b) do not allocate.
	var buf [24]byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			return false // the kind words that stand as values are ASCII
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	w := buf[:len(v)]
	if passwordCues[string(w)] || otpCues[string(w)] || keyCues[string(w)] {
		return true
	}
	if i := bytes.LastIndexByte(w, '-'); i > 0 && i < len(w)-1 {
		last := w[i+1:]
		return (passwordCues[string(last)] || otpCues[string(last)] || keyCues[string(last)]) && onlyLettersAnd(v[:i], "")
	}
	return false
}

// lockerWords name a parcel locker or pickup station, or the pickup itself
// ("código de recogida", "codice di ritiro", "code de retrait"), also as a
// verb of the code's purpose ("el código para recoger el pedido", "il
// codice per ritirare il pacco": round 15).
var lockerWords = set(strings.Fields(`locker lockers packstation pakketkluis kluis paketkasten abholfach paketstation paketfach paketbox abholstation
	consigne casier casillero armadietto locker-code lockercode abholcode ophaalcode pickup schließfach schliessfach
	taquilla taquillas recogida ritiro retrait abholung afhaalcode afhalen collection
	recoger retirar ritirare retirer abholen abzuholen ophalen halen collect`))

// codeDevices show one-time codes: a compound of a code word and one of
// these names the code ("TAN-Generator", "Authenticator-App").
var codeDevices = set(strings.Fields(`generator generador générateur generatore app gerät device token lezer reader leser`))

// lockerCue reports a locker word at the cue k, among the two words
// before it ("Pakketkluis code", "locker pickup code", "code de la
// consigne") or earlier in its sentence ("Le casier ne s'ouvre pas avec le
// code 17-4402", "Vak 14 gaat niet open met code 52-8841").
func (d *doc) lockerCue(k int) bool {
	for m := max(0, k-2); m <= k+3 && m < len(d.toks); m++ {
		if d.isWord(m) && lockerWords[d.lw(m)] {
			return true
		}
	}
	for m := k + 1; m <= k+7 && m < len(d.toks) && d.isWord(m) && !d.toks[m].nl; m++ {
		if pickupVerbs[d.lw(m)] {
			return true // round 15: "de code om het pakket op te halen", "der Code, um das Paket abzuholen"
		}
	}
	for m, words := k-3, 0; m >= 0 && words < 12; m-- {
		if d.isWord(m) {
			if lw := elided(d.lw(m)); lockerWords[lw] || compartmentWords[lw] {
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

// compartmentWords name a locker's compartment ("Vak 14", "Fach 3",
// "casier", "taquilla"); as locker words they count only earlier in the
// code's sentence, where they say which door the code opens.
var compartmentWords = set(strings.Fields(`vak fach compartment compartiment compartimento scomparto`))

// sentenceBreak reports a sentence end at token m, or a line break before it.
func (d *doc) sentenceBreak(m int) bool {
	tk := &d.toks[m]
	if tk.kind == tPunct {
		if c := d.text[tk.s]; c == '.' || c == '!' || c == '?' {
			return true
		}
	}
	return tk.nl
}

// complaintWords say a code was refused ("wrong", "ungültig", "ongeldige
// code bij ..."), and showWords that an app or a screen shows it: a code
// that does not work or that the writer reads off a screen is the code
// itself, even in unequal dashed groups that elsewhere make a product
// number ("the code is wrong, it's 48-2913").
var complaintWords = set(strings.Fields(`wrong invalid incorrect rejected refused expired
	falsch falscher falsche ungültig ungültige ungültiger abgelehnt
	incorrect incorrecte invalide erroné erronée refusé faux
	incorrecto incorrecta inválido inválida erróneo rechazado
	ongeldig ongeldige onjuist onjuiste geweigerd
	sbagliato errato errata invalido rifiutato`))

var showWords = set(strings.Fields(`shows showing displays says zeigt anzeigt affiche indique muestra pone toont geeft mostra dice`))

// codeComplaint reports a complaint word in cue k's sentence, or a showing
// verb among the three words before it ("the app shows the code").
func (d *doc) codeComplaint(k int) bool {
	for m := k - 1; m >= 0 && m >= k-12; m-- {
		if d.isWord(m) && (complaintWords[d.lw(m)] || m >= k-3 && showWords[d.lw(m)]) {
			return true
		}
		if d.sentenceBreak(m) {
			break
		}
	}
	for m := k + 1; m < len(d.toks) && m <= k+6; m++ {
		if d.sentenceBreak(m) {
			break
		}
		if d.isWord(m) && complaintWords[d.lw(m)] {
			return true
		}
	}
	return false
}

// codeDeviceWords name what a lock, unlock or access code opens: "the
// code of the tablet", "PIN del telefono", "Entsperrcode vom Handy".
var codeDeviceWords = set(strings.Fields(`phone telephone mobile smartphone tablet laptop computer ipad iphone scooter e-scooter bike lock
	handy telefon smartphone tablet laptop rechner fahrrad roller schloss
	téléphone portable tablette ordinateur vélo trottinette cadenas
	teléfono móvil movil tableta portátil ordenador bici bicicleta patinete candado
	telefoon mobiel gsm tablet laptop fiets step slot
	telefono cellulare tablet portatile bici bicicletta monopattino lucchetto`))

// deviceWord reports a device word, also in the genitive or plural with
// -s ("des Laptops", "meines Handys", "del móvil").
func deviceWord(lw string) bool {
	return codeDeviceWords[lw] || len(lw) > 4 && lw[len(lw)-1] == 's' && codeDeviceWords[lw[:len(lw)-1]]
}

// accessCodeWords name the code that opens a device or an account; the
// value may be a word and a year, like a password ("Der Zugangscode des
// Laptops lautet Sommer2021").
var accessCodeWords = set(strings.Fields(`zugangscode toegangscode`))

// accessCue reports an access-code cue at k: a compound, or "code
// d'accès", "access code", "código de acceso", "codice d'accesso".
func (d *doc) accessCue(k int) bool {
	w := d.lw(k)
	if accessCodeWords[w] {
		return true
	}
	if !genericCodeWords[w] {
		return false
	}
	if k > 0 && d.lw(k-1) == "access" {
		return true
	}
	if k+1 < len(d.toks) {
		switch d.lw(k + 1) {
		case "d'accès", "d’accès", "d'accesso", "d’accesso":
			return true
		case "de", "di":
			return k+2 < len(d.toks) && (d.lw(k+2) == "acceso" || d.lw(k+2) == "accesso")
		}
	}
	return false
}

// lockWords say a code unlocks a device; a code cue with one of them
// (or whose own word says so) may give its digits at the end of the
// sentence, after a colon.
var lockWords = set(strings.Fields(`lock unlock unlocking entsperren entsperrung bildschirmsperre sperre schloss schloß déverrouillage déverrouiller
	verrouillage desbloqueo desbloquear bloqueo ontgrendel ontgrendelen ontgrendeling vergrendeling sblocco sbloccare blocco`))

var lockCodeWords = set(strings.Fields(`entsperrcode entsperr-code entsperrpin entsperr-pin sperrcode ontgrendelcode ontgrendelingscode
	unlock-code unlockcode toegangscode zugangscode`))

// codeLater returns a device code's digits at the end of cue k's sentence
// after a colon, or after a comma and a copula ("…, c'est 48291377"), past
// any clauses between; 0 when a reference, price or phone number word
// comes first. The colon form needs a device's lock or access code (the
// cue names the lock or the device); the copula form a credential context.
func (d *doc) codeLater(k int) int {
	lock := lockCodeWords[d.lw(k)] || d.lw(k) == "pin"
	for m := max(0, k-2); !lock && m <= k+4 && m < len(d.toks); m++ {
		if d.isWord(m) && (lockWords[d.lw(m)] || m > k && deviceWord(d.lw(m))) {
			lock = true
		}
	}
	cred := d.credentialContext()
	sent := false // "il codice che mi è arrivato via SMS per ...: 827361"
	for j, words := k+1, 0; j+1 < len(d.toks) && words < 20; j++ {
		tk := &d.toks[j]
		if tk.nl {
			return 0
		}
		if tk.kind == tPunct {
			switch d.text[tk.s] {
			case '.', '!', '?', ';':
				return 0
			case ':':
				if v := j + 1; (lock || sent) && d.lastDigits(v) {
					return v
				}
			case ',':
				if v := d.copulaValue(j + 1); v > 0 && (cred || d.codeComplaint(k)) {
					return v
				}
			}
			continue
		}
		if tk.kind == tNum {
			return 0
		}
		lw := d.lw(j)
		if notSecretCues[lw] || d.kindWordAt(j) || cueWords[lw]&(cueRef|cueMoney) != 0 && !otpCues[lw] || cueWords[lw]&cuePhone != 0 && !deviceWord(lw) && !channelWords[lw] {
			return 0
		}
		// A code the writer received by message between the cue and the
		// colon is the code itself, as a device's lock code is.
		sent = sent || channelWords[lw] || mailWords[lw]
		words++
	}
	return 0
}

// accountHandle: a user name as typed before its password: 3–16 lower
// case letters and digits ("admin", "kasse1", "root").
func accountHandle(v string) bool {
	if len(v) < 3 || len(v) > 16 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isLower(v[i]) && !isDigit(v[i]) {
			return false
		}
	}
	return true
}

// mailWords name e-mail as the channel a code came by.
var mailWords = set(strings.Fields(`mail email e-mail courriel correo correu posta`))

// shapedCodeAhead returns a code in the unmistakable shapes of recovery
// and mailed sign-in codes ("w7hk-22pq-x9ma", "HT7-KQ2-9ZR") later in the
// code cue's sentence, past commas and colons ("un code reçu par mail
// ..., le voici : HT7-KQ2-9ZR"); 0 when a reference word comes first.
func (d *doc) shapedCodeAhead(j int) int {
	if !d.hasShapedCode() {
		return 0
	}
	for words := 0; j < len(d.toks) && words < 15; j++ {
		tk := &d.toks[j]
		if tk.nl && words > 0 {
			return 0
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' && (j+1 >= len(d.toks) || d.toks[j+1].sp) || c == '!' || c == '?' || c == ';' {
				return 0
			}
			continue
		}
		if d.shapedCodeAt(j) {
			return j
		}
		if lw := d.lw(j); notSecretCues[lw] || d.kindWordAt(j) {
			return 0
		}
		words++
	}
	return 0
}

// kindWordAt reports a kind word at token j, except the English
// conjunction "in case" ("recovery codes, in case I get locked out, keep
// them: …": round 15), which names no case number.
func (d *doc) kindWordAt(j int) bool {
	lw := d.lw(j)
	if !kindWords[lw] {
		return false
	}
	return !(lw == "case" && j > 0 && d.isWord(j-1) && d.lw(j-1) == "in")
}

// shapedCodeAt reports a recovery or mailed code starting at token j;
// both shapes open with a group holding a digit, glued to a dash.
func (d *doc) shapedCodeAt(j int) bool {
	tk := &d.toks[j]
	if !(tk.digit || tk.kind == tNum) || j+1 >= len(d.toks) || !d.isPunct(j+1, '-') || d.toks[j+1].sp {
		return false
	}
	s, e := d.valueChunk(j)
	return s == tk.s && s < e && (recoveryShaped(d.text[s:e]) || mailedCodeShaped(d.text[s:e]))
}

// hasShapedCode reports, once per message, whether any recovery or mailed
// code stands in it, so that cues without one skip the look-ahead.
func (d *doc) hasShapedCode() bool {
	if d.shapedCode == 0 {
		d.shapedCode = -1
		for j := range d.toks {
			if (j == 0 || d.toks[j].sp || d.toks[j-1].kind == tPunct) && d.shapedCodeAt(j) {
				d.shapedCode = 1
				break
			}
		}
	}
	return d.shapedCode > 0
}

// mailedCodeShaped: three or four dash-joined groups of three capitals
// and digits, each group but one mixing both ("HT7-KQ2-9ZR"), as sign-in
// codes sent by mail are printed; part numbers keep letters and digits in
// groups of their own (ABC-123-XYZ).
func mailedCodeShaped(v string) bool {
	if len(v) != 11 && len(v) != 15 {
		return false
	}
	mixed := 0
	for g := 0; g < len(v); g += 4 {
		if g > 0 && v[g-1] != '-' {
			return false
		}
		grp := v[g : g+3]
		if !upperOrDigits(grp) {
			return false
		}
		if hasDigit(grp) && hasLetter(grp) {
			mixed++
		}
	}
	return mixed >= len(v)/4
}

// lastDigits reports 4–6 plain digits at token j that end their sentence.
func (d *doc) lastDigits(j int) bool {
	if j >= len(d.toks) || d.toks[j].kind != tNum || d.toks[j].nl {
		return false
	}
	if l := d.toks[j].e - d.toks[j].s; l < 4 || l > 6 || !allDigits(d.text[d.toks[j].s:d.toks[j].e]) {
		return false
	}
	return j+1 >= len(d.toks) || d.toks[j+1].nl || d.sentenceBreak(j+1) && (j+2 >= len(d.toks) || d.toks[j+2].sp || d.toks[j+2].nl)
}

// valueCopulas open a clause that gives a code ("it's 4821", "c'est
// 48291377", "es 4821", "er lautet 482 913").
var valueCopulas = set(strings.Fields(`it's it’s its is c'est c’est es ist lautet è het er sie it`))

// copulaValue returns the number after one or two copula words from j, or 0.
func (d *doc) copulaValue(j int) int {
	for words := 0; j < len(d.toks) && words < 3; j++ {
		if d.toks[j].nl {
			return 0
		}
		if d.toks[j].kind == tNum {
			if words == 0 {
				return 0
			}
			return j
		}
		if !d.isWord(j) || !valueCopulas[d.lw(j)] {
			return 0
		}
		words++
	}
	return 0
}

// lockerDigits: 5–10 digits in two or three groups joined by dashes or
// dots ("4471-09", "12-3456").
func lockerDigits(v string) bool {
	digits, seps := 0, 0
	for i := 0; i < len(v); i++ {
		switch {
		case isDigit(v[i]):
			digits++
		case (v[i] == '-' || v[i] == '.') && i > 0 && i < len(v)-1 && isDigit(v[i-1]) && isDigit(v[i+1]):
			seps++
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 10 && seps >= 1 && seps <= 2
}

// customerArea reports a customer word naming where a password is used
// ("el área de cliente", "l'espace client", "the customer area",
// "Kundenbereich" is one word), not a customer reference.
func (d *doc) customerArea(j int) bool {
	switch d.lw(j) {
	case "cliente", "client", "customer", "clienti", "klant", "kunden", "clientes", "clients", "customers":
	default:
		return false
	}
	for m := j - 1; m >= 0 && m >= j-2; m-- {
		switch d.lw(m) {
		case "área", "area", "espace", "zona", "portal", "portaal", "bereich", "portail":
			return true
		}
	}
	return j+1 < len(d.toks) && (d.lw(j+1) == "area" || d.lw(j+1) == "portal" || d.lw(j+1) == "account")
}

// recoveryShaped reports a backup or recovery code as services print them:
// two to four dash-joined groups of one length (4–5) in one case, letters
// and digits mixed ("7hk2-9qxm-4pzt", "K7P2-M9QX-44TZ"). Product and
// article codes have groups of unequal length (XK-4471-B, AB-4471-XZ-20).
func recoveryShaped(v string) bool {
	groups := strings.Split(v, "-")
	if len(groups) < 2 || len(groups) > 4 {
		return false
	}
	digits, lower, upper := 0, 0, 0
	for _, g := range groups {
		if len(g) != len(groups[0]) || len(g) < 4 || len(g) > 5 {
			return false
		}
		for i := 0; i < len(g); i++ {
			switch c := g[i]; {
			case isDigit(c):
				digits++
			case c >= 'a' && c <= 'z':
				lower++
			case c >= 'A' && c <= 'Z':
				upper++
			default:
				return false
			}
		}
	}
	letters := lower + upper
	return digits >= 2 && letters >= 2 && (lower == 0 || upper == 0)
}

// upperKey: an access key written in capitals and digits only, 20
// characters or more, with eight letters and a digit at least
// ("SWIAQ1ZRNDJXRKT2YMRF").
func upperKey(v string) bool {
	letters, digits := 0, 0
	for i := 0; i < len(v); i++ {
		switch {
		case isDigit(v[i]):
			digits++
		case isUpper(v[i]):
			letters++
		default:
			return false
		}
	}
	return len(v) >= 20 && letters >= 8 && digits >= 1
}

// lockerCodeAhead finds a locker code of letters and digits in two or
// three hyphenated groups within the clause after a locker cue.
func (d *doc) lockerCodeAhead(j int) int {
	for words := 0; j < len(d.toks) && words < 10; j++ {
		tk := &d.toks[j]
		if tk.nl && words > 0 {
			return 0
		}
		if tk.kind == tPunct {
			if c := d.text[tk.s]; c == '.' && j+1 < len(d.toks) && d.toks[j+1].sp || c == '!' || c == '?' || c == ';' {
				return 0
			}
			continue
		}
		if s, e := d.valueChunk(j); s == tk.s && s < e && lockerCodeShaped(d.text[s:e]) {
			return j
		}
		if notSecretCues[d.lw(j)] {
			return 0
		}
		words++
	}
	return 0
}

// lockerCodeShaped: 5–10 capitals and digits, at least two digits and one
// letter, in two or three groups of two to five joined by hyphens
// ("4F7-K29", "7G4-2K91").
func lockerCodeShaped(v string) bool {
	groups := strings.Split(v, "-")
	if len(groups) < 2 || len(groups) > 3 {
		return false
	}
	letters, digits := 0, 0
	for _, g := range groups {
		if len(g) < 2 || len(g) > 5 {
			return false
		}
		for i := 0; i < len(g); i++ {
			switch {
			case isDigit(g[i]):
				digits++
			case isUpper(g[i]):
				letters++
			default:
				return false
			}
		}
	}
	return letters >= 1 && digits >= 2 && letters+digits >= 5 && letters+digits <= 10
}

// bankWords name the writer's bank, which sends one-time payment codes.
var bankWords = set(strings.Fields(`bank banque banco banca bankapp`))

// bankSentVerbs say the bank sent something to the writer ("la banque m'a
// envoyé 90317722", "el banco me ha enviado ...", "la banca mi ha
// mandato ..."); a number right after it is the payment's one-time code,
// quoted by the customer even with no word "code".
var bankSentVerbs = set(strings.Fields(`sent texted envoyé envoyée enviado envió mandó mandado mandato inviato
	geschickt gesendet geschickt zugeschickt gestuurd verstuurd stuurde`))

// scanBankCodes finds a one-time code of 6–8 digits (or two groups of
// three or four) right after a bank word and a verb of sending within
// four words: the bank's verification code as the customer quotes it.
func (d *doc) scanBankCodes() {
	for k := range d.toks {
		if d.toks[k].info&wBank == 0 || !bankWords[d.lw(k)] {
			continue
		}
		for j := k + 1; j < len(d.toks) && j <= k+5; j++ {
			if !d.isWord(j) || d.toks[j].nl {
				break
			}
			if !bankSentVerbs[d.lw(j)] {
				// "Die Bank hat mir 55102938 geschickt": in German and
				// Dutch the participle follows the code.
				if j+2 < len(d.toks) && d.toks[j+1].kind == tNum && d.isWord(j+2) && bankSentVerbs[d.lw(j+2)] && (d.lw(j) == "mir" || d.lw(j) == "me" || d.lw(j) == "mij") {
					if v := j + 1; !d.toks[v].nl {
						if l := d.toks[v].e - d.toks[v].s; l >= 6 && l <= 8 && !d.moneyAfter(d.toks[v].e) {
							d.work++
							d.add(d.toks[v].s, d.toks[v].e, Secret, 0.8, "secret-otp")
						}
					}
					break
				}
				continue
			}
			v := j + 1
			if v < len(d.toks) && d.isWord(v) && (d.lw(v) == "me" || d.lw(v) == "mir" || d.lw(v) == "mij") {
				v++ // "the bank sent me 482913"
			}
			if v >= len(d.toks) || d.toks[v].kind != tNum || d.toks[v].nl {
				break
			}
			e := d.toks[v].e
			if l := e - d.toks[v].s; l >= 6 && l <= 8 || d.otpValue(v, &e) && e > d.toks[v].e {
				if !(v+1 < len(d.toks) && d.toks[v+1].kind == tPunct && !d.toks[v+1].sp && d.text[d.toks[v+1].s] != '.' && d.text[d.toks[v+1].s] != ',') && !d.moneyAfter(e) {
					d.work++
					d.add(d.toks[v].s, e, Secret, 0.8, "secret-otp")
				}
			}
			break
		}
	}
}

// moneyAfter reports a currency word or sign right after byte offset e.
func (d *doc) moneyAfter(e int) bool {
	m := d.tokenAt(e)
	for m < len(d.toks) && d.toks[m].s < e {
		m++
	}
	return m < len(d.toks) && !d.toks[m].nl && cueWords[d.lw(m)]&cueMoney != 0
}
