// The report form: where (location, a searched municipality or the map), what (category, text,
// photo), optional contact details. Complete in a dozen Tab presses; the map is one stop.
import { fill, h } from '../shared/dom.js';
import { formatWithin, localized, t } from '../shared/i18n.js';

/** Builds the form; the handlers come from the page, which owns the place and the socket. */
export function reportForm({ settings, categories, search, mapElement, onLocate, onUseCentre, onSubmit }) {
  const safety = h('p', { id: 'life-safety', class: 'life-safety', hidden: true, 'aria-live': 'polite' });
  const form = h('form', { id: 'report-form', novalidate: true, onsubmit: onSubmit },
    h('fieldset', {},
      h('legend', { 'data-t': 'citizen.where' }),
      h('button', { type: 'button', id: 'locate', onclick: onLocate, 'data-t': 'citizen.use_location' }),
      search.element,
      h('p', { class: 'hint', 'data-t': 'citizen.or_tap' }),
      mapElement,
      h('button', { type: 'button', id: 'use-centre', onclick: onUseCentre, 'data-t': 'citizen.use_centre' }),
      h('output', { id: 'place', 'aria-live': 'polite' })),
    h('fieldset', { id: 'categories', onchange: () => showSafety() }),
    safety,
    h('div', { class: 'field' },
      h('label', { for: 'text', 'data-t': 'citizen.what' }),
      h('textarea', { id: 'text', rows: 4, maxlength: settings.max_text_chars, required: true })),
    h('div', { class: 'field' },
      h('label', { for: 'photo', 'data-t': 'citizen.photo' }),
      h('input', { id: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp', capture: 'environment' })),
    h('details', {},
      h('summary', { 'data-t': 'citizen.contact' }),
      contactField('name', 'text', 'name'),
      contactField('phone', 'tel', 'tel'),
      contactField('email', 'email', 'email')),
    h('button', { type: 'submit', id: 'send', class: 'primary', 'data-t': 'citizen.send' }));

  const category = () => form.querySelector('input[name=category]:checked')?.value;
  /** Someone in danger must call the emergency number: the form says so before they write. */
  function showSafety() {
    const chosen = lifeSafety(categories, category());
    safety.hidden = !chosen;
    safety.textContent = chosen ? safetyNote(chosen, settings) : '';
  }

  return {
    form,
    category,
    translate() {
      const checked = category();
      fill(form.querySelector('#categories'), categoryChoices(categories));
      if (checked) form.querySelector(`input[name=category][value="${CSS.escape(checked)}"]`).checked = true;
      showSafety();
    },
    contact() {
      const value = (name) => form.querySelector(`#contact-${name}`).value.trim() || undefined;
      const details = { name: value('name'), phone: value('phone'), email: value('email') };
      return Object.values(details).some(Boolean) ? details : undefined;
    },
  };
}

/** The category if it is one where lives may be at stake (fire, people in danger). */
export function lifeSafety(categories, code) {
  const category = categories.find((c) => c.code === code);
  return category?.life_safety ? category : null;
}

/** Call the emergency number now; the report is taken in hand within the category's target. */
export function safetyNote(category, settings) {
  const within = category.acknowledge_within;
  return [t('citizen.call_now', { number: emergencyNumber(settings) }),
    within ? t('citizen.ack_within', { within: formatWithin(within) }) : null].filter(Boolean).join(' ');
}

export function emergencyNumber(settings) {
  return settings.emergency_number ?? '112';
}

function contactField(name, type, autocomplete) {
  return h('div', { class: 'field' },
    h('label', { for: `contact-${name}`, 'data-t': `citizen.contact_${name}` }),
    h('input', { id: `contact-${name}`, type, autocomplete }));
}

function categoryChoices(categories) {
  return [
    h('legend', {}, t('citizen.category')),
    categories.map((category) =>
      h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'category', value: category.code, required: true }),
        ` ${localized(category.name, category.code)}`)),
  ];
}
