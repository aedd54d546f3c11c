// The support agent's inbox: conversations handed off to a person, taken
// over one at a time. The agent reads the placeholder transcript (the
// conversation service never gives staff the re-identified view) and may
// ask for one value under a purpose; the token vault's policy decides
// whether it comes back in full, masked or not at all, and a refusal's
// reason is shown as the service gave it.
import { ApiError, events, get, post, query } from '../lib/api.js';
import { $, field, h, replace } from '../lib/dom.js';
import { claims } from '../lib/session.js';
import { button, enumLabel, form, href, navigate, section, show, status, time, value } from './ui.js';

// The purposes an agent states for a value (services/tokenvault/policy.yaml
// names which reveal what); the service refuses any other.
const purposes = [
  ['order_support', 'Order support'],
  ['delivery', 'Delivery'],
];

const placeholderRE = /\[[A-Z_]{2,16}_[0-9]{1,5}\]/g;

export async function inboxPage(id) {
  if (id) return conversationPage(id);
  stopFollowing();
  const r = await get(`/v1/conversations${query({ state: 'STATE_WAITING_ON_AGENT', page_size: 100 })}`);
  const me = claims().sub;
  const convs = r.conversations ?? [];
  const mine = convs.filter((c) => c.agent_subject === me);
  const waiting = convs.filter((c) => !c.agent_subject);
  show(
    'Inbox',
    section('Your conversations', mine.length ? list(mine, false) : h('p', { class: 'muted' }, 'You have taken no conversation.')),
    section('Waiting for a person', waiting.length ? list(waiting, true) : h('p', { class: 'muted' }, 'No conversation is waiting.')),
    h('div', { class: 'actions' }, button('Refresh', () => inboxPage(), { cls: 'secondary' })),
  );
}

function list(convs, canTake) {
  return h('ul', { class: 'rows conversations' }, convs.map((c) => h('li', { class: 'row conversation', 'data-id': c.conversation_id },
    h('div', {},
      h('a', { href: href('inbox', c.conversation_id), 'data-nav': 'inbox', 'data-arg': c.conversation_id }, c.conversation_id),
      h('p', { class: 'muted' }, enumLabel(c.channel, 'CHAT_CHANNEL_'), ' · ', enumLabel(c.hand_off_reason, 'HAND_OFF_REASON_'), ' · waiting since ', time(c.update_time))),
    canTake ? button('Take over', () => takeOver(c.conversation_id)) : null)));
}

async function takeOver(id) {
  await post(`/v1/conversations/${encodeURIComponent(id)}:assign`, {});
  status('You have taken the conversation.');
  navigate('inbox', id);
}

// The conversation being followed (its event stream), stopped when the
// agent leaves it.
let following = null;

export function stopFollowing() {
  following?.abort();
  following = null;
}

async function conversationPage(id) {
  stopFollowing();
  const path = `/v1/conversations/${encodeURIComponent(id)}`;
  const [c, m] = await Promise.all([get(path), get(`${path}/messages${query({ page_size: 200 })}`)]);
  const conv = c.conversation ?? {};
  const mine = conv.agent_subject && conv.agent_subject === claims().sub;
  const log = h('ol', { class: 'chat-log transcript', 'aria-label': 'Transcript', 'aria-live': 'polite' });
  const reveal = h('div', { id: 'reveal' });
  const msgs = m.messages ?? [];
  for (const msg of msgs) log.append(message(id, msg, reveal));
  const reply = mine
    ? form(
      { 'aria-label': 'Reply' },
      field('Your reply', { name: 'text', type: 'textarea', required: true, maxlength: 4096, rows: 3 },
        'Placeholders such as [EMAIL_1] are filled in for the customer; what you type is tokenised before it is stored.'),
      'Send',
      async (fm) => {
        const text = value(fm, 'text');
        if (!text) return;
        await post(`${path}/agentReplies`, { text });
        status('Reply sent.');
        await conversationPage(id);
      },
    )
    : h('div', { class: 'actions' }, conv.state === 'STATE_WAITING_ON_AGENT' && !conv.agent_subject ? button('Take over', () => takeOver(id)) : h('p', { class: 'muted' }, 'Another agent has this conversation.'));
  show(
    'Conversation',
    h('p', {}, h('a', { href: href('inbox'), 'data-nav': 'inbox' }, 'Back to the inbox')),
    h('p', { class: 'muted' }, id, ' · ', enumLabel(conv.channel, 'CHAT_CHANNEL_'), ' · ', enumLabel(conv.state, 'STATE_')),
    h('p', {}, 'Values the customer typed are shown as placeholders. Choose one to ask for it: the service decides, by its policy and your purpose, whether you see it, masked or not.'),
    log,
    reveal,
    reply,
    h('div', { class: 'actions' }, button('Refresh', () => conversationPage(id), { cls: 'secondary' })),
  );
  if (conv.state !== 'STATE_CLOSED') follow(id, msgs.at(-1)?.message_id, log, reveal);
}

