// The chat widget (issue 14, ADR 0016): a shop's page frames /widget/ with
// embed.js. The visitor chats anonymously (a visitor session, ADR 0014),
// or as the signed-in customer when the gateway's refresh cookie reaches
// this page (first-party only). Messages go over REST, replies come back as
// Server-Sent Events. Everything a person wrote reaches the DOM as text.
import { ApiError, events, post, query, request } from '../lib/api.js';
import { $, append, h, replace, showError } from '../lib/dom.js';
import { accessToken, claims, clearSession, refreshSession, setSession } from '../lib/session.js';
import { cue } from './cues.js';
import { learn, render } from './placeholders.js';
import { strings } from './strings.js';
import { incoming, outgoing } from './transport.js';

const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NOTICE = /^[a-z][a-z0-9_-]{1,63}$/;
const LANG = /^[a-z]{2}([-_][A-Za-z]{2})?$/;

const params = new URLSearchParams(location.search);
const tenant = TENANT.test(params.get('tenant') ?? '') ? params.get('tenant') : '';
const noticeId = NOTICE.test(params.get('notice') ?? '') ? params.get('notice') : '';
const language = (() => {
  const l = params.get('lang') || navigator.language || '';
  return LANG.test(l) ? l : LANG.test(l.slice(0, 2)) ? l.slice(0, 2) : '';
})();

// In a shop's page (the only place that may frame the widget).
const framed = window.self !== window.top;

const [T, uiLanguage] = strings(language);
document.documentElement.lang = uiLanguage;

const state = {
  kind: '', // 'visitor' or 'customer' once a session exists
  conversationId: '',
  view: 'MESSAGE_VIEW_PLACEHOLDERS',
  ended: false,
  accepted: !noticeId,
  lastEventId: '',
  stream: null, // AbortController of the event stream
  known: new Map(), // placeholder → the value this visitor typed (memory only)
  typed: new Map(), // message id → the text as typed here
  items: new Map(), // message id → its <li>
  pending: [], // {typed, li} posted, not yet matched with a stored message
};

// ---- the page -----------------------------------------------------------

const errorBox = $('#error');
const log = h('ol', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': T.messages });
const status = h('p', { class: 'chat-status', role: 'status' });
const who = h('span', { class: 'muted' }, T.guest);
const endButton = h('button', { type: 'button', class: 'secondary', hidden: true, on: { click: endChat } }, T.end);
const input = h('textarea', {
  id: 'message', name: 'text', rows: 2, required: true, maxlength: 4000, autocomplete: 'off',
  'aria-describedby': 'message-hint', enterkeyhint: 'send',
});
const sendButton = h('button', { type: 'submit' }, T.send);
const form = h('form', { class: 'chat-form', novalidate: true, on: { submit: onSubmit } },
  h('div', { class: 'field' },
    h('label', { for: 'message' }, T.yourMessage),
    h('p', { class: 'hint', id: 'message-hint' }, T.hint),
    input),
  sendButton);
const noticeBox = h('section', { class: 'panel notice', 'aria-labelledby': 'notice-title', hidden: true });

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});

append(replace($('#app')),
  h('div', { class: 'actions chat-head' }, who, endButton),
  noticeBox, log, status, form);

if (!tenant) {
  showError(errorBox, T.notSetUp);
  form.hidden = true;
} else if (noticeId) {
  showNotice();
}

// ---- the consent notice ---------------------------------------------------

// showNotice shows the shop's notice (consent's public GetNoticeVersion) and
// keeps the form closed until the visitor accepts it. A notice that cannot
// be read keeps the chat closed: the shop said it must be shown first.
async function showNotice() {
  input.disabled = true;
  sendButton.disabled = true;
  noticeBox.hidden = false;
  replace(noticeBox, h('h2', { id: 'notice-title' }, T.beforeYouChat), h('p', {}, T.loadingNotice));
  try {
    const { notice } = await request('GET', `/v1/consent/notices/${encodeURIComponent(noticeId)}`, { token: '' });
    const texts = notice?.texts ?? [];
    const text = texts.find((t) => t.language === language) ?? texts.find((t) => t.language === language.slice(0, 2)) ?? texts.find((t) => t.language === 'en') ?? texts[0];
    if (!text) throw new ApiError(0, 'NOTICE_EMPTY', 'The notice has no text.');
    const accept = h('button', { type: 'button', on: { click: () => acceptNotice(notice) } }, T.accept);
    replace(noticeBox,
      h('h2', { id: 'notice-title' }, T.beforeYouChat),
      h('p', { class: 'notice-text', lang: text.language }, text.text),
      h('p', { class: 'hint' }, T.noticeVersion(notice.notice_id, notice.version)),
      h('div', { class: 'actions' }, accept));
    accept.focus();
  } catch (err) {
    replace(noticeBox, h('h2', { id: 'notice-title' }, T.beforeYouChat),
      h('p', { role: 'alert' }, `${T.noticeFailed} ${err.text ?? err.message}`));
  }
}

