package server_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc/metadata"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/accesstoken/accesstokentest"
	"github.com/sottohq/sotto/pkg/authz"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/keys"
	"github.com/sottohq/sotto/pkg/server"
	"github.com/sottohq/sotto/pkg/servertest"
)

// identityIssuer is the iss of the test trust domain's identity.
const identityIssuer = "spiffe://" + servertest.TrustDomain + "/identity"

// people stands in for identity: real access tokens signed by an Ed25519
// key in a local keyring (pkg/accesstoken's Issuer, as identity signs them),
// verified with that key's JWK Set, and a revocation feed the test appends
// to. What the vault runs is pkg/enduser's real Authenticator.
type people struct {
	km     *keys.Local
	issuer *accesstoken.Issuer
	feed   *revocationFeed
	revs   *enduser.Revocations
	auth   *enduser.Authenticator
}

func newPeople(t testing.TB, policy enduser.Policy) *people {
	t.Helper()
	ctx := context.Background()
	id := accesstokentest.New(t, identityIssuer)
	km, iss, set := id.Keyring, id.Issuer, id.Keys
	verifier, err := accesstoken.NewVerifier(set, identityIssuer)
	if err != nil {
		t.Fatal(err)
	}
	p := &people{km: km, issuer: iss, feed: &revocationFeed{changed: make(chan struct{})}}
	p.revs = enduser.NewRevocations(p.feed)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = p.revs.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if p.auth, err = enduser.NewAuthenticator(verifier, p.revs, policy); err != nil {
		t.Fatal(err)
	}
	// The feed's backlog arrives before the first call (an event, not a time).
	deadline := time.Now().Add(10 * time.Second)
	for p.revs.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("revocation feed never became ready")
		}
		time.Sleep(time.Millisecond)
	}
	return p
}

// server builds name's gRPC server with the real interceptors and the
// end-user ones, as pkg/service's EndUsers installs them.
func (p *people) server(t testing.TB, pki *servertest.PKI, name string, policy authz.Policy) *server.Server {
	t.Helper()
	srv, err := server.New(context.Background(), name, pki.Config(t, name), policy, servertest.Logger(),
		server.WithInterceptors(p.auth.UnaryInterceptor(), p.auth.StreamInterceptor()))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// checkMethods: the end-user table covers exactly what srv serves, as
// pkg/service checks at start-up.
func (p *people) checkMethods(t *testing.T, srv *server.Server) {
	t.Helper()
	var served []string
	for svc, info := range srv.GRPC().GetServiceInfo() {
		for _, m := range info.Methods {
			served = append(served, "/"+svc+"/"+m.Name)
		}
	}
	if err := p.auth.CheckMethods(served); err != nil {
		t.Fatal(err)
	}
}

// person is the claims of a signed-in person who authenticated ago.
func person(kind accesstoken.Kind, sub string, aal int, ago time.Duration, roles ...string) accesstoken.Claims {
	c := accesstoken.Claims{Subject: sub, Kind: kind, SessionID: "ses_" + sub + "_" + strconv.Itoa(aal), AAL: aal,
		AMR: []string{"pwd"}, AuthTime: time.Now().Add(-ago), Roles: roles}
	if kind == accesstoken.KindCustomer {
		c.Tenant = "default"
	}
	if aal == accesstoken.AAL2 {
		c.AMR = append(c.AMR, "otp")
	}
	return c
}

// token issues c; at, if given, is when it is issued.
func (p *people) token(t testing.TB, c accesstoken.Claims, at ...time.Time) string {
	t.Helper()
	iss := p.issuer
	if len(at) > 0 {
		var err error
		if iss, err = accesstoken.NewIssuer(p.km, accesstoken.KeyName, identityIssuer, accesstoken.WithIssuerClock(clockwork.NewFakeClockAt(at[0]))); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := iss.Issue(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// as is a call context carrying tok, as the gateway forwards it.
func as(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// revocationFeed is identity's WatchRevocations: the backlog, a heartbeat,
// then each revocation as it comes.
type revocationFeed struct {
	mu      sync.Mutex
	log     []enduser.Revocation
	changed chan struct{}
}

var _ enduser.RevocationSource = (*revocationFeed)(nil)

func (f *revocationFeed) revoke(sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.log = append(f.log, enduser.Revocation{Cursor: strconv.Itoa(len(f.log) + 1), SessionID: sid,
		RevokeTime: now, ExpireTime: now.Add(accesstoken.DefaultLifetime)})
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *revocationFeed) Watch(ctx context.Context, cursor string, fn func(enduser.Revocation) error) error {
	next, _ := strconv.Atoi(cursor)
	for first := true; ; first = false {
		f.mu.Lock()
		pending, changed := f.log[min(next, len(f.log)):], f.changed
		f.mu.Unlock()
		for _, r := range pending {
			if err := fn(r); err != nil {
				return err
			}
			next++
		}
		if first {
			if err := fn(enduser.Revocation{Cursor: strconv.Itoa(next)}); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}
