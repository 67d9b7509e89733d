// The notices view: the list by state, and beside the map the review or the drafting form.
import { api } from '../shared/api.js';
import { fill, h, options } from '../shared/dom.js';
import { formatTime, language, t, tCount } from '../shared/i18n.js';
import { noticeSummary, statusMark } from '../shared/notice.js';
import { NoticeAreas } from '../shared/notice-areas.js';
import { noticeForm } from './notice-form.js';
import { noticeReview } from './notice-review.js';

const FILTERS = { review: 'draft', fast: 'draft&review=fast', published: 'published', all: '' };

export class NoticesView {
  constructor({ user, live, zoneMap, detail, flash }) {
    Object.assign(this, { user, live, zoneMap, detail, flash });
    this.filter = user.role === 'approver' ? 'review' : 'all';
    this.list = h('ol', { id: 'notice-list', class: 'queue' });
    this.sources = h('section', { id: 'cap-sources', 'aria-label': t('sources.title') });
    const filter = options(h('select', { id: 'notice-filter', onchange: (e) => { this.filter = e.target.value; this.load(); } }),
      Object.keys(FILTERS).map((key) => [key, t(`notices.filter_${key}`)]));
    filter.value = this.filter;
    const mayDraft = ['operator', 'approver'].includes(user.role);
    this.element = h('section', { class: 'panel-body', 'aria-label': t('nav.notices') },
      mayDraft ? h('button', { type: 'button', id: 'new-notice', class: 'primary wide', onclick: () => this.edit(null) }, t('notices.new')) : null,
      h('div', { class: 'field' }, h('label', { for: filter.id }, t('notices.show')), filter),
      this.list,
      this.sources);
    // The list is asked for again only while someone looks at it.
    live.addEventListener('notice', () => this.element.isConnected && this.load());
  }

  async load() {
    const state = FILTERS[this.filter];
    const page = await api(`/api/v1/notices${state ? `?state=${state}` : ''}`);
    fill(this.list, page.notices.length ? page.notices.map((notice) => this.row(notice)) : h('li', { class: 'empty' }, t('notices.none')));
    this.loadSources();
  }

  /** Other authorities' feeds the hub polls, and whether each answers. */
  async loadSources() {
    const { sources } = await api('/api/v1/cap-sources');
    fill(this.sources, sources.length ? [
      h('h3', {}, t('sources.title')),
      h('ul', { class: 'sources' }, sources.map((source) => h('li', { dataset: { source: source.name } },
        h('strong', {}, source.name), ' ',
        h('span', { class: `badge source-${source.state}` }, t(`sources.state_${source.state}`)),
        h('small', {}, ` ${tCount('sources.taken', source.taken)}`,
          source.last_polled_at ? ` · ${t('sources.polled', { at: formatTime(source.last_polled_at) })}` : ''),
        source.state === 'retrying' && source.last_error ? h('p', { class: 'error' }, source.last_error) : null))),
    ] : []);
  }

  row(notice) {
    const summary = noticeSummary(notice, language());
    const mark = statusMark(summary.status);
    return h('li', {}, h('button', {
      type: 'button',
      class: `queue-row notice-row ${mark ? 'not-real' : 'real'}`,
      dataset: { noticeId: notice.id, status: summary.status },
      onclick: () => this.open(notice.id),
    },
    mark ? h('span', { class: 'badge not-real' }, mark) : null,
    notice.msg_type === 'Cancel'
      ? h('span', { class: 'badge cancellation' }, t('msg_type.Cancel'))
      : (mark ? null : h('span', { class: 'badge real' }, t('status.Actual'))),
    h('span', { class: `badge state-${notice.state}` }, t(`state.${notice.state}`)),
    notice.fast_review && notice.state === 'draft' ? h('span', { class: 'badge fast-review' }, t('notice.fast_review_badge')) : null,
    h('strong', {}, summary.headline || summary.event),
    h('small', {}, `${t(`msg_type.${notice.msg_type}`)} · ${t(`severity.${summary.severity}`)} · ${formatTime(notice.updated_at)}`)));
  }

  async open(id) {
    this.closeForm();
    const opening = this.opening;
    const notice = await api(`/api/v1/notices/${id}`);
    if (opening !== this.opening) return;
    fill(this.detail, noticeReview(notice, this.user, {
      onEdit: (n) => this.edit(n),
      onChanged: (changed) => { this.load(); this.open(changed.id); },
      flash: this.flash,
    }));
    const preview = new NoticeAreas(this.zoneMap, 'preview');
    this.preview = preview;
    await preview.show([noticeSummary(notice, language())]);
    const bounds = preview.bounds();
    if (preview === this.preview && bounds.isValid()) this.zoneMap.map.fitBounds(bounds, { maxZoom: 14, padding: [30, 30] });
  }

  edit(notice) {
    this.closeForm();
    this.form = noticeForm({
      zoneMap: this.zoneMap, notice, flash: this.flash,
      onSaved: (saved) => { this.load(); this.open(saved.id); },
    });
    fill(this.detail, this.form.element);
  }

  /** Leaves the form or review: the area drawn for it leaves the map too. */
  closeForm() {
    this.opening = (this.opening ?? 0) + 1;
    this.form?.destroy();
    this.form = null;
    this.preview?.remove();
    this.preview = null;
  }
}