function acceptNotice(notice) {
  state.accepted = true;
  state.notice = { notice_id: notice.notice_id, version: notice.version };
  noticeBox.hidden = true;
  input.disabled = false;
  sendButton.disabled = false;
  status.textContent = T.canWrite;
  input.focus();
}

// ---- sessions and the conversation ------------------------------------------

// ensureSession uses the customer's session when the refresh cookie reaches
// this page and is for this shop, else opens an anonymous visitor session.
async function ensureSession() {
  if (accessToken()) return;
  if (state.kind === 'visitor') {
    // A visitor token has no refresh: its chat is over (ADR 0014).
    resetChat(T.expired);
    throw new ApiError(401, 'SESSION_EXPIRED', T.expired);
  }
  // Framed in a shop's page the SameSite=Strict cookie is never sent, so
  // asking would only spend the address's budget on the public
  // authentication routes (which logins share).
  if (!framed && (await refreshSession())) {
    const c = claims();
    if (c.kind === 'customer' && (!c.tenant || c.tenant === tenant)) {
      state.kind = 'customer';
      state.view = 'MESSAGE_VIEW_REIDENTIFIED';
      replace(who, T.signedIn);
      return;
    }
    clearSession();
  }
  const v = await post('/v1/visitor-sessions', { tenant }, { token: '' });
  setSession({ access_token: v.access_token, access_token_expires_at: v.expire_time });
  state.kind = 'visitor';
  state.view = 'MESSAGE_VIEW_PLACEHOLDERS';
  replace(who, `${T.guest} · `, h('a', { href: '/privacy/', target: '_blank', rel: 'noopener' }, T.signIn));
}

async function ensureConversation() {
  if (state.conversationId) return;
  const { conversation } = await post('/v1/conversations', { channel: 'CHAT_CHANNEL_WEB' });
  state.conversationId = conversation.conversation_id;
  state.ended = false;
  endButton.hidden = false;
  follow(state.conversationId);
}

function resetChat(message) {
  state.stream?.abort();
  clearSession();
  Object.assign(state, { kind: '', conversationId: '', lastEventId: '', ended: false, pending: [] });
  state.known.clear();
  state.typed.clear();
  state.items.clear();
  replace(log);
  endButton.hidden = true;
  status.textContent = message;
}

// follow reads the conversation's events until it ends, reconnecting
// with Last-Event-ID after a dropped stream (with a growing pause).
async function follow(id) {
  let pause = 1000;
  while (state.conversationId === id && !state.ended) {
    const ctl = new AbortController();
    state.stream = ctl;
    try {
      state.lastEventId = await events(`/v1/conversations/${id}/events${query({ view: state.view })}`, {
        lastEventId: state.lastEventId,
        signal: ctl.signal,
        onEvent: (ev) => onEvent(id, ev),
      });
      pause = 1000;
    } catch (err) {
      if (ctl.signal.aborted || state.conversationId !== id) return;
      if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
        showError(errorBox, err);
        return;
      }
      status.textContent = T.reconnecting;
    }
    if (state.ended || state.conversationId !== id) return;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 30000);
  }
}

function onEvent(id, ev) {
  if (state.conversationId !== id) return;
  if (ev.event === 'message') {
    let m;
    try {
      m = JSON.parse(ev.data)?.message;
    } catch {
      return;
    }
    if (m) show(m);
    status.textContent = '';
  } else if (ev.event === 'end') {
    state.ended = true;
    form.hidden = true;
    endButton.hidden = true;
    status.textContent = T.ended;
  } else if (ev.event === 'error') {
    status.textContent = T.streamFailed;
  }
}

// ---- messages -------------------------------------------------------------

