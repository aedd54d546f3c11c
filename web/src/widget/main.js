// The chat widget (issue 14, ADR 0016): a shop's page frames /widget/ with
// embed.js. The visitor chats anonymously (a visitor session, ADR 0014),
// or as the signed-in customer when the gateway's refresh cookie reaches
// this page (first-party only). Messages go over REST, sealed end to end to
// the conversation service (transport.js); the reply comes back sealed in
// the POST's answer and is opened here. The conversation's Server-Sent
// Events (not sealed, so in placeholder view) bring the stored copies and
// what others write. Everything a person wrote reaches the DOM as text.
import { ApiError, events, post, query, request } from '../lib/api.js';
import { $, append, h, replace, showError } from '../lib/dom.js';
import { accessToken, claims, clearSession, refreshSession, setSession } from '../lib/session.js';
import { hasPlaceholder, learn, render } from './placeholders.js';
import { stepUpPanel } from './stepup.js';
import { strings } from './strings.js';
import { SEAL_UNAVAILABLE, forget, incoming, keyRefused, outgoing, sealing, streamView } from './transport.js';

const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NOTICE = /^[a-z][a-z0-9_-]{1,63}$/;
const LANG = /^[a-z]{2}([-_][A-Za-z]{2})?$/;

const params = new URLSearchParams(location.search);
// Exactly one shop, as the gateway reads it for frame-ancestors (web/origins.go).
const tenant = params.getAll('tenant').length === 1 && TENANT.test(params.get('tenant')) ? params.get('tenant') : '';
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
  shown: new Map(), // message id → {author, text, action} its <li> shows (placeholders, or opened)
  askedFor: new Map(), // reply id → the question as typed here (re-sent after a step-up)
  opened: new Set(), // ids of replies shown as opened in this page (the stream's copy is not taken over them)
  pending: [], // {typed, li} posted, not yet matched with a stored message
};

// ---- the page -----------------------------------------------------------

const errorBox = $('#error');
const log = h('ol', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': T.messages });
const status = h('p', { class: 'chat-status', role: 'status' });
const who = h('span', { class: 'muted' }, T.guest);
// A shop that turned sealing off (data-seal="off") gets a chat that says so.
const unsealed = sealing ? null : h('p', { class: 'hint chat-unsealed' }, T.notSealed);
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
const stepUpBox = h('div', { class: 'chat-stepup', hidden: true });

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});

