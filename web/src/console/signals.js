// Suspicious-activity signals the conversation service raised (velocity,
// card testing, account takeover, order enumeration, prompt injection):
// open ones first, each cleared by a person once looked at.
import { get, post, query } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { button, enumLabel, href, section, show, status, time } from './ui.js';

export async function signalsPage() {
  const r = await get(`/v1/conversation-signals${query({ page_size: 100 })}`);
  const all = r.signals ?? [];
  const open = all.filter((s) => !s.clear_time);
  const cleared = all.filter((s) => s.clear_time);
  show(
    'Signals',
    h('p', {}, 'Signs of abuse the service noticed and the action it took. Clear a signal once you have looked at it; its action stops.'),
    section('Open', open.length ? rows(open, true) : h('p', { class: 'muted' }, 'No open signal.')),
    cleared.length ? section('Cleared', rows(cleared, false)) : null,
    h('div', { class: 'actions' }, button('Refresh', () => signalsPage(), { cls: 'secondary' })),
  );
}

function rows(list, canClear) {
  return h('ul', { class: 'rows signals' }, list.map((s) => h('li', { class: 'row signal', 'data-id': s.signal_id },
    h('div', {},
      h('h3', {}, enumLabel(s.kind, 'SIGNAL_KIND_')),
      h('p', {}, `${enumLabel(s.action, 'SIGNAL_ACTION_')} · ${enumLabel(s.scope, 'SIGNAL_SCOPE_')} · seen ${s.count ?? 0} time(s) · since `, time(s.create_time),
        s.clear_time ? [' · cleared ', time(s.clear_time)] : [' · until ', time(s.expire_time)]),
      s.conversation_id ? h('p', {}, h('a', { href: href('inbox', s.conversation_id), 'data-nav': 'inbox', 'data-arg': s.conversation_id }, s.conversation_id)) : null),
    canClear ? button('Clear', async () => {
      await post(`/v1/conversation-signals/${encodeURIComponent(s.signal_id)}:clear`, {});
      status('Signal cleared.');
      await signalsPage();
    }) : null)));
}
