// api.js — the only way the UI talks to pixied: the JSON API of docs/api.md (/api/v1/).
// Cookies same-origin; every state-changing request carries the session's CSRF token
// (X-CSRF-Token); the browser adds Origin itself.

const BASE = '/api/v1';
let csrf = '';

export function setCsrf(token) {
  csrf = token || '';
}

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// Listeners for a 401 on any request but the login itself (the session is gone).
const unauthorized = new Set();
export function onUnauthorized(fn) {
  unauthorized.add(fn);
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' },
    cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, `pixied did not answer (${e.message}): is it running?`);
  }
  const ct = r.headers.get('Content-Type') || '';
  let data = null;
  if (r.status !== 204 && r.status !== 304) {
    data = ct.includes('json') ? await r.json().catch(() => null) : await r.text();
  }
  if (!r.ok) {
    const msg = (data && typeof data === 'object' && data.error) ||
      (typeof data === 'string' && data.trim()) || `${r.status} ${r.statusText}`;
    if (r.status === 401 && path !== '/login' && path !== '/session') {
      for (const fn of unauthorized) fn();
    }
    throw new ApiError(r.status, msg, r.headers.get('Retry-After'));
  }
  return data;
}

export const get = (path) => api('GET', path);

// MACs and addresses go into paths encoded (':' may stay: RFC 3986 pchar).
export const seg = (s) => encodeURIComponent(String(s)).replace(/%3A/gi, ':');

// ---- the event stream ----------------------------------------------------------------
// One EventSource on /api/v1/events. `client` messages go to onEvent; on any error the
// stream is closed and opened again after a growing pause (1 s .. 30 s); every (re)open
// calls onOpen, which re-reads /api/v1/clients for whatever was missed meanwhile.
export class Stream {
  constructor({ onEvent, onOpen, onState }) {
    Object.assign(this, { onEvent, onOpen, onState });
    this.es = null;
    this.timer = 0;
    this.tries = 0;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
    this.onState('off');
  }

  connect() {
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.onState('connecting');
    const es = new EventSource(BASE + '/events', { withCredentials: true });
    this.es = es;
    es.addEventListener('open', () => {
      this.tries = 0;
      this.onState('live');
      this.onOpen();
    });
    es.addEventListener('client', (m) => {
      let d;
      try {
        d = JSON.parse(m.data);
      } catch {
        return;
      }
      if (d && typeof d === 'object') this.onEvent(d);
    });
    es.addEventListener('error', () => {
      if (this.es !== es || this.stopped) return;
      es.close();
      this.es = null;
      this.onState('reconnecting');
      const wait = Math.min(30000, 1000 * 2 ** Math.min(this.tries++, 5));
      this.timer = setTimeout(() => this.connect(), wait);
    });
  }
}
