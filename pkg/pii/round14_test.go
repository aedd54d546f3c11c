package pii

import "testing"

// Round 14: blind9's failure classes, fixed by general rules. Sentences of
// our own; none is taken from the split. Every positive row was seen
// failing on round 13's engine.

// A code read out digit by digit: four to eight single digits, one space
// apart, after a code cue's copula or right after the cue when they end
// the clause (secret_clause.go, spacedSingles).
func TestRound14SpacedSingleDigits(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "Para el trastero, el código es 5 1 6 0 4 y vale hasta el lunes.", []string{"SECRET:5 1 6 0 4"}},
		{"nl", "Fietsenstalling achterom, code 8 0 4 6.", []string{"SECRET:8 0 4 6"}},
		{"it", "Il codice è 3 4 5 6, grazie.", []string{"SECRET:3 4 5 6"}},
		{"fr", "Le code d'accès de l'appli est 6 0 2 9, merci.", []string{"SECRET:6 0 2 9"}},
		{"de", "Der Code für das Fahrradschloss ist 5 8 2 0, danke.", []string{"SECRET:5 8 2 0"}},
		// Look-alikes: too many digits, a clause that goes on, steps.
		{"en", "The door code is 1 2 3 4 5 6 7 8 9 0.", nil},
		{"en", "Code 1 2 3 4 5 of the exercise is wrong.", nil},
		{"en", "Enter the code in 3 2 1 steps.", nil},
	})
}

// A code printed in three or four groups of letters and digits mixed
// (secret_clause.go, mixedGroups).
func TestRound14MixedGroups(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Your sharing code is Rb2 8Kt 4Wq, it lasts a month.", []string{"SECRET:Rb2 8Kt 4Wq"}},
		{"fr", "Le code de vérification est A7B 3CD 9EF.", []string{"SECRET:A7B 3CD 9EF"}},
		// Look-alikes: a postcode's two groups, a page and a paper size.
		{"en", "The code is SW1A 1AA for the depot.", nil},
		{"en", "The code is on page 3 of 4 in A4 format.", nil},
		{"en", "Product code is AB1 CD2 EF3 for the shelf.", nil},
	})
}

// A password said to be typed ("j'ai mis X", "ho messo X"): the typing verbs
// state the value like a copula (secret_clause.go, clauseShowVerbs).
func TestRound14TypedPassword(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"fr", "Le mot de passe pour le compte famille est refusé, j'ai mis Cerise%Noyau41 ce matin.", []string{"SECRET:Cerise%Noyau41"}},
		{"fr", "Mot de passe pour le compte de la piscine : refusé, je mets Dauphin&Bleu19 et rien.", []string{"SECRET:Dauphin&Bleu19"}},
		{"it", "La password per il conto famiglia non va, ho messo Faggio#Alto31 stamattina.", []string{"SECRET:Faggio#Alto31"}},
		// Look-alikes: the verb puts the password somewhere.
		{"en", "I put the password in the drawer.", nil},
		{"fr", "J'ai mis le mot de passe dans le tiroir.", nil},
	})
}

// The thing a password is for, glued to a colon, is no value: the value
// follows the colon (secret.go).
func TestRound14PurposeBeforeColon(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "Wachtwoord voor mijn sport-app: Fietsbel!2023 — klopt dat nog?", []string{"SECRET:Fietsbel!2023"}},
		{"de", "Mein Passwort für die Wetter-App: Regen#Bogen44, geht nicht mehr.", []string{"SECRET:Regen#Bogen44"}},
		// Look-alike: no password after the colon.
		{"nl", "Wachtwoord voor mijn sport-app: vergeten.", nil},
	})
}

// A site's "area" after a password cue is where it is used, not an area
// code (secret.go notSecret, secret_clause.go).
func TestRound14PasswordArea(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "Nell'app della palestra, la password dell'area personale è Bilanciere#90.", []string{"SECRET:Bilanciere#90"}},
		{"it", "La password dell'area soci è Remo_Lago!55, va bene?", []string{"SECRET:Remo_Lago!55"}},
		// Look-alike: an area code.
		{"en", "The password area code 0207 is London.", nil},
	})
}

