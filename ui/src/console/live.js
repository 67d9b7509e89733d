// What the console knows, kept current: reports, incidents, devices and notices in force,
// loaded over HTTP and then changed live by the staff queue on the WebSocket; and who on the
// staff has which report open.
import { api } from '../shared/api.js';
import { LiveSocket } from '../shared/socket.js';

/** Reports loaded at start; older ones stay reachable through the API filters. */
const INITIAL_REPORTS = 500;

export class Live extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.reports = new Map();
    this.incidents = new Map();
    this.devices = new Map();
    this.notices = new Map();
    this.stats = null;
    /** Drafts of relays an upstream source's rule marked for fast review. */
    this.fastReview = [];
    /** Who on the staff has which report open: report id → login names. */
    this.presence = {};
    this.openReport = null;
  }

  /** Notices in force, then the live connection; the rest comes once the queue is watched. */
  async load() {
    const notices = await api('/api/v1/notices?state=published');
    notices.notices.forEach((notice) => this.notices.set(notice.thread_id, notice));
    this.connect();
    // A relay's draft makes no live event: the marked ones are asked for every half minute.
    setInterval(() => this.refreshFastReview(), 30_000);
  }

  /** The relays waiting for fast review; `arrived` are those not seen before. */
  async refreshFastReview() {
    // One question at a time, so one arrival sounds once.
    if (this.askingFastReview) return;
    this.askingFastReview = true;
    try {
      const page = await api('/api/v1/notices?state=draft&review=fast&limit=100');
      const known = new Set(this.fastReview.map((notice) => notice.id));
      this.fastReview = page.notices;
      this.emit('fast_review', { all: page.notices, arrived: page.notices.filter((n) => !known.has(n.id)) });
    } catch {
      // Offline: the staleness banner says so; the next round asks again.
    } finally {
      this.askingFastReview = false;
    }
  }

  /** Reports, incidents and devices as they are now, each time the queue is (again) watched:
   * events from before, or from while the connection was down, are not replayed. */
  async snapshot() {
    const [reports, incidents, devices] = await Promise.all([
      api(`/api/v1/reports?limit=${INITIAL_REPORTS}`),
      api('/api/v1/incidents?status=open&limit=500'),
      api('/api/v1/devices'),
    ]);
    const newer = (known, fresh) => !known || (fresh.version ?? 0) >= (known.version ?? 0);
    reports.reports.forEach((r) => newer(this.reports.get(r.id), r) && this.reports.set(r.id, r));
    incidents.incidents.forEach((i) => newer(this.incidents.get(i.id), i) && this.incidents.set(i.id, i));
    devices.devices.forEach((device) => this.devices.set(device.device_id, device));
    await this.refreshStats();
    await this.refreshFastReview();
  }

  connect() {
    this.socket = new LiveSocket((socket) => socket.send({ type: 'auth', token: this.token }));
    this.socket.on('authenticated', () => {
      this.socket.send({ type: 'watch' });
      // Colleagues see again which report this console has open.
      if (this.openReport) this.socket.send({ type: 'viewing', report_id: this.openReport });
      this.socket.send({ type: 'subscribe', all: true, cursor: this.cursor });
    });
    // Live only once the queue is watched: a socket that is open but not logged in shows nothing.
    this.socket.on('watching', async () => {
      await this.snapshot();
      this.emit('reload');
      this.emit('connection', 'online');
    });
    this.socket.on('error', (frame) => {
      if (frame.error === 'unauthorized') this.emit('unauthorized');
    });
    this.socket.on('report', (frame) => this.reportEvent(frame));
    this.socket.on('incident', ({ incident }) => this.put('incident', this.incidents, incident.id, incident));
    this.socket.on('device', ({ device }) => this.put('device', this.devices, device.device_id, device));
    this.socket.on('task', ({ task }) => this.emit('task', task));
    this.socket.on('notice', (frame) => this.noticeEvent(frame));
    this.socket.on('notice_expired', (frame) => this.noticeGone(frame.thread_id, frame.cursor));
    this.socket.on('presence', ({ viewing }) => {
      this.presence = viewing;
      this.emit('presence', viewing);
    });
    this.socket.on('subscribed', (frame) => (this.cursor = frame.cursor));
    this.socket.onStatus((state) => state === 'offline' && this.emit('connection', state));
  }

  /** Tells colleagues which report this console has open (`null`: none). */
  viewing(reportId) {
    if (reportId === this.openReport) return;
    this.openReport = reportId;
    this.socket?.send({ type: 'viewing', report_id: reportId });
  }

  /** Who else, besides `me`, has the report open. */
  othersViewing(reportId, me) {
    return (this.presence[reportId] ?? []).filter((name) => name !== me);
  }

  reportEvent(frame) {
    this.put('report', this.reports, frame.report.id, frame.report, frame);
    if (frame.event !== 'changed' || frame.change?.status) this.refreshStatsSoon();
  }

  async noticeEvent(frame) {
    this.cursor = frame.cursor;
    // On connecting the hub first replays what is in force: those are already here.
    if (this.notices.get(frame.notice.thread_id)?.id === frame.notice.id) return;
    // The frame carries the signed notice; the list shows the stored one with its state.
    const notice = await api(`/api/v1/notices/${frame.notice.id}`);
    for (const [thread, known] of this.notices) {
      if (thread === notice.thread_id && known.id !== notice.id) this.notices.delete(thread);
    }
    if (notice.state === 'published') this.notices.set(notice.thread_id, notice);
    else this.notices.delete(notice.thread_id);
    this.emit('notice', notice);
    if (this.fastReview.length) this.refreshFastReview();
  }

  noticeGone(threadId, cursor) {
    this.cursor = cursor;
    this.notices.delete(threadId);
    this.emit('notice', { thread_id: threadId });
  }

  put(kind, map, id, value, frame) {
    map.set(id, value);
    this.emit(kind, value, frame);
  }

  emit(kind, value, frame) {
    this.dispatchEvent(new CustomEvent(kind, { detail: { value, frame } }));
  }

  refreshStatsSoon() {
    clearTimeout(this.statsTimer);
    this.statsTimer = setTimeout(() => this.refreshStats(), 300);
  }

  async refreshStats() {
    this.stats = await api('/api/v1/stats');
    this.emit('stats', this.stats);
  }
}
