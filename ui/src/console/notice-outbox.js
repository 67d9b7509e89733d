// Where a published notice stands beyond the live connections: the outbox's deliveries per
// channel and state, and a retry of the failed ones for the staff who may.
import { api } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';

const STATES = ['delivered', 'queued', 'retrying', 'failed', 'dead', 'superseded', 'expired'];

/** The outbox block of `notice`, or nothing when it went to no outbox destination. */
export function noticeOutbox(notice, user, { onChanged, flash }) {
  const channels = Object.entries(notice.outbox ?? {});
  if (!channels.length) return null;
  const failed = channels.reduce((sum, [, states]) => sum + (states.failed ?? 0) + (states.dead ?? 0), 0);
  const mayRetry = ['operator', 'approver'].includes(user.role);
  return h('section', { class: 'notice-outbox', 'aria-labelledby': 'outbox-title' },
    h('h3', { id: 'outbox-title' }, t('outbox.title')),
    h('ul', {}, channels.map(([channel, states]) => h('li', { dataset: { channel } },
      h('strong', {}, `${t(`outbox.channel.${channel}`)}: `),
      STATES.filter((state) => states[state]).map((state) => h('span', { class: `outbox-state state-${state}` },
        t(`outbox.state.${state}`, { count: states[state] }))).flatMap((span, index) => (index ? [', ', span] : [span]))))),
    failed && mayRetry
      ? h('button', { type: 'button', id: 'retry-deliveries', onclick: async () => {
        try {
          const result = await api(`/api/v1/notices/${notice.id}/deliveries/retry`, { method: 'POST' });
          flash(t('outbox.retried', { count: result.requeued }), 'ok');
          onChanged({ ...notice, outbox: result.outbox });
        } catch (err) {
          flash(err.message, 'error');
        }
      } }, t('outbox.retry', { count: failed }))
      : null);
}
