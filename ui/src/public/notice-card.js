// One archived notice as the public reads it: what kind (alert, update, cancellation), whether
// it was real, how severe, what it said, when, where, and its page and signed CAP document.
import { h } from '../shared/dom.js';
import { formatTime, language, t } from '../shared/i18n.js';
import { noticeSummary, noticeZoneNames, shortList, statusMark } from '../shared/notice.js';

export function noticeItem(notice, ranks, { headingLevel = 'h3', withPageLink = true } = {}) {
  const summary = noticeSummary(notice, language());
  const notReal = statusMark(summary.status);
  const zones = noticeZoneNames(summary, ranks);
  const relayed = notice.origin === 'imported';
  return h('li', { id: `notice-${notice.id}` },
    h('div', { class: 'notice-head' },
      h('span', { class: `mark ${notice.msg_type}` }, t(`archive.msg.${notice.msg_type}`)),
      notReal ? h('span', { class: 'not-real' }, notReal) : null,
      h('span', { class: `badge sev-${summary.severity}` }, t(`severity.${summary.severity}`)),
      h(headingLevel, {}, summary.headline ?? summary.event ?? ''),
      // A cancellation is the chain's last word: "in force" would read as the danger.
      notice.msg_type === 'Cancel' ? null : h('span', { class: 'meta' }, `(${t(`archive.state.${notice.state}`)})`)),
    summary.headline && summary.event ? h('p', { class: 'meta' }, summary.event) : null,
    summary.description ? h('p', {}, summary.description) : null,
    summary.instruction ? h('p', {}, h('strong', {}, summary.instruction)) : null,
    h('p', { class: 'meta' },
      t('archive.sent', { at: formatTime(notice.sent) }), ' · ',
      t('archive.expires', { at: formatTime(summary.expires) }), ' · ',
      t(relayed ? 'archive.relay' : 'archive.sender', { sender: notice.sender })),
    zones.length ? h('p', { class: 'meta' }, t('citizen.notice_zones', { zones: shortList(zones) })) : null,
    h('p', { class: 'links' },
      withPageLink ? h('a', { href: `/archivio/${encodeURIComponent(notice.id)}` }, t('archive.open')) : null,
      h('a', { href: notice.cap_url, type: 'application/cap+xml' }, t('archive.cap'))));
}
