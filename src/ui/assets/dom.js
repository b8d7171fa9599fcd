// dom.js — building the page. Every string reaches the DOM as a text node or through
// textContent, never as markup: hostnames, vendor classes and log lines come from the
// network. (The build refuses innerHTML and friends: see src/ui/gen_assets.py.)

// h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]) -> element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'data') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

// Append children (nodes, strings, numbers, nested arrays; null and false are skipped).
export function add(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Replace el's content with children.
export function put(el, ...children) {
  clear(el);
  return add(el, ...children);
}

// ---- formatting ---------------------------------------------------------------------

export const dash = '—';

export function fmtTime(ms) {
  if (!ms) return dash;
  const d = new Date(ms);
  const now = new Date();
  const opts = d.toDateString() === now.toDateString()
    ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return d.toLocaleString(undefined, opts);
}

export function ago(ms, now = Date.now()) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// <time> that says "12 s ago" and is kept current by tickTimes().
export function timeAgo(ms) {
  if (!ms) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString(),
    data: { ago: String(ms) } }, ago(ms));
}

export function tickTimes(root = document) {
  const now = Date.now();
  for (const t of root.querySelectorAll('time[data-ago]')) {
    const s = ago(Number(t.dataset.ago), now);
    if (t.textContent !== s) t.textContent = s;
  }
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${u[i]}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return dash;
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// Status words and symbols: readable without colour (the colour only repeats the word).
export const STATUS = {
  'waiting-for-dhcp': ['◌', 'waiting for DHCP'],
  'waiting-for-loader': ['◔', 'waiting for loader'],
  'waiting-for-script': ['◑', 'waiting for script'],
  booting: ['◕', 'booting'],
  booted: ['✔', 'booted'],
  stalled: ['⚠', 'stalled'],
  online: ['●', 'online'],
};

export function statusBadge(st) {
  const [icon, word] = STATUS[st] || ['?', String(st || 'unknown')];
  const cls = STATUS[st] ? st : 'unknown';
  return h('span', { class: `status st-${cls}` }, h('span', { class: 'icon', 'aria-hidden': 'true' }, icon), ' ', word);
}
