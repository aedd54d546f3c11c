package pii

import "testing"

// Cases for the contract's forms that the third generalisation round
// covered (written from shared/PII-LABELS.md, not from any evaluation set):
// positives beside the look-alikes each rule must leave alone.

func TestSecretCueForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		// A cue's colon or quotes make a plain word the password.
		{"en", "Password: lemontree", []string{"SECRET:lemontree"}},
		{"en", `password: "bluebird" — I know it's weak`, []string{"SECRET:bluebird"}},
		{"de", "Das Kennwort ist „katzenklo“", []string{"SECRET:katzenklo"}},
		{"fr", "Mot de passe : grenouille", []string{"SECRET:grenouille"}},
		{"fr", "mot de passe: « Marseille13 »", []string{"SECRET:Marseille13"}},
		{"es", `contraseña: "mariposa"`, []string{"SECRET:mariposa"}},
		{"nl", "wachtwoord = appeltaart", []string{"SECRET:appeltaart"}},
		{"it", "password: girasole", []string{"SECRET:girasole"}},
		{"en", "Password: forgotten, please send a link", nil},
		{"de", "Passwort: siehe E-Mail von gestern", nil},
		{"nl", "Wachtwoord: vergeten, graag een nieuwe link", nil},
		{"en", "my password is wrong again", nil},
		{"en", "Password requirements: 8 characters, one number", nil},
		// The value later in the cue's sentence, after a copula.
		{"en", "I use the same password everywhere, it's chelsea1905", []string{"SECRET:chelsea1905"}},
		{"en", "password reset failed, my username is anna_k88", nil},
		{"en", "password reset link is https://shop.example.com/r/a1b2", nil},
		{"en", "my password is fine, the model is WH1000XM4", nil},
		// A sign-in pair on one line.
		{"en", "Login: mark.ellis@outlook.com / Ellis!2020", []string{"EMAIL:mark.ellis@outlook.com", "SECRET:Ellis!2020"}},
		{"de", "Zugangsdaten: jkuehn | Kaffee2023", []string{"SECRET:Kaffee2023"}},
		{"en", "Login / Register page gives an error 500", nil},
		// Codes: three groups of two, pasted SMS, TAN variants, em-dash.
		{"en", "locker pickup code 58 21 94", []string{"SECRET:58 21 94"}},
		{"en", "the one-time passcode 30 91 57 didn't work", []string{"SECRET:30 91 57"}},
		{"fr", "code de vérification : 77 41 90", []string{"SECRET:77 41 90"}},
		{"en", "The SMS said 403 221 is your code", []string{"SECRET:403 221"}},
		{"de", "mTAN 442 918", []string{"SECRET:442 918"}},
		{"en", "here's my temporary password — Qw7#pLm2", []string{"SECRET:Qw7#pLm2"}},
		{"es", "clave de acceso: Madrid#2024", []string{"SECRET:Madrid#2024"}},
		{"en", "the code for my order 48213 is the code you sent?", nil},
		{"en", "SAVE20 is your discount code", nil},
		{"de", "Der Code auf der Verpackung lautet 4006381", nil},
		{"en", "booking confirmation code K7Q2XP, is the slot still on?", nil},
		{"nl", "mijn paswoord is Fiets2024", []string{"SECRET:Fiets2024"}},
		{"nl", "ww: Zonnebloem7", []string{"SECRET:Zonnebloem7"}},
		{"nl", "de beveiligingscode is 551902", []string{"SECRET:551902"}},
		{"nl", "de eenmalige code was 883 104", []string{"SECRET:883 104"}},
		{"nl", "mijn paswoord werkt niet meer", nil},
		{"en", "the code on the parcel was 12-04-25", nil},
	})
}

func TestNameForms(t *testing.T) {
	t.Parallel()
	runCases(t, []detectCase{
		{"en", "Thanks,\nJ. R. Whitfield", []string{"PERSON:J. R. Whitfield"}},
		{"en", "Thanks a lot, Olamide", []string{"PERSON:Olamide"}},
		{"fr", "Il s'appelle Hugo, c'est mon fils", []string{"PERSON:Hugo"}},
		{"en", "a friend named Tendai will collect it", []string{"PERSON:Tendai"}},
		// Departments and mailboxes sign off too; words that open a sentence.
		{"en", "Regards,\nAccounts Payable", nil},
		{"en", "Regards\nReturns Department\nAcme Ltd", nil},
		{"de", "Mit freundlichen Grüßen\nBuchhaltung", nil},
		{"it", "Cordiali saluti,\nUfficio Resi", nil},
		{"en", "Hi Both, sorry for the delay", nil},
		{"en", "Ok Thanks Bye", nil},
		{"en", "Thank you, Legend!", nil},
		{"de", "Hallo, Kurze Frage zur Lieferung", nil},
	})
}
