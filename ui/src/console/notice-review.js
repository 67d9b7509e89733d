// A notice as it will go out: every field in both languages, the zones it covers and what an
// update changes; approval with a confirmation that names a real alert as real.
import { api } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { formatTime, t } from '../shared/i18n.js';
import { coveredSummary } from '../shared/notice.js';
import { noticeOutbox } from './notice-outbox.js';

/** The review panel for `notice`; `actions` get `(notice)` after a change. */
export function noticeReview(notice, user, { onEdit, onChanged, flash }) {
  const content = notice.content;
  const real = content.status === 'Actual';
  const mine = notice.author === user.name || notice.editors.includes(user.name);
  return h('article', { class: `notice-review ${real ? 'real' : 'not-real'}`, dataset: { status: content.status } },
    real
      ? h('p', { class: 'real-banner' }, t('notice.real_banner'))
      : h('p', { class: 'not-real-banner' }, t(`notice.not_real.${content.status}`)),
    notice.msg_type === 'Cancel' ? h('p', { class: 'cancel-banner' }, t('notice.cancel_banner')) : null,
    notice.fast_review ? h('p', { class: 'cancel-banner', id: 'fast-review-banner' }, t('notice.fast_review_banner')) : null,
    h('h2', {}, `${t(`msg_type.${notice.msg_type}`)}: ${firstHeadline(content)}`),
    h('p', {}, h('span', { class: `badge state-${notice.state}` }, t(`state.${notice.state}`)),
      ` ${t('notice.by', { author: notice.author })}${notice.approver ? ` · ${t('notice.approved_by', { approver: notice.approver })}` : ''}`),
    notice.rejection_reason ? h('p', { class: 'error' }, `${t('notice.rejected_because')}: ${notice.rejection_reason}`) : null,
    notice.sender_signature ? senderSignature(notice.sender_signature) : null,
    notice.warnings?.length ? h('details', { class: 'import-warnings', id: 'import-warnings' },
      h('summary', {}, t('notice.import_warnings')), h('ul', {}, notice.warnings.map((said) => h('li', {}, said)))) : null,
    h('dl', { class: 'facts' },
      fact(t('notice.status'), t(`status.${content.status}`)),
      fact(t('notice.category'), content.category.map((c) => t(`category.${c}`)).join(', ')),
      fact(t('notice.urgency'), t(`urgency.${content.urgency}`)),
      fact(t('notice.severity'), t(`severity.${content.severity}`)),
      fact(t('notice.certainty'), t(`certainty.${content.certainty}`)),
      fact(t('notice.expires'), formatTime(content.expires)),
      fact(t('notice.web'), content.web),
      fact(t('notice.contact'), content.contact),
      fact(t('notice.covered_zones'), coveredSummary(notice.covered_zones) || t('area.no_zone_covered')),
      notice.state === 'published' ? fact(t('notice.deliveries'), t('notice.delivered', notice.deliveries)) : null),
    noticeOutbox(notice, user, { onChanged, flash }),
    Object.entries(content.info).map(([lang, info]) => h('section', { class: 'language-block', lang },
      h('h3', {}, languageHeading(lang)),
      h('p', {}, h('strong', {}, info.event)),
      info.headline ? h('p', { class: 'headline' }, info.headline) : null,
      info.description ? h('p', {}, info.description) : null,
      info.instruction ? h('p', { class: 'instruction' }, info.instruction) : null)),
    notice.changes?.length ? changes(notice.changes) : null,
    h('div', { class: 'button-row' }, buttons(notice, user, mine, { onEdit, onChanged, flash })),
    h('p', {}, h('a', { href: notice.cap_url, target: '_blank' }, t('notice.cap_document'))),
    h('button', { type: 'button', class: 'print', id: 'print-notice', onclick: () => window.print() }, t('console.print')));
}

/** "Text in Italian" for the office's own languages; a received tag (`it-IT`, `en-AU`) as such. */
function languageHeading(lang) {
  const key = `notice.text_${lang}`;
  const heading = t(key);
  return heading === key ? lang : heading;
}

/** What the office found of an imported alert's XML signature, for the approver to weigh. */
function senderSignature(check) {
  const text = t(`notice.signature_${check.status}`, { signer: check.signer, reason: check.reason });
  return h('p', { class: check.status === 'valid' ? 'signature-valid' : 'error', id: 'sender-signature',
    role: check.status === 'invalid' ? 'alert' : null }, text);
}

