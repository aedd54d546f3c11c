package gateway

import (
	"encoding/json"
	"sync"

	"github.com/sottohq/sotto/gen"
)

// servedOpenAPI is the generated OpenAPI document with the routes the
// gateway serves itself (sseRoute), so that the document clients read
// lists every route, and TestEveryRouteHasAnAccessRule covers them too.
var servedOpenAPI = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(gen.OpenAPI, &doc); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	if paths == nil {
		paths = map[string]any{}
		doc["paths"] = paths
	}
	paths["/v1/conversations/{conversation_id}/events"] = map[string]any{
		"get": map[string]any{
			"summary": "WatchConversationEvents streams a conversation's messages as Server-Sent Events " +
				"(text/event-stream; WatchConversation): one event per message, id the message id, " +
				"event \"message\", data the WatchConversationResponse as JSON; an \"end\" event once a closed " +
				"conversation's messages are sent, an \"error\" event (an ErrorResponse) on a failure after the " +
				"stream began; comment lines as heartbeats. Resume with Last-Event-ID.",
			"operationId": "ConversationService_WatchConversationEvents",
			"produces":    []string{"text/event-stream"},
			"parameters": []any{
				map[string]any{"name": "conversation_id", "in": "path", "required": true, "type": "string", "description": "The conversation."},
				map[string]any{"name": "view", "in": "query", "required": false, "type": "string", "description": "How the messages read.",
					"enum": []string{"MESSAGE_VIEW_UNSPECIFIED", "MESSAGE_VIEW_PLACEHOLDERS", "MESSAGE_VIEW_REIDENTIFIED"}},
				map[string]any{"name": "Last-Event-ID", "in": "header", "required": false, "type": "string",
					"description": "The id of the last message received: only later ones are sent."},
			},
			"responses": map[string]any{
				"200": map[string]any{"description": "The event stream (text/event-stream).", "schema": map[string]any{"type": "string"}},
				"default": map[string]any{
					"description": "An error: the HTTP status says which; the body is the same on every route.",
					"schema":      map[string]any{"$ref": "#/definitions/v1ErrorResponse"},
				},
			},
			"tags": []string{"ConversationService"},
		},
	}
	return json.Marshal(doc)
})
