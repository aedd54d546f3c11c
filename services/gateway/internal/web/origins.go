package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// WidgetOrigins are the shop pages allowed to embed the chat widget, per
// shop (SOTTO_GATEWAY_WIDGET_ORIGINS, docs/adr/0016-web-front.md). An entry
// is "<tenant>=<origin>" (that shop's page), or a bare "<origin>", which
// every shop's widget accepts (the setting's meaning before it was per
// shop, kept for single-shop installations). The same list decides the
// widget page's frame-ancestors (here) and which shop a browser request
// from a shop's page may act for (the gateway's widget.go).
type WidgetOrigins struct {
	every    []string            // bare entries
	byTenant map[string][]string // tenant → its own origins
}

// tenantRE is a shop id as identity and the widget accept it.
var tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ParseWidgetOrigins reads the entries; an origin that is not exactly
// scheme://host[:port] in lower case, or a tenant that is not a shop id,
// is an error (it would go into a CSP header or never match).
func ParseWidgetOrigins(entries []string) (WidgetOrigins, error) {
	o := WidgetOrigins{byTenant: map[string][]string{}}
	for _, e := range entries {
		tenant, origin, perTenant := strings.Cut(e, "=")
		if !perTenant {
			origin = e
		}
		if perTenant && !tenantRE.MatchString(tenant) {
			return WidgetOrigins{}, fmt.Errorf("widget origin entry %q: %q is not a shop id", e, tenant)
		}
		if !validOrigin(origin) {
			return WidgetOrigins{}, fmt.Errorf("widget origin %q is not scheme://host[:port] in lower case", origin)
		}
		if perTenant {
			if !slices.Contains(o.byTenant[tenant], origin) {
				o.byTenant[tenant] = append(o.byTenant[tenant], origin)
			}
		} else if !slices.Contains(o.every, origin) {
			o.every = append(o.every, origin)
		}
	}
	return o, nil
}

// For is the origins that may frame tenant's widget: the bare entries and
// the tenant's own. Empty for an unknown tenant when there are no bare
// entries.
func (o WidgetOrigins) For(tenant string) []string {
	out := slices.Clone(o.every)
	for _, v := range o.byTenant[tenant] {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Tenants says which shops a page of origin may act for: every shop (a
// bare entry), the listed ones, or none (listed is false: the origin is
// not in the list at all).
func (o WidgetOrigins) Tenants(origin string) (every bool, tenants []string, listed bool) {
	if slices.Contains(o.every, origin) {
		return true, nil, true
	}
	for t, os := range o.byTenant {
		if slices.Contains(os, origin) {
			tenants = append(tenants, t)
		}
	}
	slices.Sort(tenants)
	return false, tenants, len(tenants) > 0
}

// Any reports whether some shop lists origin.
func (o WidgetOrigins) Any(origin string) bool {
	_, _, listed := o.Tenants(origin)
	return listed
}

// widgetTenant is the shop the widget page is asked for: exactly one
// "tenant" query parameter that is a shop id, in a query without ';'
// (which Go's parser drops and a browser's keeps, so the two could read
// different shops). "" otherwise: the page then may be framed by nobody.
func widgetTenant(r *http.Request) string {
	if strings.Contains(r.URL.RawQuery, ";") {
		return ""
	}
	v := r.URL.Query()["tenant"]
	if len(v) != 1 || !tenantRE.MatchString(v[0]) {
		return ""
	}
	return v[0]
}
