// One report in the side panel: details, photo and history, and for operators the triage,
// dispatch and escalation forms.
import { api, imageUrl } from '../shared/api.js';
import { dispatchForm, escalateForm } from './actions.js';
import { incidentForm } from './incident.js';
import { field, fill, h, options } from '../shared/dom.js';
import { formatTime, localized, t } from '../shared/i18n.js';
import { STATUS_GLYPHS } from './layers.js';

const NEXT = {
  received: ['acknowledged', 'in_progress', 'resolved', 'rejected'],
  acknowledged: ['in_progress', 'resolved', 'rejected'],
  in_progress: ['resolved', 'rejected'],
  resolved: ['in_progress'],
  rejected: ['acknowledged', 'in_progress'],
};
const REASONS = ['duplicate', 'not_actionable', 'spam', 'out_of_area'];
/** The channels whose reports have a conversation behind them. */
const CHAT_SOURCES = ['telegram', 'whatsapp'];

export class ReportPanel {
  constructor(element, { user, categories, live, onDraft, flash }) {
    Object.assign(this, { element, user, categories, live, onDraft, flash });
    this.mayTriage = ['operator', 'approver'].includes(user.role);
    live.addEventListener('report', (event) => {
      if (event.detail.value.id !== this.reportId) return;
      if (this.typing()) this.markChanged();
      else this.show(this.reportId);
    });
    live.addEventListener('presence', () => this.showPresence());
  }

  /** Whether the operator has started writing in one of the forms. */
  typing() {
    return [...this.element.querySelectorAll('textarea, input[type=text]')].some((field) => field.value.trim());
  }

  /** The report changed under the operator's notes: say so, and keep the notes. */
  markChanged() {
    if (this.element.querySelector('#report-changed')) return;
    const reload = h('button', { type: 'button', onclick: () => this.show(this.reportId) }, t('report.reload'));
    this.element.querySelector('.report-detail')?.prepend(
      h('p', { id: 'report-changed', class: 'changed', role: 'alert' }, t('report.changed_meanwhile'), ' ', reload));
  }

  /** Another view took the panel. */
  forget() {
    this.reportId = null;
    this.live.viewing(null);
    this.revokePhoto();
  }

  revokePhoto() {
    if (this.photoUrl) URL.revokeObjectURL(this.photoUrl);
    this.photoUrl = null;
  }

  /** Opens a report. One already open stays as it is: what the operator typed or chose in
   * its forms is kept, and live changes keep it current. */
  open(id) {
    const shown = this.element.querySelector('.report-detail')?.dataset.reportId;
    if (id === this.reportId && shown === id) return;
    this.show(id);
  }

  async show(id) {
    this.reportId = id;
    this.live.viewing(id);
    const requests = [api(`/api/v1/reports/${id}`), api(`/api/v1/reports/${id}/history`)];
    if (this.mayTriage) requests.push(api('/api/v1/teams'));
    const [report, history, teams] = await Promise.all(requests);
    // A chat report's conversation is the reporter's own words: for those who see reporters.
    const conversation = this.mayTriage && CHAT_SOURCES.includes(report.source)
      ? await api(`/api/v1/reports/${id}/conversation`) : null;
    if (id !== this.reportId) return;
    const category = this.categories.find((c) => c.code === report.category);
    const fresh = this.element.querySelector('.report-detail')?.dataset.reportId !== id;
    const path = `/api/v1/reports/${id}`;
    const act = (to, body, done) => this.act(to, body, done);
    fill(this.element,
      h('article', { class: 'report-detail', dataset: { reportId: id }, 'aria-labelledby': 'report-title' },
        h('button', { type: 'button', class: 'close', 'aria-label': t('console.close'), onclick: () => this.close() }, '×'),
        h('button', { type: 'button', class: 'print', id: 'print-report', onclick: () => window.print() }, t('console.print')),
        h('h2', { id: 'report-title', tabindex: -1 }, localized(category?.name, report.category)),
        h('p', {},
          h('span', { class: `badge status-${report.status}`, id: 'report-status' },
            `${STATUS_GLYPHS[report.status]} ${t(`report.${report.status}`)}`),
          report.overdue ? h('span', { class: 'badge overdue' }, t('queue.overdue')) : null),
        h('p', { class: 'presence', id: 'report-presence', role: 'status' }),
        h('p', { class: 'report-text' }, report.text || '—'),
        facts(report),
        report.has_photo ? this.photo(report) : null,
        conversation ? h('h3', {}, t('report.conversation')) : null,
        conversation ? conversationList(conversation.messages) : null,
        h('h3', {}, t('report.history')),
        historyList(history.history),
        this.mayTriage ? this.triageForm(report) : null,
        this.mayTriage ? dispatchForm(path, teams.teams, act) : null,
        this.mayTriage ? incidentForm(report, this.live, act) : null,
        this.mayTriage ? escalateForm(path, { act, flash: this.flash, onDraft: this.onDraft }) : null,
        this.mayTriage ? this.publicationForm(report) : null));
    this.showPresence();
    if (!fresh) return;
    this.element.scrollTop = 0;
    // Keyboard and screen-reader users land in the report they opened, not back on the page.
    this.element.querySelector('#report-title').focus({ preventScroll: true });
  }

  /** Says who else has this report open, so two people don't triage it at once. */
  showPresence() {
    const line = this.element.querySelector('#report-presence');
    if (!line) return;
    const others = this.live.othersViewing(this.reportId, this.user.name);
    line.hidden = !others.length;
    line.textContent = others.length ? t('report.also_open', { names: others.join(', ') }) : '';
  }

