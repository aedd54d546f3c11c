package auth

import (
	"context"
	"sync"
	"time"

	"github.com/sottohq/sotto/pkg/accesstoken"
	"github.com/sottohq/sotto/pkg/errs"
	"github.com/sottohq/sotto/services/identity/internal/reasons"
)

// VisitorSession is an anonymous web-chat visitor's access token.
type VisitorSession struct {
	AccessToken string
	VisitorID   string
	Expires     time.Time
}

// shopMemory is how long a tenant the vault confirmed is believed without
// asking again: visitors arrive in floods (every page view of a shop's
// widget), and each vault lookup is an audit event there. Shops are not
// deleted in the middle of a chat; a removed one stops being believed
// within this time.
const shopMemory = 5 * time.Minute

// maxKnownShops bounds the memory; past it nothing new is remembered (every
// visitor of a further shop asks the vault, which is correct, only slower).
const maxKnownShops = 10_000

// knownShops remembers confirmed tenants; unknown ones are never remembered,
// so a flood of made-up names costs vault calls (limited per source at the
// gateway and by the throttle here) but no memory.
type knownShops struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (k *knownShops) known(tenant string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.until[tenant]
	return ok && now.Before(t)
}

func (k *knownShops) remember(tenant string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.until == nil {
		k.until = map[string]time.Time{}
	}
	if len(k.until) >= maxKnownShops {
		for name, t := range k.until {
			if !now.Before(t) {
				delete(k.until, name)
			}
		}
		if len(k.until) >= maxKnownShops {
			return
		}
	}
	k.until[tenant] = now.Add(shopMemory)
}

// CreateVisitorSession gives an anonymous visitor of tenant an access token
// of kind visitor: a new pseudonymous visitor id as subject (and sid), aal
// 0, no account, no roles, living the issuer's visitor lifetime. Nothing is
// stored: the token is the session, and a visitor who needs more logs in.
// The shop must exist; an unknown one is InvalidArgument TENANT_UNKNOWN,
// the answer sign-up gives. Throttled per source like every public call.
func (s *Service) CreateVisitorSession(ctx context.Context, tenant string, o Origin) (VisitorSession, error) {
	if err := s.throttle(o); err != nil {
		return VisitorSession{}, err
	}
	if err := requireTenant(tenant, "a visitor session"); err != nil {
		return VisitorSession{}, err
	}
	now := s.now()
	if !s.shops.known(tenant, now) {
		ok, err := s.Contacts.KnownTenant(ctx, vaultTenant(tenant))
		if err != nil {
			return VisitorSession{}, err
		}
		if !ok {
			// Shops are public (their pages embed the widget), so an
			// unknown one is said plainly, as at sign-up.
			return VisitorSession{}, errs.E(errs.InvalidArgument, reasons.TenantUnknown, "there is no such shop (tenant)")
		}
		s.shops.remember(tenant, now)
	}
	id, err := newID("vis")
	if err != nil {
		return VisitorSession{}, err
	}
	tok, c, err := s.Tokens.IssueClaims(ctx, accesstoken.Claims{
		Subject: id, Kind: accesstoken.KindVisitor, Tenant: tenant, SessionID: id, AAL: accesstoken.AALNone,
	})
	if err != nil {
		return VisitorSession{}, err
	}
	return VisitorSession{AccessToken: tok, VisitorID: id, Expires: c.Expiry}, nil
}
