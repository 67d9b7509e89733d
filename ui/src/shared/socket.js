// One WebSocket to the hub that reconnects with backoff and says hello again each time.

const MAX_BACKOFF_MS = 15000;

export class LiveSocket {
  /** `greet(socket)` runs on every (re)connection: auth, subscribe, follow. */
  constructor(greet) {
    this.greet = greet;
    this.handlers = new Map();
    this.statusListeners = new Set();
    this.backoff = 500;
    // The browser knows the network is gone before a silent socket does: say so at once.
    addEventListener('offline', () => this.ws?.close());
    // Back on the network: try now, not when the backoff would have.
    addEventListener('online', () => {
      if (!this.closed && this.ws?.readyState === WebSocket.CLOSED) {
        clearTimeout(this.retry);
        this.connect();
      }
    });
    this.connect();
  }

  on(type, handler) {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler]);
    return this;
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.closed = true;
    this.ws?.close(1000);
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      this.status('online');
      this.greet(this);
    };
    ws.onmessage = (message) => this.dispatch(JSON.parse(message.data));
    ws.onclose = () => {
      this.status('offline');
      if (this.closed) return;
      // Jittered, so that clients dropped together do not all come back in the same instant.
      this.retry = setTimeout(() => this.connect(), this.backoff * (0.5 + Math.random()));
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    };
  }

  dispatch(frame) {
    for (const handler of this.handlers.get(frame.type) ?? []) handler(frame);
    for (const handler of this.handlers.get('*') ?? []) handler(frame);
  }

  status(state) {
    this.statusListeners.forEach((listener) => listener(state));
  }
}
