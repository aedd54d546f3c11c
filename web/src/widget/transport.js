// How the widget's messages travel. Today the text goes to the gateway as
// PostMessage's text (over TLS to the gateway, which hands it to the
// conversation service over mTLS).
//
// SEAL HOOK (issue 14, end-to-end sealing, ADR 0014 "End-to-end sealing"):
// web/src/lib/seal.js (HPKE with @hpke/core, the suite of pkg/sealclient)
// plugs in here, and only here: outgoing() returns PostMessage's body with
// `sealed` (to the service's key from GET /v1/conversation-sealing-keys,
// the conversation id as associated data, a fresh reply key) in place of
// `text`, and incoming() opens `sealed_reply` with that reply key and
// returns the reply as a Message whose text is the opened plaintext. The
// rest of the widget reads messages through these two functions and needs
// no change.

// outgoing is the body of POST /v1/conversations/{id}/messages for text.
// ctx holds the conversation id, the language and the view.
export async function outgoing(ctx, text) {
  return { text, language: ctx.language || undefined, view: ctx.view };
}

// incoming returns the messages of a PostMessage answer (the customer's
// message as stored, and the reply when there is one).
export async function incoming(_ctx, resp) {
  return [resp?.message, resp?.reply].filter(Boolean);
}