  close() {
    this.forget();
    fill(this.element, h('p', { class: 'hint' }, t('console.pick_report')));
  }

  photo(report) {
    const image = h('img', { class: 'photo', alt: t('report.photo_alt') });
    this.revokePhoto();
    imageUrl(`/api/v1/reports/${report.id}/photo`).then((url) => {
      this.photoUrl = url;
      image.src = url;
    }, () => image.remove());
    return image;
  }

  triageForm(report) {
    const status = options(h('select', { id: 'triage-status' }),
      NEXT[report.status].map((s) => [s, t(`report.${s}`)]), t('report.keep_status'));
    const reason = options(h('select', { id: 'triage-reason' }), REASONS.map((r) => [r, t(`reason.${r}`)]), '—');
    const reasonField = field(t('report.reason'), reason);
    reasonField.hidden = true;
    status.addEventListener('change', () => (reasonField.hidden = status.value !== 'rejected'));
    const publicNote = h('textarea', { id: 'triage-public-note', rows: 2, maxlength: 1000 });
    const internalNote = h('textarea', { id: 'triage-internal-note', rows: 2, maxlength: 1000 });
    return h('form', { class: 'action-form', id: 'triage-form', onsubmit: (event) => {
      event.preventDefault();
      this.act(`/api/v1/reports/${report.id}/status`, {
        version: report.version,
        status: status.value || undefined,
        reason: status.value === 'rejected' ? reason.value || undefined : undefined,
        public_note: publicNote.value.trim() || undefined,
        internal_note: internalNote.value.trim() || undefined,
      }, t('report.updated'));
    } },
    h('h3', {}, t('report.triage')),
    field(t('report.new_status'), status),
    reasonField,
    field(t('report.public_note'), publicNote, t('report.public_note_hint')),
    field(t('report.internal_note'), internalNote, t('report.internal_note_hint')),
    h('button', { type: 'submit', class: 'primary' }, t('report.apply')));
  }

  /** Publishing a report's text is a deliberate act with an end date, confirmed first. */
  publicationForm(report) {
    const path = `/api/v1/reports/${report.id}/publication`;
    if (report.public_until) {
      return h('form', { class: 'action-form', id: 'publication-form', onsubmit: (event) => {
        event.preventDefault();
        this.act(path, { version: report.version, public: false }, t('report.unpublished'));
      } },
      h('h3', {}, t('report.publication')),
      h('p', {}, `${t('report.public_until')} ${formatTime(report.public_until)}`),
      h('button', { type: 'submit' }, t('report.unpublish')));
    }
    const week = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const until = h('input', { id: 'publication-until', type: 'date', required: true, value: week });
    return h('form', { class: 'action-form', id: 'publication-form', onsubmit: (event) => {
      event.preventDefault();
      if (!window.confirm(t('report.publish_confirm'))) return;
      const end = new Date(`${until.value}T23:59:59`).toISOString();
      this.act(path, { version: report.version, public: true, until: end }, t('report.published'));
    } },
    h('h3', {}, t('report.publication')),
    h('p', { class: 'hint' }, t('report.not_public')),
    field(t('report.publish_until'), until),
    h('button', { type: 'submit' }, t('report.publish')));
  }

  async act(path, body, done) {
    try {
      const result = await api(path, { method: 'POST', body });
      this.flash(done, 'ok');
      // The notes went out with the change: show the report as it now stands, forms empty.
      if (this.reportId) this.show(this.reportId);
      return result;
    } catch (err) {
      this.flash(err.message, 'error');
      return null;
    }
  }
}

function facts(report) {
  const row = (label, value) => (value ? [h('dt', {}, label), h('dd', {}, value)] : null);
  const contact = report.contact
    ? [report.contact.name, report.contact.phone, report.contact.email].filter(Boolean).join(' · ')
    : null;
  return h('dl', { class: 'facts' },
    row(t('report.received_at'), formatTime(report.received_at)),
    row(t('report.zones'), report.zones.map((z) => z.name).join(', ') || t('queue.outside')),
    row(t('report.position'), `${report.location.lat.toFixed(5)}, ${report.location.lon.toFixed(5)}`),
    row(t('report.channel'), report.source),
    row(t('report.acknowledge_due'), formatTime(report.acknowledge_due_at)),
    row(t('report.resolve_due'), formatTime(report.resolve_due_at)),
    row(t('report.contact'), contact),
    row(t('report.reason'), report.rejection_reason ? t(`reason.${report.rejection_reason}`) : null));
}

/** The chat messages in (the citizen) and out (the office) that made the report. */
function conversationList(messages) {
  return h('ol', { class: 'history conversation', id: 'report-conversation' }, messages.map((message) =>
    h('li', { class: `chat-${message.direction}` },
      h('strong', {}, t(`report.chat_${message.direction}`)),
      ` · ${formatTime(message.at)}`,
      h('p', { class: 'note' }, message.text))));
}

function historyList(entries) {
  if (!entries.length) return h('p', { class: 'hint' }, t('report.no_history'));
  return h('ol', { class: 'history' }, entries.map((entry) =>
    h('li', {},
      h('strong', {}, entry.status ? t(`report.${entry.status}`) : t(`history.${entry.kind}`)),
      ` · ${entry.actor} · ${formatTime(entry.at)}`,
      entry.public_note ? h('p', { class: 'note public' }, `${t('report.public_note')}: ${entry.public_note}`) : null,
      entry.internal_note ? h('p', { class: 'note internal' }, `${t('report.internal_note')}: ${entry.internal_note}`) : null)));
}