append(replace($('#app')),
  h('div', { class: 'actions chat-head' }, who, endButton),
  ...(unsealed ? [unsealed] : []),
  noticeBox, log, stepUpBox, status, form);

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
  replace(who, `${T.guest} · `, signInLink());
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
  if (state.conversationId) forget(state.conversationId);
  clearSession();
  Object.assign(state, { kind: '', conversationId: '', lastEventId: '', ended: false, pending: [] });
  state.known.clear();
  state.typed.clear();
  state.items.clear();
  state.shown.clear();
  state.opened.clear();
  state.askedFor.clear();
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
      state.lastEventId = await events(`/v1/conversations/${id}/events${query({ view: streamView(state.view) })}`, {
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

// show adds a stored message: from the stream (placeholder view while
// sealing) or, with opened set, a reply opened in this page. The two copies
// of one message are one (by id): an opened reply replaces the stream's
// copy, and the stream's copy never replaces an opened reply.
function show(m, opened = false) {
  const id = m.message_id;
  if (!id) return;
  const text = m.text ?? '';
  const action = m.required_action ?? '';
  const have = state.items.get(id);
  if (m.author === 'AUTHOR_CUSTOMER') {
    if (have) {
      // Ours, taken up by id from the POST's answer: the stored copy says
      // which value each placeholder stands for.
      const typed = state.typed.get(id);
      if (typed !== undefined && typed !== text && learn(typed, text, state.known)) refill();
      return;
    }
    // One of ours still showing as typed: adopt it, learning the values.
    const i = state.pending.findIndex((p) => p.typed === text || learn(p.typed, text, state.known));
    if (i >= 0) {
      const [p] = state.pending.splice(i, 1);
      adopt(p, id);
      refill();
      return;
    }
    const li = bubble(m.author);
    li.dataset.id = id;
    fill(li, m.author, text);
    state.items.set(id, li);
    state.shown.set(id, { author: m.author, text });
    append(log, li);
    scrollDown();
    return;
  }
  if (have) {
    if (!opened || state.opened.has(id)) return;
    state.opened.add(id);
    state.shown.set(id, { author: m.author, text, action });
    have.dataset.opened = 'true';
    fill(have, m.author, text, action);
    return;
  }
  const li = bubble(m.author);
  li.dataset.id = id;
  fill(li, m.author, text, action);
  state.items.set(id, li);
  state.shown.set(id, { author: m.author, text, action });
  if (opened) {
    state.opened.add(id);
    li.dataset.opened = 'true';
  }
  append(log, li);
  scrollDown();
}

// adopt makes a bubble showing what the customer typed the stored message
// id: it shows as typed, never as stored. A copy the stream showed before
// (one the typed text did not align with) gives way to it.
function adopt(p, id) {
  p.li.classList.remove('sending');
  p.li.dataset.id = id;
  const other = state.items.get(id);
  if (other && other !== p.li) other.remove();
  state.items.set(id, p.li);
  state.typed.set(id, p.typed);
  state.shown.delete(id);
}

// fill sets a bubble's text (placeholders as the values this page knows, or
// described) and the control for what an assistant's reply asks of the
// customer: the API's required_action, never its words.
function fill(li, author, text, action = '') {
  replace(li.querySelector('.text'), ...render(text, state.known, T.labels));
  li.querySelector('.actions')?.remove();
  if (author !== 'AUTHOR_ASSISTANT') return;
  if (action === 'REQUIRED_ACTION_STEP_UP' && state.kind === 'customer') {
    append(li, h('span', { class: 'actions' },
      h('button', { type: 'button', on: { click: () => openStepUp(state.askedFor.get(li.dataset.id) ?? '') } }, T.confirm)));
  } else if (action === 'REQUIRED_ACTION_SIGN_IN' || action === 'REQUIRED_ACTION_STEP_UP') {
    append(li, h('span', { class: 'actions' }, signInLink(), h('span', { class: 'hint' }, ` ${T.signInWhy}`)));
  }
}

// signInLink opens the privacy centre's sign-in in a new tab: the widget has
// no sign-in form of its own, and in a shop's frame the gateway's
// SameSite=Strict session cookie is not sent, so a sign-in here could not
// last (ADR 0016).
function signInLink() {
  return h('a', { class: 'button', href: '/privacy/', target: '_blank', rel: 'noopener' }, T.signIn);
}

// openStepUp shows the step-up form above the message box; once the session
// is raised the question that was answered with the request is sent again
// (or, when this page did not send it, the customer is asked to).
function openStepUp(question) {
  showError(errorBox, '');
  const close = () => {
    stepUpBox.hidden = true;
    replace(stepUpBox);
  };
  replace(stepUpBox, stepUpPanel(T, () => {
    close();
    status.textContent = T.stepUpDone;
    if (question && !input.value) input.value = question;
    if (question) form.requestSubmit();
    else input.focus();
  }, () => {
    close();
    input.focus();
  }));
  stepUpBox.hidden = false;
  stepUpBox.querySelector('input')?.focus();
}

// refill shows again the bubbles that hold placeholders, after values were
// learnt (the stream's copy of the customer's message may come after the
// reply).
function refill() {
  for (const [id, { author, text, action }] of state.shown) {
    const li = state.items.get(id);
    if (li && hasPlaceholder(text)) fill(li, author, text, action);
  }
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
    let resp;
    for (let attempt = 0; ; attempt++) {
      const body = await outgoing(ctx, typed);
      try {
        resp = await post(`/v1/conversations/${state.conversationId}/messages`, body);
        break;
      } catch (err) {
        // A key the service retired: the refused post stored nothing, so
        // sealing again to the keys fetched anew is safe, once.
        if (attempt === 0 && keyRefused(err)) continue;
        throw err;
      }
    }
    // The stored message (without its text when sealed) is ours.
    const mid = resp?.message?.message_id;
    if (mid && state.pending.includes(pending)) {
      state.pending = state.pending.filter((p) => p !== pending);
      adopt(pending, mid);
    }
    let replies;
    try {
      replies = await incoming(ctx, resp);
    } catch {
      // Sent and stored, but the reply did not open (or came unsealed):
      // it is not shown.
      showError(errorBox, T.replyUnopened);
      return;
    }
    for (const m of replies) {
      if (m.author === 'AUTHOR_ASSISTANT' && m.message_id) state.askedFor.set(m.message_id, typed);
      show(m, sealing && m.author !== 'AUTHOR_CUSTOMER');
    }
  } catch (err) {
    keyRefused(err);
    state.pending = state.pending.filter((p) => p !== pending);
    if (li.isConnected) {
      li.classList.add('failed');
      append(li, h('span', { class: 'hint' }, ` ${T.notSent}`));
    }
    if (!input.value) input.value = typed;
    if (err instanceof ApiError && err.reason === 'STEP_UP_REQUIRED') {
      showStepUp();
    } else if (err?.reason === SEAL_UNAVAILABLE) {
      showError(errorBox, T.cannotSeal);
    } else {
      showError(errorBox, err);
    }
  } finally {
    sendButton.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

function showStepUp() {
  if (state.kind === 'customer') {
    openStepUp('');
    return;
  }
  replace(errorBox, T.stepUp[0], signInLink(), T.stepUp[1]);
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

// A customer who signed in or confirmed it is them in another tab comes
// back with a stronger session: pick it up (first-party only: the cookie
// is not sent in a shop's frame).
window.addEventListener('focus', () => {
  if (state.kind === 'customer' && !framed) refreshSession();
});
