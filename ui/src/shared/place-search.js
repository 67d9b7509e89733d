// A search box for places (municipalities, provinces, regions): an ARIA combobox whose list is
// chosen with the arrow keys and Enter, or by tapping. One Tab stop; the list is not tabbable.
import { h } from './dom.js';
import { t } from './i18n.js';
import { searchPlaces } from './places.js';

/** Typing pauses this long before the hub is asked. */
const DEBOUNCE_MS = 150;
const MIN_CHARS = 2;

export class PlaceSearch {
  /** `onPick(place)` once a place is chosen; `onClear()` when the box is emptied. */
  constructor({ id, label, hint, keepName = true, quietHint = false, onPick, onClear }) {
    const listId = `${id}-list`;
    Object.assign(this, { id, keepName, onPick, onClear, results: [], active: -1, asked: 0 });
    this.input = h('input', {
      id, type: 'search', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
      'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
      'aria-describedby': `${id}-status`,
      oninput: () => this.typed(),
      onkeydown: (event) => this.key(event),
      onblur: () => this.close(),
    });
    this.list = h('ul', { id: listId, role: 'listbox', class: 'place-results', hidden: true, 'aria-labelledby': `${id}-label` });
    // Where space is short (over the map) the status is for screen readers only.
    this.status = h('p', { id: `${id}-status`, class: `hint place-status${quietHint ? ' visually-hidden' : ''}`, 'aria-live': 'polite' }, hint ?? '');
    this.hint = hint ?? '';
    this.element = h('div', { class: 'field place-search' },
      h('label', { for: id, id: `${id}-label` }, label), this.input, this.list, this.status);
  }

  /** The label and hint again, in the language just chosen. */
  relabel(label, hint) {
    this.element.querySelector('label').textContent = label;
    if (this.status.textContent === this.hint) this.status.textContent = hint ?? '';
    this.hint = hint ?? '';
  }

  /** Empties the box (after a pick that is shown elsewhere, as a chip). */
  clear() {
    this.input.value = '';
    this.close();
  }

  typed() {
    clearTimeout(this.timer);
    const query = this.input.value.trim();
    if (!query) {
      this.show([]);
      this.status.textContent = this.hint;
      this.onClear?.();
      return;
    }
    if (query.length < MIN_CHARS) return;
    this.timer = setTimeout(() => this.ask(query), DEBOUNCE_MS);
  }

  async ask(query) {
    const asked = ++this.asked;
    let places;
    try {
      places = await searchPlaces(query);
    } catch {
      if (asked === this.asked) this.status.textContent = t('place.error');
      return;
    }
    // Answers can overtake each other: only the latest question's is shown.
    if (asked !== this.asked || this.input.value.trim() !== query) return;
    this.show(places);
    this.status.textContent = places.length ? t('place.results', { count: places.length }) : t('place.none');
  }

  show(places) {
    this.results = places;
    this.active = -1;
    this.list.replaceChildren(...places.map((place, index) => h('li', {
      id: `${this.id}-option-${index}`, role: 'option', class: 'place-option', 'aria-selected': 'false',
      // Keeps the focus in the box, so that the blur does not close the list before the click.
      onpointerdown: (event) => event.preventDefault(),
      onclick: () => this.pick(index),
    }, h('span', { class: 'place-name' }, place.name),
    place.context ? h('span', { class: 'place-context' }, ` ${place.context}`) : null)));
    this.list.hidden = !places.length;
    this.input.setAttribute('aria-expanded', String(places.length > 0));
    this.input.removeAttribute('aria-activedescendant');
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  key(event) {
    const open = !this.list.hidden && this.results.length > 0;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (!this.results.length) return;
      if (!open) this.show(this.results);
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.highlight((this.active + step + this.results.length) % this.results.length);
    } else if (event.key === 'Enter') {
      // Inside a form, Enter picks a place: it never sends the form.
      event.preventDefault();
      if (open) this.pick(Math.max(this.active, 0));
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      this.close();
    }
  }

  highlight(index) {
    this.active = index;
    [...this.list.children].forEach((option, i) => option.setAttribute('aria-selected', String(i === index)));
    const option = this.list.children[index];
    this.input.setAttribute('aria-activedescendant', option.id);
    option.scrollIntoView({ block: 'nearest' });
  }

  pick(index) {
    const place = this.results[index];
    if (!place) return;
    this.input.value = this.keepName ? place.name : '';
    this.close();
    this.status.textContent = t('place.chosen', { name: place.name });
    this.onPick(place);
  }
}
