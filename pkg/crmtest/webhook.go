package crmtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HubSpotPortalID is the emulated portal's id (the Hub ID webhook events
// carry as portalId).
const HubSpotPortalID = 62515

// HubSpotEvent is one event of a HubSpot webhooks v3 delivery, as HubSpot
// sends it: a delivery is a JSON array of up to 100 of these.
type HubSpotEvent struct {
	EventID          int64  `json:"eventId"`
	SubscriptionID   int64  `json:"subscriptionId"`
	PortalID         int64  `json:"portalId"`
	AppID            int64  `json:"appId"`
	OccurredAt       int64  `json:"occurredAt"`
	SubscriptionType string `json:"subscriptionType"`
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         int64  `json:"objectId"`
	ChangeSource     string `json:"changeSource"`
	PropertyName     string `json:"propertyName,omitempty"`
	PropertyValue    string `json:"propertyValue,omitempty"`
}

// byObjectID serves GET /crm/v3/objects/contacts/{objectId}?properties=a,b
// (h.mu held): the contact by HubSpot's own id, with the properties asked
// for (null when unset, as HubSpot answers).
func (h *HubSpot) byObjectID(objectID, properties string) (int, any) {
	for ext, id := range h.ids {
		if id != objectID {
			continue
		}
		rec, ok := h.read(ext)
		if !ok {
			break
		}
		props := map[string]any{"hs_object_id": id}
		for p := range strings.SplitSeq(properties, ",") {
			if p == "" {
				continue
			}
			if v, ok := rec[p]; ok {
				props[p] = v
			} else if p == h.idProperty {
				props[p] = ext
			} else {
				props[p] = nil
			}
		}
		return http.StatusOK, map[string]any{"id": id, "properties": props, "archived": false}
	}
	return http.StatusNotFound, map[string]any{"status": "error", "message": "Object not found.  objectId are usually numeric.",
		"category": "OBJECT_NOT_FOUND"}
}

// Edit changes a property of the contact with externalID as a user of the
// shop's HubSpot does in its UI (not counted as a request), and returns
// the contact.propertyChange event HubSpot sends for it. ok is false when
// HubSpot has no such contact.
func (h *HubSpot) Edit(externalID, property, value string, at time.Time) (HubSpotEvent, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec, ok := h.records[externalID]
	if !ok {
		return HubSpotEvent{}, false
	}
	rec[property] = value
	id, _ := strconv.ParseInt(h.ids[externalID], 10, 64)
	h.events++
	return HubSpotEvent{EventID: 1000 + h.events, SubscriptionID: 4401, PortalID: HubSpotPortalID, AppID: 1160452,
		OccurredAt: at.UnixMilli(), SubscriptionType: "contact.propertyChange", AttemptNumber: 0, ObjectID: id,
		ChangeSource: "CRM_UI", PropertyName: property, PropertyValue: value}, true
}

// SignHubSpotV3 is HubSpot's v3 request signature: base64 of
// HMAC-SHA256(client secret, method + URI + body + timestamp), the
// timestamp in milliseconds as sent in X-HubSpot-Request-Timestamp.
func SignHubSpotV3(clientSecret, method, uri string, body []byte, at time.Time) (signature, timestamp string) {
	timestamp = strconv.FormatInt(at.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(method + uri))
	mac.Write(body)
	mac.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), timestamp
}

// PostHubSpotWebhook sends events to url as HubSpot does: a JSON array,
// signed with SignHubSpotV3 at the time at.
func PostHubSpotWebhook(client *http.Client, url, clientSecret string, events []HubSpotEvent, at time.Time) (*http.Response, error) {
	body, err := json.Marshal(events)
	if err != nil {
		return nil, err
	}
	sig, ts := SignHubSpotV3(clientSecret, http.MethodPost, url, body, at)
	return PostSigned(client, url, body, map[string]string{"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": ts})
}

// PostSigned posts a JSON body with the given headers (tests that forge
// or replay deliveries).
func PostSigned(client *http.Client, url string, body []byte, headers map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/)")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return client.Do(req)
}

// SalesforceOrgID is the emulated org's id.
const SalesforceOrgID = "00D5g000004SottoEAA"

// SalesforceChange is one Change Data Capture event as the shop's Apex
// change-event trigger (ADR 0015, "Inbound") posts it: the event's
// ChangeEventHeader as Salesforce fills it, the record's external id
// (which the trigger reads, since an update's event carries only the
// changed fields) and the changed fields' new values.
type SalesforceChange struct {
	Header     SalesforceChangeHeader `json:"ChangeEventHeader"`
	ExternalID string                 `json:"externalId"`
	Fields     map[string]string      `json:"fields"`
}

// SalesforceChangeHeader is CDC's ChangeEventHeader (the fields the trigger
// forwards).
type SalesforceChangeHeader struct {
	EntityName      string   `json:"entityName"`
	RecordIDs       []string `json:"recordIds"`
	ChangeType      string   `json:"changeType"`
	ChangeOrigin    string   `json:"changeOrigin"`
	TransactionKey  string   `json:"transactionKey"`
	SequenceNumber  int      `json:"sequenceNumber"`
	CommitTimestamp int64    `json:"commitTimestamp"`
	CommitUser      string   `json:"commitUser"`
	ChangedFields   []string `json:"changedFields"`
}

// SalesforceDelivery is the body the trigger posts.
type SalesforceDelivery struct {
	OrganizationID string             `json:"organizationId"`
	Changes        []SalesforceChange `json:"changes"`
}

// Edit changes a field of the record with externalID as a user of the org
// does, and returns the change event. ok is false when there is no such
// record.
func (s *Salesforce) Edit(externalID, field, value string, at time.Time) (SalesforceChange, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[externalID]
	if !ok {
		return SalesforceChange{}, false
	}
	rec[field] = value
	s.events++
	return SalesforceChange{Header: SalesforceChangeHeader{EntityName: s.object, RecordIDs: []string{s.recordID(externalID)},
		ChangeType: "UPDATE", ChangeOrigin: "com/salesforce/api/soap/62.0;client=SfdcInternalAPI/",
		TransactionKey: fmt.Sprintf("0002343d-9d90-e395-ed20-cf416ba6%04d", s.events), SequenceNumber: 1,
		CommitTimestamp: at.UnixMilli(), CommitUser: "0055g00000ABCDEAA0", ChangedFields: []string{field}},
		ExternalID: externalID, Fields: map[string]string{field: value}}, true
}

// SalesforceSignatureHeader carries the trigger's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
const SalesforceSignatureHeader = "X-Sotto-Signature"

// SignSalesforce signs body as the trigger does.
func SignSalesforce(secret string, body []byte, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// PostSalesforceWebhook posts changes of org to url, signed at the time at.
func PostSalesforceWebhook(client *http.Client, url, secret, org string, changes []SalesforceChange, at time.Time) (*http.Response, error) {
	body, err := json.Marshal(SalesforceDelivery{OrganizationID: org, Changes: changes})
	if err != nil {
		return nil, err
	}
	return PostSigned(client, url, body, map[string]string{SalesforceSignatureHeader: SignSalesforce(secret, body, at)})
}
