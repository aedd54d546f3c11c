package service

import (
	"errors"
	"fmt"
	"sort"

	identityv1 "github.com/sottohq/sotto/gen/go/sotto/identity/v1"
	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/enduser"
	"github.com/sottohq/sotto/pkg/server"
)

// IdentityIssuer is the iss of the access tokens of the trust domain's
// identity service (ADR 0009).
func IdentityIssuer(trustDomain string) string { return "spiffe://" + trustDomain + "/identity" }

// EndUsers turns on end-user authentication (ADR 0009, pkg/enduser) for
// the service: it dials identity (SOTTO_IDENTITY_ADDR) for the token keys
// (GetJwks) and the revocation feed (WatchRevocations), follows both in the
// background, and installs the interceptors that apply policy in the gRPC
// server. Call it before GRPC. policy must name every method the service
// registers, or the service does not start (see enduser.Policy).
//
// A service without a gRPC API (the REST edge) passes a nil policy and
// checks tokens with the returned Authenticator's Authenticate.
func (s *Service) EndUsers(policy enduser.Policy) (*enduser.Authenticator, error) {
	if err := s.canAddEndUsers(policy); err != nil {
		return nil, err
	}
	conn, err := s.Dial("identity")
	if err != nil {
		return nil, err
	}
	client := identityv1.NewIdentityServiceClient(conn)
	return s.EndUsersFrom(policy, enduser.IdentityKeys(client), enduser.NewIdentityRevocations(client))
}

// EndUsersFrom is EndUsers with the keys and the revocation feed given: for
// identity itself, which reads its own.
func (s *Service) EndUsersFrom(policy enduser.Policy, keys *accesstoken.RemoteKeys, feed enduser.RevocationSource) (*enduser.Authenticator, error) {
	if err := s.canAddEndUsers(policy); err != nil {
		return nil, err
	}
	verifier, err := accesstoken.NewVerifier(keys, IdentityIssuer(s.TrustDomain()))
	if err != nil {
		return nil, err
	}
	revocations := enduser.NewRevocations(feed, enduser.WithRevocationsLogger(s.logger))
	auth, err := enduser.NewAuthenticator(verifier, revocations, policy)
	if err != nil {
		return nil, err
	}
	s.Go("enduser-keys", keys.Run)
	s.Go("enduser-revocations", revocations.Run)
	// Dependencies, not readiness: while identity's keys or feed are stale,
	// calls for end users fail closed (KEYS_UNAVAILABLE, REVOCATIONS_STALE),
	// but the workload-only API keeps serving, and an identity outage does
	// not take every service out of rotation (as with Dial).
	s.admin.AddDependencyCheck("enduser-keys", keys.Ready)
	s.admin.AddDependencyCheck("enduser-revocations", revocations.Ready)
	s.endUsers = auth
	return auth, nil
}

func (s *Service) canAddEndUsers(policy enduser.Policy) error {
	switch {
	case s.endUsers != nil:
		return errors.New("service: EndUsers called twice")
	case s.grpcSrv != nil && len(policy) > 0:
		return errors.New("service: call EndUsers before GRPC, so that its interceptors are installed")
	}
	return policy.Check()
}

// endUserOptions are the server options EndUsers asks for.
func (s *Service) endUserOptions() []server.Option {
	if s.endUsers == nil || len(s.endUsers.Policy()) == 0 {
		return nil
	}
	return []server.Option{server.WithInterceptors(s.endUsers.UnaryInterceptor(), s.endUsers.StreamInterceptor())}
}

// checkEndUsers runs after register: the end-user policy must cover exactly
// the methods the gRPC server serves.
func (s *Service) checkEndUsers() error {
	if s.endUsers == nil {
		return nil
	}
	if s.grpcSrv == nil {
		if len(s.endUsers.Policy()) > 0 {
			return fmt.Errorf("%s: an end-user policy but no gRPC API", s.name)
		}
		return nil
	}
	var served []string
	for name, info := range s.grpcSrv.GRPC().GetServiceInfo() {
		for _, m := range info.Methods {
			served = append(served, "/"+name+"/"+m.Name)
		}
	}
	sort.Strings(served)
	return s.endUsers.CheckMethods(served)
}
