package crmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// HubSpot emulates the CRM v3 contacts API of one portal: batch upsert by a
// unique property, read by it, and GDPR delete, under a private app's
// bearer token.
type HubSpot struct {
	*base
	token      string
	idProperty string
	nextID     int
	ids        map[string]string // external ID → hs_object_id
	// rejects are external IDs whose inputs fail validation (Reject).
	rejects map[string]bool
}

// NewHubSpot starts an emulator that accepts token, with idProperty as its
// unique-value property.
func NewHubSpot(t testing.TB, token, idProperty string) *HubSpot {
	h := &HubSpot{token: token, idProperty: idProperty, ids: map[string]string{}, nextID: 1000}
	h.base = newBase(t, http.HandlerFunc(h.serve))
	return h
}

func hubSpotError(w http.ResponseWriter, status int, category, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "message": message,
		"correlationId": "5e4a8f6c-0000-4000-8000-000000000000", "category": category})
}

func (h *HubSpot) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts.Requests++
	if r.Header.Get("Authorization") != "Bearer "+h.token {
		h.counts.Rejected++
		hubSpotError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication.")
		return
	}
	f, faulted := h.takeFault()
	if faulted && !f.Apply {
		h.counts.Rejected++
		if f.Status == http.StatusTooManyRequests {
			writeFault(w, f, `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c0ffee00-0000-4000-8000-000000000000","policyName":"SECONDLY"}`)
			return
		}
		writeFault(w, f, `{"status":"error","message":"internal error","correlationId":"c0ffee00-0000-4000-8000-000000000001","category":"INTERNAL_ERROR"}`)
		return
	}
	status, body := h.route(r)
	if faulted {
		h.counts.Rejected++
		writeFault(w, f, `{"status":"error","message":"internal error","category":"INTERNAL_ERROR"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (h *HubSpot) route(r *http.Request) (int, any) {
	const contacts = "/crm/v3/objects/contacts/"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == contacts+"batch/upsert":
		var in struct {
			Inputs []struct {
				IDProperty string            `json:"idProperty"`
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
			} `json:"inputs"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Inputs) == 0 || len(in.Inputs) > 100 {
			return http.StatusBadRequest, map[string]any{"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"}
		}
		var results []map[string]any
		for _, it := range in.Inputs {
			if it.IDProperty != h.idProperty || it.ID == "" {
				return http.StatusBadRequest, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
					"message": fmt.Sprintf("Property %q is not a unique identifier", it.IDProperty)}
			}
		}
		var refused []map[string]any
		for _, it := range in.Inputs {
			if h.rejects[it.ID] {
				refused = append(refused, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
					"message": "Property values were not valid", "context": map[string][]string{"ids": {it.ID}}})
				continue
			}
			created := h.upsert(it.ID, it.Properties)
			if created {
				h.nextID++
				h.ids[it.ID] = fmt.Sprint(h.nextID)
			}
			results = append(results, map[string]any{"id": h.ids[it.ID], "properties": it.Properties, "new": created})
		}
		if len(refused) > 0 {
			return http.StatusMultiStatus, map[string]any{"status": "COMPLETE", "results": results, "numErrors": len(refused), "errors": refused}
		}
		return http.StatusOK, map[string]any{"status": "COMPLETE", "results": results}
	case r.Method == http.MethodPost && r.URL.Path == contacts+"gdpr-delete":
		var in struct {
			ObjectID   string `json:"objectId"`
			IDProperty string `json:"idProperty"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ObjectID == "" {
			return http.StatusBadRequest, map[string]any{"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"}
		}
		if in.IDProperty != "" && in.IDProperty != h.idProperty {
			return http.StatusBadRequest, map[string]any{"status": "error", "message": "Unknown idProperty", "category": "VALIDATION_ERROR"}
		}
		if !h.remove(in.ObjectID) {
			return http.StatusNotFound, map[string]any{"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"}
		}
		return http.StatusNoContent, nil
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, contacts):
		id := strings.TrimPrefix(r.URL.Path, contacts)
		if r.URL.Query().Get("idProperty") == "" {
			// By HubSpot's own object id, as a webhook event names it.
			return h.byObjectID(id, r.URL.Query().Get("properties"))
		}
		if r.URL.Query().Get("idProperty") != h.idProperty {
			return http.StatusBadRequest, map[string]any{"status": "error", "message": "Unknown idProperty", "category": "VALIDATION_ERROR"}
		}
		rec, ok := h.read(id)
		if !ok {
			return http.StatusNotFound, map[string]any{"status": "error", "message": "Object not found.", "category": "OBJECT_NOT_FOUND"}
		}
		return http.StatusOK, map[string]any{"id": h.ids[id], "properties": rec, "archived": false}
	}
	return http.StatusNotFound, map[string]any{"status": "error", "message": "Unable to infer object type from: " + r.URL.Path, "category": "OBJECT_NOT_FOUND"}
}