function buttons(notice, user, mine, { onEdit, onChanged, flash }) {
  const may = (role) => role.includes(user.role);
  const act = async (path, body, message, then = onChanged) => {
    try {
      const result = await api(`/api/v1/notices/${notice.id}/${path}`, { method: 'POST', body });
      flash(message, 'ok');
      then(result);
    } catch (err) {
      flash(err.message, 'error');
    }
  };
  const draft = notice.state === 'draft' || notice.state === 'rejected';
  const list = [];
  // Another authority's alert is relayed as its sender wrote it: the hub refuses edits.
  if (draft && notice.origin !== 'imported' && may(['operator', 'approver'])) {
    list.push(h('button', { type: 'button', id: 'edit-notice', onclick: () => onEdit(notice) }, t('notice.edit')));
  }
  if (notice.state === 'draft' && may(['approver'])) {
    if (mine) list.push(h('p', { class: 'hint' }, t('notice.four_eyes')));
    else {
      list.push(h('button', { type: 'button', id: 'approve-notice', class: notice.content.status === 'Actual' ? 'danger' : 'primary',
        onclick: () => confirmApproval(notice, () => act('approve', {
          version: notice.version, confirm_status: notice.content.status, confirm_wide_area: Boolean(notice.wide_area),
        }, t('notice.published'))) },
      t('notice.approve')));
      list.push(h('button', { type: 'button', id: 'reject-notice', onclick: () => {
        const reason = prompt(t('notice.reject_reason'));
        if (reason?.trim()) act('reject', { version: notice.version, reason: reason.trim() }, t('notice.rejected'));
      } }, t('notice.reject')));
    }
  }
  // Only the notice in force can be updated or cancelled: not a cancellation, not one
  // already replaced (superseded or cancelled).
  if (notice.state === 'published' && notice.msg_type !== 'Cancel' && may(['operator', 'approver'])) {
    list.push(h('button', { type: 'button', id: 'update-notice', onclick: () => act('update', undefined, t('notice.update_opened'), onEdit) }, t('notice.update')));
    list.push(h('button', { type: 'button', id: 'cancel-notice', onclick: () => act('cancel', undefined, t('notice.cancel_opened'), onEdit) }, t('notice.cancel')));
  }
  return list;
}

/** A real alert needs a ticked statement and a red button; a test or exercise a plain one. */
/** What makes the area wide, in words an approver checks against the map. */
function wideText(wide) {
  return wide.top_zones.length > 1
    ? t('approve.wide_regions', { count: wide.top_zones.length, names: wide.top_zones.join(', ') })
    : t('approve.wide_zones', { count: wide.finest_zones, limit: wide.limit });
}

function confirmApproval(notice, proceed) {
  const status = notice.content.status;
  const real = status === 'Actual';
  const zones = coveredSummary(notice.covered_zones) || '—';
  const tick = real ? h('input', { type: 'checkbox', id: 'confirm-real', required: true }) : null;
  // A wide area is confirmed apart: the hub refuses it otherwise (confirm_wide_area).
  const wide = notice.wide_area;
  const wideTick = wide ? h('input', { type: 'checkbox', id: 'confirm-wide', required: true }) : null;
  const dialog = h('dialog', { class: `confirm ${real ? 'real' : 'not-real'}`, id: 'approve-dialog', 'aria-labelledby': 'approve-title' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'approve-title' }, real ? t('approve.real_title') : t(`approve.title_${status}`)),
      h('p', {}, real ? t('approve.real_text', { zones }) : t(`approve.text_${status}`, { zones })),
      real ? h('label', { class: 'choice' }, tick, ` ${t('approve.real_tick')}`) : null,
      wide ? h('p', { class: 'wide-area-warning', role: 'alert' }, wideText(wide)) : null,
      wide ? h('label', { class: 'choice' }, wideTick, ` ${t('approve.wide_tick')}`) : null,
      h('div', { class: 'button-row' },
        h('button', { value: 'cancel', type: 'submit', formnovalidate: true }, t('approve.back')),
        h('button', { value: 'go', type: 'submit', id: 'confirm-approve', class: real ? 'danger' : 'primary' },
          real ? t('approve.real_button') : t(`approve.button_${status}`)))));
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (dialog.returnValue === 'go') proceed();
  });
  dialog.querySelector('form').addEventListener('submit', (event) => {
    const unticked = [tick, wideTick].find((box) => box && !box.checked);
    if (event.submitter?.value === 'go' && unticked) {
      event.preventDefault();
      unticked.focus();
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}

function changes(list) {
  return h('section', { class: 'changes' },
    h('h3', {}, t('notice.changes')),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('notice.field')), h('th', {}, t('notice.before')), h('th', {}, t('notice.after')))),
      h('tbody', {}, list.map((change) => h('tr', {},
        h('td', {}, change.field), h('td', {}, show(change.before)), h('td', {}, show(change.after)))))));
}

function show(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function fact(label, value) {
  return value ? [h('dt', {}, label), h('dd', {}, value)] : null;
}

function firstHeadline(content) {
  const info = content.info.it ?? content.info.en ?? Object.values(content.info)[0];
  return info.headline || info.event;
}