// The sentence before a credential cue does not qualify it: a refund or an
// order asked about before "Contraseña: …" (secret.go notSecret).
func TestRound14PreviousSentence(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "¿Ya está la devolución? Contraseña de la intranet: Olivo!Jaen58, para el técnico.", []string{"SECRET:Olivo!Jaen58"}},
		{"en", "Any news on my return? Password for the supplier site: Heron!2024, in case you need it.", []string{"SECRET:Heron!2024"}},
		// Look-alike: the promo word in the cue's own sentence.
		{"en", "The promo code is SAVE2024 for the summer.", nil},
	})
}

// A transcript's caller is a role, not a name (person.go, speakerRoles).
func TestRound14CallerLabels(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "[02:15] Caller: yes, the blue one please", nil},
		{"fr", "[01:40] Appelant : oui, la bleue s'il vous plaît", nil},
		{"de", "[03:02] Anrufer: Ja, die blaue bitte", nil},
		// Still a name: a known name as the speaker.
		{"en", "[02:15] Priya: yes, the blue one please", []string{"PERSON:Priya"}},
	})
}

// "My name Ana Ruiz": the naming phrase without its copula, when the name
// fills its clause (person.go, bareNameCues).
func TestRound14NameWithoutCopula(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"es", "no llegó nada. mi nombre Li Na", []string{"PERSON:Li Na"}},
		{"it", "Pacco mai arrivato. Mio nome Bui Thi Hoa", []string{"PERSON:Bui Thi Hoa"}},
		// Look-alikes: a heading's words, a lower-case word, no name.
		{"en", "My name Change request was ignored.", nil},
		{"nl", "Ze sturen een link met mijn naam erin.", nil},
		{"en", "My name on the booking is wrong.", nil},
	})
}

// Someone named by a preposition and "name" ("di nome", "de nombre"),
// except a product (person.go, prepNameCues).
func TestRound14PrepositionalNaming(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"it", "È passato un tecnico di nome Amadou stamattina.", []string{"PERSON:Amadou"}},
		{"fr", "Un livreur du nom de Moussa a laissé le colis.", []string{"PERSON:Moussa"}},
		{"es", "Vino un repartidor de nombre Wilson y dejó el paquete.", []string{"PERSON:Wilson"}},
		// Look-alikes: a product of that name, a change of name.
		{"it", "Un prodotto di nome Sole Mio è arrivato rotto.", nil},
		{"es", "Cambio de nombre de la cuenta, por favor.", nil},
	})
}

// A form line labelled by a person's role, with a qualifier before it
// ("Main driver: …") or a role that is no speaker (person.go, fieldRoles).
func TestRound14RoleFieldLabels(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"de", "Zweiter Fahrer: Malte Jensen", []string{"PERSON:Malte Jensen"}},
		// Look-alikes: a car model, no one, an apology.
		{"en", "Main driver: Polo or similar", nil},
		{"en", "Additional driver: none", nil},
		{"en", "Driver: Sorry, running late", nil},
	})
}

// The one who delivers, named by a copula: a given name the lexicon knows
// that ends its clause (person_roles.go).
func TestRound14DeliveryRoleCopula(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Today's courier is Hope.", []string{"PERSON:Hope"}},
		{"en", "The driver tomorrow is Rose.", []string{"PERSON:Rose"}},
		{"de", "Der Fahrer heute ist Max, er kommt um 9.", []string{"PERSON:Max"}},
		// Look-alikes: a nationality, a carrier, an adjective, a firm.
		{"en", "The driver is Polish.", nil},
		{"en", "Your courier is DHL.", nil},
		{"en", "The driver is late.", nil},
		{"en", "The driver is Grace Kelly Transport Ltd.", nil},
	})
}

// A Dutch adverb opening an inverted sentence before "u", "je" or
// "jullie" is no name (person_list.go, invertedAdverb).
func TestRound14DutchInversion(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"nl", "We maken het account aan. Dan krijgt u de mails.", nil},
		{"nl", "Dan ontvang je morgen een bevestiging.", nil},
		// Still a name: Dan before a capitalised word.
		{"en", "Dan Hughes called about the refund.", []string{"PERSON:Dan Hughes"}},
	})
}
