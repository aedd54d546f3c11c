// Package identity is Sotto's identity service: customer and staff accounts,
// passwords, MFA (TOTP, WebAuthn and passkeys, recovery codes), sessions,
// signed access tokens with their JWKS, step-up and lockout.
//
// The service's code lives under internal/; cmd/identity is its main.
package identity
