package storage

import (
	"context"
	"time"

	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/pkg/store"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// Client is an integrator.
type Client struct {
	ID          string
	Tenant      string
	DisplayName string
	Scopes      []string
	// SecretHash is the SHA-256 (hex) of the client secret, or "".
	SecretHash string
	// PublicJWK is the Ed25519 public key for private_key_jwt, or "".
	PublicJWK string
	Created   time.Time
	Revoked   time.Time
}

// InsertClient registers a client.
func (s *Store) InsertClient(ctx context.Context, q Q, c Client) error {
	if c.ID == "" || (c.SecretHash == "") == (c.PublicJWK == "") {
		return errInternal("client without id, or without exactly one credential")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO clients (client_id, tenant, display_name, scopes, secret_hash, public_jwk, created_us)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, c.Tenant, c.DisplayName, joinList(c.Scopes), c.SecretHash, c.PublicJWK, us(c.Created))
	return store.MapError(err)
}

// Client returns a client; NotFound CLIENT_NOT_FOUND.
func (s *Store) Client(ctx context.Context, q Q, id string) (Client, error) {
	var c Client
	var scopes string
	var created, revoked int64
	err := q.QueryRowContext(ctx, `SELECT client_id, tenant, display_name, scopes, secret_hash, public_jwk, created_us, revoked_us
		FROM clients WHERE client_id = $1`, id).Scan(&c.ID, &c.Tenant, &c.DisplayName, &scopes, &c.SecretHash, &c.PublicJWK, &created, &revoked)
	if err != nil {
		return Client{}, notFound(err, reasons.ClientNotFound, "client")
	}
	c.Scopes = splitList(scopes)
	c.Created, c.Revoked = fromUS(created), fromUS(revoked)
	return c, nil
}

// RevokeClient revokes a client and reports whether it did (false: already
// revoked); NotFound CLIENT_NOT_FOUND when there is no such client.
func (s *Store) RevokeClient(ctx context.Context, q Q, id string, now time.Time) (bool, error) {
	ok, err := affected(q.ExecContext(ctx, `UPDATE clients SET revoked_us = $2 WHERE client_id = $1 AND revoked_us = 0`, id, us(now)))
	if err != nil || ok {
		return ok, err
	}
	if _, err := s.Client(ctx, q, id); err != nil {
		return false, err
	}
	return false, nil
}

// LockLiveClient takes the client's row for the rest of tx if it is not
// revoked (false otherwise, or when there is no such client). A token
// issued in tx is then either committed before a revocation (which waits
// for the lock, and refuses the token) or not issued at all.
func (s *Store) LockLiveClient(ctx context.Context, q Q, id string) (bool, error) {
	return affected(q.ExecContext(ctx, `UPDATE clients SET revoked_us = revoked_us WHERE client_id = $1 AND revoked_us = 0`, id))
}

// RecordAssertion remembers a private-key JWT's jti until it expires; a jti
// seen before for the client is InvalidArgument CLIENT_ASSERTION_INVALID
// (a replay).
func (s *Store) RecordAssertion(ctx context.Context, q Q, clientID, jti string, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO client_assertions (client_id, jti, expires_us) VALUES ($1, $2, $3)`,
		clientID, jti, us(expires))
	if store.IsUniqueViolation(err) {
		return errs.Wrap(err, errs.Unauthenticated, reasons.ClientAssertionInvalid, "the client assertion was used before")
	}
	return store.MapError(err)
}
