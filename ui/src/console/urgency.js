// What needs someone now: a report of a life-safety kind, or one past its target. Ranks the
// queue by it, and raises it (a sound, a notification when the tab is hidden, a count in the
// title) when such a report arrives or falls overdue.
import { h } from '../shared/dom.js';
import { language, localized, t } from '../shared/i18n.js';
import { noticeSummary } from '../shared/notice.js';

const MUTED = 'vedetta.muted';
const OPEN = ['received', 'acknowledged', 'in_progress'];

/** Whether a report still needs someone and is of a kind about lives. */
export function isUrgent(report, categories) {
  const lives = categories.find((c) => c.code === report.category)?.life_safety;
  return OPEN.includes(report.status) && (report.overdue || (lives && report.status === 'received'));
}

/** When the report's next target falls: taking it in hand, then resolving it. */
export function nextDeadline(report) {
  if (!OPEN.includes(report.status)) return null;
  return report.status === 'received' ? report.acknowledge_due_at : report.resolve_due_at;
}

/** Queue order: open before closed, urgent first, then the nearest deadline, then newest. */
export function byPriority(categories) {
  const rank = (report) => [
    OPEN.includes(report.status) ? 0 : 1,
    isUrgent(report, categories) ? 0 : 1,
    Date.parse(nextDeadline(report) ?? '9999-12-31T00:00:00Z'),
  ];
  return (a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i += 1) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return b.received_at.localeCompare(a.received_at);
  };
}

/** "ack in 4 min", "12 min late": how far a report is from its next target. */
export function timeLeft(report, now = Date.now()) {
  const due = nextDeadline(report);
  if (!due) return '';
  const minutes = Math.round((Date.parse(due) - now) / 60e3);
  const target = report.status === 'received' ? 'ack' : 'resolve';
  const span = duration(Math.abs(minutes));
  return minutes >= 0 ? t(`target.${target}_in`, { span }) : t('target.late', { span });
}

/** "5 min", "3 h", "2 d": as precise as an operator needs at that distance. */
function duration(minutes) {
  if (minutes < 120) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} d`;
}

/** Sound, notification and title count for urgent reports; a mute button for the sound. */
export class UrgentAlerts {
  constructor(live, categories) {
    Object.assign(this, { live, categories });
    this.muted = localStorage.getItem(MUTED) === 'true';
    this.mute = h('button', { type: 'button', id: 'mute-alerts', 'aria-pressed': String(this.muted), onclick: () => this.toggleMute() });
    this.notify = h('button', { type: 'button', id: 'notify-alerts', onclick: () => Notification.requestPermission().then(() => this.render()) }, t('alarm.enable_notifications'));
    this.element = h('span', { class: 'alert-controls' }, this.mute, this.notify);
    this.title = document.title;
    live.addEventListener('report', (event) => this.seen(event.detail.value, event.detail.frame));
    live.addEventListener('reload', () => this.render());
    live.addEventListener('fast_review', (event) => {
      event.detail.value.arrived.forEach((notice) => this.raiseRelay(notice));
      this.render();
    });
    this.render();
  }

  /** An alert from another authority that a source's rule marked for fast review. */
  raiseRelay(notice) {
    const summary = noticeSummary(notice, language());
    this.sound(t('alarm.fast_review', { headline: summary.headline || summary.event }), notice.id);
  }

  seen(report, frame) {
    const arrived = frame?.event === 'received' && isUrgent(report, this.categories);
    if (arrived || frame?.event === 'overdue') this.raise(report, frame.event);
    this.render();
  }

  raise(report, why) {
    const category = this.categories.find((c) => c.code === report.category);
    const kind = localized(category?.name, report.category);
    const message = t(`alarm.${why === 'overdue' ? 'overdue' : 'arrived'}`, { kind, place: report.zones[0]?.name ?? '' });
    this.sound(message, report.id);
  }

  sound(message, tag) {
    if (!this.muted) beep();
    if (document.hidden && window.Notification?.permission === 'granted') {
      new Notification('Vedetta', { body: message, tag });
    }
    this.lastAlert = message;
  }

  render() {
    const urgent = [...this.live.reports.values()].filter((report) => isUrgent(report, this.categories)).length
      + this.live.fastReview.length;
    document.title = urgent ? `(${urgent}) ${this.title}` : this.title;
    this.mute.textContent = this.muted ? t('alarm.sound_off') : t('alarm.sound_on');
    this.mute.setAttribute('aria-pressed', String(this.muted));
    this.notify.hidden = !window.Notification || Notification.permission !== 'default';
  }

  toggleMute() {
    this.muted = !this.muted;
    localStorage.setItem(MUTED, String(this.muted));
    this.render();
  }
}

/** Two short tones, made in the browser: nothing to download, nothing to go missing. */
function beep() {
  try {
    const audio = new AudioContext();
    [0, 0.25].forEach((start) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.2);
    });
    setTimeout(() => audio.close(), 1000);
  } catch {
    // No audio device: the title and the queue still say it.
  }
}
