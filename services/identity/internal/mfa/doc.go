// Package mfa is identity's second-factor logic: TOTP (RFC 6238), recovery
// codes, and WebAuthn security keys and passkeys. It knows no gRPC and no SQL:
// it takes and returns plain values (wrapped secrets, hashes, credential
// records, ceremony bytes) that the server stores, and keeps the checks that
// must not be got wrong in one place.
//
// What the package does not do, and its caller must:
//
//   - Throttle attempts (the attempt limiter and lockout). A TOTP guess wins
//     with probability 3/10^6; only the limiter makes that negligible. Every
//     refusal counts, malformed and replayed codes included.
//   - Store results atomically. Each check returns what changes (the TOTP
//     step, the recovery code's index, the WebAuthn sign count) and the store
//     writes it with a compare-and-set on the old value, so two parallel
//     requests with the same code or assertion cannot both be accepted.
//   - Take a WebAuthn ceremony once (delete on read) and honour its deadline.
//   - Check the password before a second factor, and audit every outcome.
//
// Assurance each check yields (NIST SP 800-63B levels, RFC 8176 amr values):
//
//	check                             amr                  aal
//	TOTP code, after the password     otp                  aal2
//	recovery code, after the password otp                  aal2
//	WebAuthn, after the password      hwk|swk, user        aal2
//	passkey login, no password        hwk|swk, user, mfa   aal2
//
// The caller adds "pwd" (and "mfa") when a second factor followed a password.
// "hwk" is a credential bound to one authenticator (not backup eligible),
// "swk" a synced passkey; see webAuthnAssurance for why. TOTPAssurance,
// RecoveryCodeAssurance and the Assurance of a WebAuthn LoginResult carry
// these values.
//
// The API, in the order a server uses it:
//
//	totp, _ := mfa.NewTOTP(km, mfa.TOTPConfig{KeyName: "identity-mfa"})
//	enrolment, _ := totp.Enrol(ctx, ref, "customer", now)         // store WrappedSecret as pending; show URI/QR once
//	step, _ := totp.Confirm(ctx, ref, wrapped, expiresAt, code, now) // activate with step (compare-and-set)
//	step, _ = totp.Verify(ctx, ref, wrapped, code, lastStep, now)   // store step (compare-and-set)
//
//	rc, _ := mfa.NewRecoveryCodes(km, "identity-mfa")
//	codes, hashes, _ := rc.Generate(ctx, accountID)                // show codes once; store hashes
//	i, _ := rc.Verify(ctx, accountID, code, hashes)                // mark hashes[i] used (compare-and-set)
//
//	wa, _ := mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: ..., RPOrigins: ...})
//	ch, _ := wa.BeginRegistration(user, mfa.Passkey)               // Options to the client; keep Ceremony until ExpiresAt
//	cred, _ := wa.FinishRegistration(user, ceremony, response)     // store mfa.MarshalCredential(*cred)
//	ch, _ = wa.BeginLogin(user) / wa.BeginPasskeyLogin()
//	res, _ := wa.FinishLogin(user, ceremony, response)             // or FinishPasskeyLogin(ctx, ceremony, response, lookup)
//
// Errors are *errs.Error values with the stable reasons of reasons.go:
// malformed input is InvalidArgument, a wrong or replayed code or a failed
// assertion Unauthenticated, an expired enrolment or ceremony
// FailedPrecondition, and stored data that does not open (a secret moved to
// another account) Internal. No error text contains a code, secret or label.
package mfa