const AUTHORS = { AUTHOR_CUSTOMER: T.you, AUTHOR_ASSISTANT: T.assistant, AUTHOR_AGENT: T.agent };

function bubble(author, ...content) {
  const cls = author === 'AUTHOR_CUSTOMER' ? 'customer' : author === 'AUTHOR_AGENT' ? 'agent' : 'assistant';
  return h('li', { class: `msg ${cls}` }, h('span', { class: 'who' }, AUTHORS[author] ?? T.shop), h('span', { class: 'text' }, ...content));
}

// show adds a stored message (from the POST answer or the stream, whichever
// comes first; the other is recognised by its id).
function show(m) {
  const id = m.message_id;
  if (!id || state.items.has(id)) return;
  const text = m.text ?? '';
  if (m.author === 'AUTHOR_CUSTOMER') {
    // One of ours still showing as typed: adopt it, learning the values.
    const i = state.pending.findIndex((p) => p.typed === text || learn(p.typed, text, state.known));
    if (i >= 0) {
      const [p] = state.pending.splice(i, 1);
      p.li.classList.remove('sending');
      p.li.dataset.id = id;
      state.items.set(id, p.li);
      state.typed.set(id, p.typed);
      return;
    }
    const li = bubble(m.author, ...render(text, state.known, T.labels));
    li.dataset.id = id;
    state.items.set(id, li);
    append(log, li);
    scrollDown();
    return;
  }
  const li = bubble(m.author, ...render(text, state.known, T.labels));
  li.dataset.id = id;
  const c = m.author === 'AUTHOR_ASSISTANT' ? cue(text) : '';
  if (c === 'step_up') {
    append(li, h('span', { class: 'actions' },
      h('a', { class: 'button', href: '/privacy/step-up', target: '_blank', rel: 'noopener' }, T.confirm)));
  } else if (c === 'login') {
    append(li, h('span', { class: 'actions' },
      h('a', { class: 'button', href: '/privacy/', target: '_blank', rel: 'noopener' }, T.signIn)));
  }
  state.items.set(id, li);
  append(log, li);
  scrollDown();
}

function scrollDown() {
  log.scrollTop = log.scrollHeight;
}

async function onSubmit(e) {
  e.preventDefault();
  showError(errorBox, '');
  const typed = input.value.trim();
  if (!typed) {
    showError(errorBox, T.writeFirst);
    input.focus();
    return;
  }
  if (!state.accepted) {
    showError(errorBox, T.readNoticeFirst);
    return;
  }
  if (new TextEncoder().encode(typed).length > 4096) {
    showError(errorBox, T.tooLong);
    return;
  }
  const li = bubble('AUTHOR_CUSTOMER', typed);
  li.classList.add('sending');
  const pending = { typed, li };
  sendButton.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await ensureSession();
    await ensureConversation();
    append(log, li);
    state.pending.push(pending);
    scrollDown();
    input.value = '';
    const ctx = { conversationId: state.conversationId, language, view: state.view };
    const body = await outgoing(ctx, typed);
    const resp = await post(`/v1/conversations/${state.conversationId}/messages`, body);
    for (const m of await incoming(ctx, resp)) show(m);
  } catch (err) {
    state.pending = state.pending.filter((p) => p !== pending);
    if (li.isConnected) {
      li.classList.add('failed');
      append(li, h('span', { class: 'hint' }, ` ${T.notSent}`));
    }
    if (!input.value) input.value = typed;
    if (err instanceof ApiError && err.reason === 'STEP_UP_REQUIRED') {
      showStepUp();
    } else {
      showError(errorBox, err);
    }
  } finally {
    sendButton.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

function showStepUp() {
  replace(errorBox, T.stepUp[0],
    h('a', { href: '/privacy/step-up', target: '_blank', rel: 'noopener' }, T.confirm),
    T.stepUp[1]);
  errorBox.hidden = false;
}

async function endChat() {
  if (!state.conversationId) return;
  endButton.disabled = true;
  try {
    await post(`/v1/conversations/${state.conversationId}:close`, {});
  } catch (err) {
    showError(errorBox, err);
  } finally {
    endButton.disabled = false;
  }
}

// A customer who confirmed it is them in another tab comes back with a
// stronger session: pick it up.
window.addEventListener('focus', () => {
  if (state.kind === 'customer') refreshSession();
});
