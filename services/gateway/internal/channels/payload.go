package channels

import (
	"encoding/json"
	"errors"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/secrets"
)

// platform is what differs between WhatsApp and Messenger.
type platform struct {
	name    string
	channel conversationv1.ChatChannel
	// idKey names the secret holding the account's id (the business phone
	// number's id, the Page's id) that deliveries must be addressed to.
	idKey string
	// parse reads a verified delivery's text messages addressed to the
	// account id; foreign counts messages for another account. An error
	// means the body is not this platform's delivery.
	parse func(body []byte, accountID string) (msgs []inbound, foreign int, err error)
}

var platforms = map[string]*platform{
	secrets.WhatsApp: {
		name: secrets.WhatsApp, channel: conversationv1.ChatChannel_CHAT_CHANNEL_WHATSAPP,
		idKey: secrets.KeyPhoneNumberID, parse: parseWhatsApp,
	},
	secrets.Messenger: {
		name: secrets.Messenger, channel: conversationv1.ChatChannel_CHAT_CHANNEL_MESSENGER,
		idKey: secrets.KeyPageID, parse: parseMessenger,
	},
}

var errNotThisPlatform = errors.New("not a delivery of this platform")

// whatsAppDelivery is the part of a WhatsApp Cloud API webhook read here
// (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components).
type whatsAppDelivery struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Messages []struct {
					From string `json:"from"`
					ID   string `json:"id"`
					Type string `json:"type"`
					Text struct {
						Body string `json:"body"`
					} `json:"text"`
				} `json:"messages"`
				// statuses (sent, delivered, read) are not read.
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// parseWhatsApp takes the text messages of the "messages" field's changes.
// Other message types (media, reactions, locations) and status updates
// are skipped: the conversation takes text only.
func parseWhatsApp(body []byte, phoneNumberID string) ([]inbound, int, error) {
	var d whatsAppDelivery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, 0, err
	}
	if d.Object != "whatsapp_business_account" {
		return nil, 0, errNotThisPlatform
	}
	var out []inbound
	foreign := 0
	for _, e := range d.Entry {
		for _, c := range e.Changes {
			if c.Field != "messages" {
				continue
			}
			for _, m := range c.Value.Messages {
				if m.Type != "text" || m.Text.Body == "" || m.From == "" || m.ID == "" {
					continue
				}
				if c.Value.Metadata.PhoneNumberID != phoneNumberID {
					foreign++
					continue
				}
				out = append(out, inbound{userID: m.From, messageID: m.ID, text: m.Text.Body})
			}
		}
	}
	return out, foreign, nil
}

// messengerDelivery is the part of a Messenger Platform webhook read here
// (https://developers.facebook.com/docs/messenger-platform/webhooks).
type messengerDelivery struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string `json:"id"`
		Messaging []struct {
			Sender struct {
				ID string `json:"id"`
			} `json:"sender"`
			Recipient struct {
				ID string `json:"id"`
			} `json:"recipient"`
			// Absent for deliveries, reads and postbacks.
			Message *struct {
				MID    string `json:"mid"`
				Text   string `json:"text"`
				IsEcho bool   `json:"is_echo"`
			} `json:"message"`
		} `json:"messaging"`
	} `json:"entry"`
}

// parseMessenger takes the text messages customers sent the Page. Echoes
// (the Page's own messages), messages without text (attachments alone)
// and other events are skipped.
func parseMessenger(body []byte, pageID string) ([]inbound, int, error) {
	var d messengerDelivery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, 0, err
	}
	if d.Object != "page" {
		return nil, 0, errNotThisPlatform
	}
	var out []inbound
	foreign := 0
	for _, e := range d.Entry {
		for _, ev := range e.Messaging {
			m := ev.Message
			if m == nil || m.IsEcho || m.Text == "" || m.MID == "" || ev.Sender.ID == "" {
				continue
			}
			if e.ID != pageID || ev.Recipient.ID != pageID {
				foreign++
				continue
			}
			out = append(out, inbound{userID: ev.Sender.ID, messageID: m.MID, text: m.Text})
		}
	}
	return out, foreign, nil
}
