package storage

import "context"

// ChannelPseudonyms returns, sorted and without repeats, the pseudonymous
// subjects that messaging-platform users linked to a customer's account
// had as strangers: each identity's previous_subject (recorded at the
// link), and the subjects of its conversations that are not the
// account's (the stranger's chats; also for links made before
// previous_subject was recorded). The token vault holds what those users
// sent before linking, and their platform ids, under these subjects. None
// when the channels' tables do not exist.
func (s *Store) ChannelPseudonyms(ctx context.Context, q Q, tenant, subject string) ([]string, error) {
	if ok, err := s.tableExists(ctx, q, "channel_identities"); err != nil || !ok {
		return nil, err
	}
	return strings1(ctx, q, `SELECT previous_subject FROM channel_identities
WHERE tenant = $1 AND subject = $2 AND linked = 1 AND previous_subject IS NOT NULL AND previous_subject <> $2
UNION
SELECT c.customer_subject FROM channel_conversations cc
JOIN channel_identities ci ON ci.identity_id = cc.identity_id
JOIN conversations c ON c.conversation_id = cc.conversation_id
WHERE ci.tenant = $1 AND ci.subject = $2 AND ci.linked = 1 AND c.tenant = $1 AND c.customer_subject <> $2
ORDER BY 1`, tenant, subject)
}
