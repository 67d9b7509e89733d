// Taking several new reports in hand at once, with one note to all their reporters: what a
// flood of calls about the same water needs.
import { api } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';

export class BulkAcknowledge {
  constructor(live, { flash }) {
    Object.assign(this, { live, flash });
    this.chosen = new Set();
    this.note = h('input', { id: 'bulk-note', maxlength: 1000 });
    this.button = h('button', { type: 'button', id: 'bulk-acknowledge', class: 'primary', onclick: () => this.acknowledge() },
      t('bulk.acknowledge', { count: 0 }));
    this.element = h('div', { class: 'bulk', id: 'bulk', hidden: true },
      h('label', { for: 'bulk-note' }, t('bulk.note')), this.note, this.button);
  }

  /** A checkbox for a report that may still be taken in hand. */
  checkbox(report, label) {
    if (report.status !== 'received') return null;
    return h('input', {
      type: 'checkbox', class: 'bulk-choice', checked: this.chosen.has(report.id), 'aria-label': label,
      onchange: (event) => this.choose(report.id, event.target.checked),
    });
  }

  choose(id, on) {
    if (on) this.chosen.add(id);
    else this.chosen.delete(id);
    this.element.hidden = !this.chosen.size;
    this.button.textContent = t('bulk.acknowledge', { count: this.chosen.size });
  }

  async acknowledge() {
    const note = this.note.value.trim() || undefined;
    let done = 0;
    const failed = [];
    // One at a time: each keeps its own version check, and one refusal stops none of the rest.
    for (const id of [...this.chosen]) {
      const report = this.live.reports.get(id);
      try {
        await api(`/api/v1/reports/${id}/status`, { method: 'POST', body: { status: 'acknowledged', version: report.version, public_note: note } });
        done += 1;
        this.choose(id, false);
      } catch (err) {
        failed.push(err.message);
      }
    }
    if (!failed.length) this.note.value = '';
    this.flash(failed.length ? t('bulk.partly', { done, failed: failed.length, why: failed[0] }) : t('bulk.done', { done }), failed.length ? 'error' : 'ok');
  }
}