// follow appends the conversation's new messages as they come (the
// gateway's event stream, placeholder view), reconnecting after a dropped
// stream with a growing pause, until the agent leaves the page.
async function follow(id, lastId, log, reveal) {
  const ctl = new AbortController();
  following = ctl;
  let last = lastId;
  let pause = 1000;
  while (!ctl.signal.aborted) {
    try {
      last = await events(`/v1/conversations/${encodeURIComponent(id)}/events${query({ view: 'MESSAGE_VIEW_PLACEHOLDERS' })}`, {
        lastEventId: last,
        signal: ctl.signal,
        onEvent: (ev) => {
          if (ev.event === 'end') ctl.abort();
          if (ev.event !== 'message') return;
          let msg;
          try {
            msg = JSON.parse(ev.data)?.message;
          } catch {
            return;
          }
          if (!msg?.message_id || log.querySelector(`li[data-id="${CSS.escape(msg.message_id)}"]`)) return;
          log.append(message(id, msg, reveal));
          log.lastElementChild.scrollIntoView({ block: 'nearest' });
        },
      });
      pause = 1000;
    } catch (err) {
      if (ctl.signal.aborted || (err instanceof ApiError && [401, 403, 404].includes(err.status))) return;
    }
    if (ctl.signal.aborted) return;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 30000);
  }
}

function message(id, msg, revealBox) {
  const who = enumLabel(msg.author, 'AUTHOR_');
  const parts = [];
  const text = String(msg.text ?? '');
  let last = 0;
  for (const m of text.matchAll(placeholderRE)) {
    parts.push(text.slice(last, m.index));
    const ph = m[0];
    parts.push(h('button', { type: 'button', class: 'placeholder', 'aria-label': `Ask for ${ph}`, on: { click: () => revealForm(id, ph, revealBox) } }, ph));
    last = m.index + ph.length;
  }
  parts.push(text.slice(last));
  const cls = msg.author === 'AUTHOR_CUSTOMER' ? 'customer' : msg.author === 'AUTHOR_AGENT' ? 'agent' : 'assistant';
  return h('li', { class: `msg ${cls}`, 'data-id': msg.message_id }, h('span', { class: 'who' }, who), parts);
}

function revealForm(id, ph, box) {
  const result = h('p', { class: 'revealed', 'aria-live': 'polite' });
  const f = form(
    { 'aria-label': `Reveal ${ph}` },
    field('Purpose', { name: 'purpose', type: 'select', options: purposes }, 'Why you need it. Every request is recorded in the audit log.'),
    `Reveal ${ph}`,
    async (fm) => {
      replace(result, '');
      const r = await post(`/v1/conversations/${encodeURIComponent(id)}:revealValue`, { placeholder: ph, purpose: value(fm, 'purpose') });
      replace(result, h('span', { class: 'muted' }, `${ph}: `), h('code', { class: 'value' }, r.value ?? ''), r.masked ? ' (masked by policy)' : '');
    },
    button('Close', () => replace(box), { cls: 'secondary' }),
  );
  replace(box, h('section', { class: 'panel reveal' }, h('h2', {}, `Ask for ${ph}`), f, result));
  $('select', f)?.focus();
}
