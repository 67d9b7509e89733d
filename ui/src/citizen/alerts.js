// Notices that reach the citizen when the page is closed: Web Push for the place on the page
// (where the browser can), and e-mail with a confirmation link.
import { api } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { language, t } from '../shared/i18n.js';

/** Where this browser's push subscription points, kept so the page can say so. */
const PUSHED = 'vedetta.push';

export class AlertSignup {
  constructor() {
    this.pushStatus = h('p', { id: 'push-status', role: 'status', 'aria-live': 'polite' });
    this.pushButton = h('button', { type: 'button', id: 'push-toggle', onclick: () => this.togglePush() });
    this.address = h('input', { id: 'alert-email', type: 'email', autocomplete: 'email', required: true });
    this.mailStatus = h('p', { id: 'mail-status', role: 'status', 'aria-live': 'polite' });
    this.mailForm = h('form', { id: 'alert-mail', onsubmit: (event) => this.subscribeMail(event) },
      h('label', { for: 'alert-email', 'data-t': 'alerts.email_label' }), this.address,
      h('button', { type: 'submit', 'data-t': 'alerts.email_button' }), this.mailStatus);
    const canPush = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
    this.element = h('section', { id: 'alerts', 'aria-labelledby': 'alerts-title' },
      h('h2', { id: 'alerts-title', 'data-t': 'alerts.title' }),
      canPush ? h('div', { class: 'push' }, this.pushButton, this.pushStatus) : null,
      this.mailForm);
    this.place = null;
  }

  /** The place on the page: what a new subscription is for. */
  placed(place) {
    this.place = place.point ? { ...place } : null;
    this.render();
  }

  render() {
    const pushed = JSON.parse(localStorage.getItem(PUSHED) ?? 'null');
    const here = pushed && this.place && samePlace(pushed, this.place);
    this.pushButton.textContent = here ? t('alerts.push_stop') : t('alerts.push_start');
    this.pushButton.disabled = !this.place && !pushed;
    this.pushStatus.textContent = pushed ? t('alerts.push_on', { place: pushed.name ?? '' }) : '';
    this.mailForm.hidden = !this.place;
    // Nothing to offer before the page knows where the citizen is.
    this.element.hidden = !this.place && !pushed;
  }

  async togglePush() {
    const pushed = JSON.parse(localStorage.getItem(PUSHED) ?? 'null');
    try {
      if (pushed && this.place && samePlace(pushed, this.place)) await this.stopPush();
      else await this.startPush();
    } catch (error) {
      this.pushStatus.textContent = error.message || t('alerts.push_failed');
    }
    this.render();
  }

  async startPush() {
    if ((await Notification.requestPermission()) !== 'granted') throw new Error(t('alerts.push_denied'));
    const [registration, key] = await Promise.all([navigator.serviceWorker.ready, api('/api/v1/push/key')]);
    const subscription = await registration.pushManager.getSubscription()
      ?? await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key.public_key });
    await api('/api/v1/subscriptions/push', { method: 'POST', body: { subscription: subscription.toJSON(), ...where(this.place), language: language() } });
    localStorage.setItem(PUSHED, JSON.stringify({ point: this.place.point, zone: this.place.zone, name: this.place.name }));
  }

  async stopPush() {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await api('/api/v1/subscriptions/push/remove', { method: 'POST', body: { endpoint: subscription.endpoint } });
      await subscription.unsubscribe();
    }
    localStorage.removeItem(PUSHED);
  }

  async subscribeMail(event) {
    event.preventDefault();
    if (!this.place) return;
    this.mailStatus.textContent = t('alerts.email_sending');
    try {
      await api('/api/v1/subscriptions/email', { method: 'POST', body: { address: this.address.value.trim(), ...where(this.place), language: language() } });
      this.mailStatus.textContent = t('alerts.email_sent');
      this.address.value = '';
    } catch (error) {
      this.mailStatus.textContent = error.message;
    }
  }
}

/** A comune chosen by name is subscribed as that zone; a position as its point. */
function where(place) {
  return place.zone ? { zone: place.zone } : { point: place.point };
}

function samePlace(a, b) {
  return a.zone ? a.zone === b.zone : a.point?.lat === b.point?.lat && a.point?.lon === b.point?.lon;
}
