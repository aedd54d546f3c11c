package integratorclient_test

import (
	"context"
	"errors"
	"io"
	"log"

	conversationv1 "github.com/sottohq/sotto/gen/go/sotto/conversation/v1"
	"github.com/sottohq/sotto/pkg/integratorclient"
)

// A messaging platform relays its users' messages to a shop's assistant
// and the replies back: it posts each inbound message on the API channel
// and follows the conversation's stream. The client (identity's
// CreateClient, tenant "shop", scopes conversation.ingest and
// conversation.watch) authenticates at the gateway's token endpoint; the
// edge's address and certificate fingerprint are the gateway's.
func Example() {
	ctx := context.Background()
	creds := &integratorclient.ClientCredentials{
		TokenURL:     "https://sotto.example/v1/oauth/token",
		ClientID:     "cli_…",
		ClientSecret: "…",
		Scopes:       []string{"conversation.ingest", "conversation.watch"},
	}
	// A developer's edge: its self-signed certificate pinned by the
	// fingerprint in the gateway's log; a production edge: nil (system roots).
	tlsConfig, err := integratorclient.PinnedTLS("sha256:…")
	if err != nil {
		log.Fatal(err)
	}
	conn, err := integratorclient.Dial("sotto.example:9443", tlsConfig, creds)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conversations := conversationv1.NewConversationServiceClient(conn)

	// One inbound message from the platform's user; idempotent by its id.
	in, err := conversations.IngestChannelMessage(ctx, &conversationv1.IngestChannelMessageRequest{
		Tenant:           "shop",
		Channel:          conversationv1.ChatChannel_CHAT_CHANNEL_API,
		ChannelUserId:    "platform-user-42",
		ChannelMessageId: "platform-msg-1001",
		Text:             "Where is my order?",
	})
	if err != nil {
		log.Fatal(err)
	}
	// The messages of the conversation from this one on: the user's (in
	// placeholders) and the replies, which the platform shows its user.
	stream, err := conversations.WatchConversation(ctx, &conversationv1.WatchConversationRequest{ConversationId: in.GetConversationId()})
	if err != nil {
		log.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return // the conversation was closed
		}
		if err != nil {
			log.Fatal(err)
		}
		if ev.GetMessage().GetAuthor() != conversationv1.Author_AUTHOR_CUSTOMER {
			log.Printf("reply to platform-user-42: %s", ev.GetMessage().GetText())
		}
	}
}
