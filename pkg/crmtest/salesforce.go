package crmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Salesforce emulates one org: the OAuth 2.0 client-credentials token
// endpoint, and an object's records by an external ID field through the
// REST API (upsert, read and delete by external ID; sObject Collections'
// upsert for batches).
type Salesforce struct {
	*base
	clientID, clientSecret string
	version, object, field string
	tokens                 map[string]bool // live access tokens
	issued                 int
	// rejects are external IDs whose records a validation rule refuses.
	rejects map[string]bool
	// ids are the records' Ids (18 characters, Contact's key prefix 003),
	// by external ID, as the org assigns them on create.
	ids map[string]string
}

// recordID is the Id of the record with externalID, assigned on first
// use (s.mu held).
func (s *Salesforce) recordID(externalID string) string {
	if s.ids == nil {
		s.ids = map[string]string{}
	}
	id, ok := s.ids[externalID]
	if !ok {
		id = fmt.Sprintf("003%015d", 500000+len(s.ids))
		s.ids[externalID] = id
	}
	return id
}

// Reject makes the org refuse the records of these external IDs, as a
// validation rule does: a collection answers success false for each of
// them (and, allOrNone, rolls back the rest), a single upsert answers 400.
func (s *Salesforce) Reject(externalIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejects == nil {
		s.rejects = map[string]bool{}
	}
	for _, id := range externalIDs {
		s.rejects[id] = true
	}
}

func sfValidationError() []map[string]any {
	return []map[string]any{{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "The record does not pass a validation rule", "fields": []string{}}}
}

// NewSalesforce starts an org that accepts the connected app clientID /
// clientSecret, with object's external ID field field, at API version.
func NewSalesforce(t testing.TB, clientID, clientSecret, version, object, field string) *Salesforce {
	s := &Salesforce{clientID: clientID, clientSecret: clientSecret, version: version, object: object, field: field,
		tokens: map[string]bool{}}
	s.base = newBase(t, http.HandlerFunc(s.serve))
	return s
}

// ExpireSessions ends every access token issued so far, as a session
// timeout or a revocation does.
func (s *Salesforce) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// TokensIssued is how many access tokens the org gave out.
func (s *Salesforce) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

func sfErrors(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode([]map[string]any{{"message": message, "errorCode": code}})
}

func (s *Salesforce) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Requests++
	if r.URL.Path == "/services/oauth2/token" {
		s.serveToken(w, r)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !s.tokens[tok] {
		s.counts.Rejected++
		sfErrors(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	f, faulted := s.takeFault()
	if faulted && !f.Apply {
		s.counts.Rejected++
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
			sfErrors(w, f.Status, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			return
		}
		sfErrors(w, f.Status, "SERVER_UNAVAILABLE", "Server unavailable")
		return
	}
	status, body := s.route(r)
	if faulted {
		s.counts.Rejected++
		sfErrors(w, f.Status, "SERVER_UNAVAILABLE", "Server unavailable")
		return
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Salesforce) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"unsupported_grant_type","error_description":"grant type not supported"}`))
		return
	}
	if r.PostForm.Get("client_id") != s.clientID || r.PostForm.Get("client_secret") != s.clientSecret {
		s.counts.Rejected++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"invalid client credentials"}`))
		return
	}
	s.issued++
	tok := fmt.Sprintf("00Dxx0000001gPL!AR8AQ.session%d", s.issued)
	s.tokens[tok] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "instance_url": "https://" + r.Host,
		"id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001Sv6AAAS", "token_type": "Bearer",
		"issued_at": "1764460800000", "signature": "c2lnbmF0dXJl"})
}

func (s *Salesforce) route(r *http.Request) (int, any) {
	data := "/services/data/" + s.version
	one := data + "/sobjects/" + s.object + "/" + s.field + "/"
	batch := data + "/composite/sobjects/" + s.object + "/" + s.field
	switch {
	case strings.HasPrefix(r.URL.Path, one):
		id := strings.TrimPrefix(r.URL.Path, one)
		switch r.Method {
		case http.MethodPatch:
			var props map[string]string
			if err := json.NewDecoder(r.Body).Decode(&props); err != nil {
				return http.StatusBadRequest, []map[string]any{{"errorCode": "JSON_PARSER_ERROR", "message": "Unexpected character"}}
			}
			if _, ok := props[s.field]; ok {
				return http.StatusBadRequest, []map[string]any{{"errorCode": "INVALID_FIELD", "message": "The external ID field is in the URL"}}
			}
			if s.rejects[id] {
				return http.StatusBadRequest, []map[string]any{{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "The record does not pass a validation rule"}}
			}
			if s.upsert(id, props) {
				return http.StatusCreated, map[string]any{"id": s.recordID(id), "success": true, "errors": []any{}, "created": true}
			}
			return http.StatusOK, map[string]any{"id": s.recordID(id), "success": true, "errors": []any{}, "created": false}
		case http.MethodGet:
			rec, ok := s.read(id)
			if !ok {
				return http.StatusNotFound, []map[string]any{{"errorCode": "NOT_FOUND", "message": "Provided external ID field does not exist or is not accessible: " + id}}
			}
			out := map[string]any{"attributes": map[string]string{"type": s.object}}
			for k, v := range rec {
				out[k] = v
			}
			return http.StatusOK, out
		case http.MethodDelete:
			if !s.remove(id) {
				return http.StatusNotFound, []map[string]any{{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}}
			}
			return http.StatusNoContent, nil
		}
	case r.URL.Path == batch && r.Method == http.MethodPatch:
		var in struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Records) == 0 || len(in.Records) > 200 {
			return http.StatusBadRequest, []map[string]any{{"errorCode": "INVALID_FIELD", "message": "records must hold 1 to 200 records"}}
		}
		var results []map[string]any
		for _, rec := range in.Records {
			attrs, _ := rec["attributes"].(map[string]any)
			id, _ := rec[s.field].(string)
			if attrs == nil || attrs["type"] != s.object || id == "" {
				return http.StatusBadRequest, []map[string]any{{"errorCode": "INVALID_TYPE", "message": "attributes.type and the external ID are required"}}
			}
		}
		refused := 0
		for _, rec := range in.Records {
			if s.rejects[rec[s.field].(string)] {
				refused++
			}
		}
		for _, rec := range in.Records {
			id := rec[s.field].(string)
			if s.rejects[id] {
				results = append(results, map[string]any{"id": nil, "success": false, "errors": sfValidationError()})
				continue
			}
			if in.AllOrNone && refused > 0 {
				results = append(results, map[string]any{"id": nil, "success": false, "errors": []map[string]any{{
					"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []string{}}}})
				continue
			}
			props := map[string]string{}
			for k, v := range rec {
				if sv, ok := v.(string); ok && k != s.field {
					props[k] = sv
				}
			}
			created := s.upsert(id, props)
			results = append(results, map[string]any{"id": s.recordID(id), "success": true, "errors": []any{}, "created": created})
		}
		return http.StatusOK, results
	}
	return http.StatusNotFound, []map[string]any{{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}}
}
