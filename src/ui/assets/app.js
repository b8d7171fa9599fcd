// app.js — the pixied web UI: session, hash routes, the live client list. Pages are built
// by views.js; all data comes from the JSON API (api.js).
import { api, get, setCsrf, onUnauthorized, Stream } from './api.js';
import { h, put, tickTimes } from './dom.js';
import * as views from './views.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const live = document.getElementById('live');
const foot = document.getElementById('foot');

// Shared state the views read: the client records by MAC (no timelines), the catalog.
const state = {
  clients: new Map(),
  clientsLoaded: false,
  catalog: null,
  user: null,
};

let view = null;       // the page shown: {el, onClient(rec, ev)?, onClients()?, destroy()?}
let loading = false;   // a re-read of /clients is under way: events wait in `pending`
let pending = [];

function applyEvent(d) {
  const rec = d.client;
  if (rec && rec.mac) state.clients.set(rec.mac, rec);
  if (view && view.onClient) view.onClient(rec || null, d.event || null);
}

async function reloadClients() {
  loading = true;
  try {
    const list = await get('/clients');
    state.clients = new Map((Array.isArray(list) ? list : []).map((c) => [c.mac, c]));
    state.clientsLoaded = true;
  } catch (e) {
    if (e.status !== 401) setLive('error', `could not read the clients: ${e.message}`);
  } finally {
    loading = false;
  }
  // Events that came in while the list was read apply on top of it.
  const q = pending;
  pending = [];
  if (view && view.onClients) view.onClients();
  for (const d of q) applyEvent(d);
}

const stream = new Stream({
  onEvent: (d) => (loading ? pending.push(d) : applyEvent(d)),
  onOpen: () => reloadClients(),
  onState: (s) => {
    setLive(s);
    if (s === 'reconnecting') checkSession();
  },
});

function setLive(s, why) {
  const words = {
    live: '● live',
    connecting: '○ connecting…',
    reconnecting: '○ reconnecting…',
    error: '⚠ ' + (why || 'error'),
  };
  live.hidden = s === 'off';
  live.dataset.state = s;
  live.textContent = words[s] || '';
}

// ---- session ---------------------------------------------------------------------------

async function checkSession() {
  try {
    const s = await get('/session');
    setCsrf(s.csrf);
    state.user = s.user || 'admin';
    return true;
  } catch (e) {
    if (e.status === 401) loggedOut();
    return false;
  }
}

function loggedIn(s) {
  setCsrf(s.csrf);
  state.user = s.user || 'admin';
  nav.hidden = false;
  stream.start();
  loadFooter();
  route();
}

function loggedOut() {
  if (state.user === null && view && view.isLogin) return;
  state.user = null;
  setCsrf('');
  stream.stop();
  nav.hidden = true;
  state.clients.clear();
  state.clientsLoaded = false;
  state.catalog = null;
  put(foot);
  show(views.login(ctx, loggedIn));
}

onUnauthorized(loggedOut);

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/logout');
  } catch {
    // gone already or unreachable: either way show the login form
  }
  loggedOut();
});

async function loadFooter() {
  try {
    const s = await get('/status');
    const up = s.uptime_s >= 3600 ? `${Math.floor(s.uptime_s / 3600)} h` : `${Math.floor((s.uptime_s || 0) / 60)} min`;
    put(foot, `pixied ${s.version || ''} · ${s.mode || '?'} mode · up ${up}`);
  } catch {
    put(foot);
  }
}

// ---- routes ----------------------------------------------------------------------------

// ctx: what views may use.
const ctx = {
  state,
  async catalog(force) {
    if (!state.catalog || force) state.catalog = await get('/catalog');
    return state.catalog;
  },
  reloadClients,
};

const routes = [
  [/^#?\/?$/, () => views.dashboard(ctx)],
  [/^#\/client\/([0-9a-fA-F:-]{12,17})$/, (m) => views.client(ctx, m[1].toLowerCase())],
  [/^#\/leases$/, () => views.leases(ctx)],
  [/^#\/catalog$/, () => views.catalog(ctx)],
  [/^#\/log$/, () => views.log(ctx)],
];

function show(v) {
  if (view && view.destroy) view.destroy();
  view = v;
  put(main, v.el);
  // Keyboard and screen-reader users land on the new page's heading.
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
  for (const a of nav.querySelectorAll('a')) {
    const here = a.getAttribute('href') === (location.hash || '#/') ||
      (a.getAttribute('href') === '#/' && location.hash.startsWith('#/client/'));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route() {
  if (!state.user) return;
  const hash = location.hash || '#/';
  for (const [rx, make] of routes) {
    const m = hash.match(rx);
    if (m) {
      show(make(m));
      return;
    }
  }
  show({ el: h('section', null, h('h1', null, 'Not found'),
    h('p', null, 'No such page. ', h('a', { href: '#/' }, 'Back to the clients.'))) });
}

window.addEventListener('hashchange', route);
setInterval(() => tickTimes(main), 5000);

(async () => {
  try {
    const s = await get('/session');
    loggedIn(s);
  } catch (e) {
    if (e.status === 401) loggedOut();
    else put(main, h('p', { class: 'error', role: 'alert' }, e.message));
  }
})();
