package gateway

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// allowIndex says which methods a path is served for, for the Allow header
// of a 405 (RFC 9110 section 15.5.6). grpc-gateway answers 405 when another
// method's route matches but does not say which: its routes are not
// exported, so the index is built from the served OpenAPI document, which
// is generated from the same HTTP rules (TestEveryRouteHasAnAccessRule keeps
// the two together).
type allowIndex []allowRoute

type allowRoute struct {
	path    *regexp.Regexp
	methods []string
}

// templateVar is a path template's variable ({conversation_id}): one
// segment, as in every route of the API.
var templateVar = regexp.MustCompile(`\{[^}]*\}`)

func newAllowIndex(openAPI []byte) (allowIndex, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, err
	}
	var idx allowIndex
	for tmpl, ops := range doc.Paths {
		var methods []string
		for m := range ops {
			switch m = strings.ToUpper(m); m {
			case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				methods = append(methods, m)
			}
		}
		var re strings.Builder
		last := 0
		for _, loc := range templateVar.FindAllStringIndex(tmpl, -1) {
			re.WriteString(regexp.QuoteMeta(tmpl[last:loc[0]]) + `[^/]+`)
			last = loc[1]
		}
		re.WriteString(regexp.QuoteMeta(tmpl[last:]))
		p, err := regexp.Compile("^" + re.String() + "$")
		if err != nil {
			return nil, err
		}
		idx = append(idx, allowRoute{path: p, methods: methods})
	}
	return idx, nil
}

// allow is the Allow header's value for r's path: the methods of every
// route matching it, r's own left out (grpc-gateway found no route for it).
func (idx allowIndex) allow(r *http.Request) string {
	var methods []string
	for _, rt := range idx {
		if rt.path.MatchString(r.URL.EscapedPath()) {
			methods = append(methods, rt.methods...)
		}
	}
	methods = slices.DeleteFunc(methods, func(m string) bool { return m == r.Method })
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}
