// The notice drafting form: every CAP field, text in Italian and English, and the area drawn
// on the map. A Test or Exercise notice is marked as such across the whole form.
import { api } from '../shared/api.js';
import { field, h, options } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { AreaEditor } from './notice-area.js';

export const CAP = {
  status: ['Actual', 'Exercise', 'Test'],
  category: ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'],
  urgency: ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'],
  severity: ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'],
  certainty: ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'],
};
const LANGUAGES = ['it', 'en'];
const TEXT_FIELDS = [['event', 'input', 200], ['headline', 'input', 160], ['description', 'textarea', 8000], ['instruction', 'textarea', 4000]];

/** Builds the form for a new draft (`notice` absent) or an existing one; `onSaved(notice)`. */
export function noticeForm({ zoneMap, notice, onSaved, flash }) {
  const content = notice?.content ?? {};
  const area = new AreaEditor(zoneMap, content.area);
  const controls = {};
  const select = (name, placeholder) => {
    controls[name] = options(h('select', { id: `notice-${name}`, required: true }),
      CAP[name].map((v) => [v, t(`${name}.${v}`)]), placeholder);
    controls[name].value = content[name] ?? '';
    return field(t(`notice.${name}`), controls[name]);
  };
  const form = h('form', { id: 'notice-form', class: 'notice-form', novalidate: true });
  const banner = h('p', { class: 'not-real-banner', hidden: true });
  const markStatus = () => {
    const status = controls.status.value;
    form.dataset.status = status;
    banner.hidden = !status || status === 'Actual';
    banner.textContent = banner.hidden ? '' : t(`notice.not_real.${status}`);
  };
  form.append(
    banner,
    h('h2', {}, notice ? t('notice.edit_title', { type: t(`msg_type.${notice.msg_type}`) }) : t('notice.new_title')),
    select('status', t('notice.choose_status')),
    h('fieldset', { class: 'categories' }, h('legend', {}, t('notice.category')),
      CAP.category.map((c) => h('label', { class: 'choice' },
        h('input', { type: 'checkbox', name: 'cap-category', value: c, checked: (content.category ?? []).includes(c) }),
        ` ${t(`category.${c}`)}`))),
    h('div', { class: 'three' }, select('urgency', '—'), select('severity', '—'), select('certainty', '—')),
    field(t('notice.expires'), controls.expires = h('input', { id: 'notice-expires', type: 'datetime-local', required: true,
      value: toLocalInput(content.expires) })),
    field(t('notice.web'), controls.web = h('input', { id: 'notice-web', type: 'url', value: content.web ?? '' })),
    field(t('notice.contact'), controls.contact = h('input', { id: 'notice-contact', type: 'text', maxlength: 300, value: content.contact ?? '' })),
    ...LANGUAGES.map((lang) => languageBlock(lang, content.info?.[lang] ?? {}, controls)),
    h('h3', {}, t('notice.area')),
    area.element,
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary', id: 'save-notice' }, t('notice.save'))));
  controls.status.addEventListener('change', markStatus);
  markStatus();
  area.changed();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = read(form, controls, area, content.info);
    if (!body.status) return flash(t('notice.status_required'), 'error');
    try {
      const saved = notice
        ? await api(`/api/v1/notices/${notice.id}`, { method: 'PUT', body: { version: notice.version, content: body } })
        : await api('/api/v1/notices', { method: 'POST', body: { ...body, msg_type: 'Alert' } });
      flash(t('notice.saved'), 'ok');
      onSaved(saved);
    } catch (err) {
      flash(err.field ? `${err.field}: ${err.message}` : err.message, 'error');
    }
  });
  return { element: form, destroy: () => area.destroy() };
}

function languageBlock(lang, info, controls) {
  return h('fieldset', { class: 'language-block', lang },
    h('legend', {}, t(`notice.text_${lang}`)),
    TEXT_FIELDS.map(([name, tag, max]) => {
      const control = h(tag, { id: `notice-${lang}-${name}`, maxlength: max, rows: tag === 'textarea' ? 3 : undefined, required: name === 'event' });
      control.value = info[name] ?? '';
      controls[`${lang}.${name}`] = control;
      return field(t(`notice.${name}`), control);
    }));
}

function read(form, controls, area, original = {}) {
  // Languages and fields the form does not show (area_description, de...) are kept as they were.
  const info = structuredClone(original);
  for (const lang of LANGUAGES) {
    const text = { ...(info[lang] ?? {}) };
    for (const [name] of TEXT_FIELDS) delete text[name];
    for (const [name] of TEXT_FIELDS) {
      const value = controls[`${lang}.${name}`].value.trim();
      if (value) text[name] = value;
    }
    // A language with any text goes to the hub, which names a missing event; an emptied one goes.
    if (TEXT_FIELDS.some(([name]) => text[name])) info[lang] = text;
    else delete info[lang];
  }
  const optional = (value) => value.trim() || undefined;
  return {
    status: controls.status.value || undefined,
    category: [...form.querySelectorAll('input[name=cap-category]:checked')].map((box) => box.value),
    urgency: controls.urgency.value || undefined,
    severity: controls.severity.value || undefined,
    certainty: controls.certainty.value || undefined,
    expires: controls.expires.value ? new Date(controls.expires.value).toISOString() : undefined,
    web: optional(controls.web.value),
    contact: optional(controls.contact.value),
    info,
    area: area.value(),
  };
}

function toLocalInput(iso) {
  const date = iso ? new Date(iso) : new Date(Date.now() + 6 * 3600e3);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60e3);
  return local.toISOString().slice(0, 16);
}
