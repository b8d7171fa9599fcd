// views.js — the pages: login, clients (dashboard), one client, leases, catalog and menu
// preview, log. Each returns {el, ...hooks}; app.js shows it and feeds it live events.
import { api, get, seg } from './api.js';
import { h, add, put, clear, dash, fmtTime, fmtBytes, fmtDuration, timeAgo, statusBadge, STATUS } from './dom.js';

const txt = (v) => (v === null || v === undefined || v === '' ? dash : String(v));
const archName = (c) => (c.arch && (c.arch.name || c.arch.code !== undefined) ? c.arch.name || `arch ${c.arch.code}` : dash);

// A cell with the column's name beside it on narrow screens (see app.css).
const td = (label, ...kids) => h('td', { data: { label } }, ...kids);

// A message line under a form: role=status for success, role=alert for errors.
function note() {
  const el = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    ok(msg) { el.className = 'note ok'; put(el, '✔ ', msg); },
    err(e) { el.className = 'note error'; put(el, '⚠ ', e.message || String(e)); },
    clear() { el.className = 'note'; clear(el); },
  };
}

// Run an action from a button: disabled while it runs, result in the note.
async function act(btn, n, fn, okMsg) {
  btn.disabled = true;
  try {
    const r = await fn();
    n.ok(typeof okMsg === 'function' ? okMsg(r) : okMsg);
    return r;
  } catch (e) {
    n.err(e);
    return undefined;
  } finally {
    btn.disabled = false;
  }
}

// ---- login ---------------------------------------------------------------------------

export function login(ctx, done) {
  const n = note();
  const pw = h('input', { id: 'password', name: 'password', type: 'password', required: true,
    autocomplete: 'current-password', autocapitalize: 'off', spellcheck: 'false' });
  const btn = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'login' },
    h('h1', null, 'Log in to pixied'),
    h('p', { class: 'muted' }, 'The password is in pixied.conf ([api] password-hash) or was printed once in the log at the first start.'),
    h('label', { for: 'password' }, 'Password'), pw, btn, n.el);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    n.clear();
    try {
      const s = await api('POST', '/login', { password: pw.value });
      pw.value = '';
      done(s);
    } catch (e) {
      if (e.status === 401) e.message = 'Wrong password.';
      if (e.status === 429) e.message = `Too many attempts: try again in ${e.retryAfter || 'a few'} seconds.`;
      n.err(e);
      pw.select();
    } finally {
      btn.disabled = false;
    }
  });
  setTimeout(() => pw.focus(), 0);
  return { el: form, isLogin: true };
}

// ---- dashboard: every client, live -------------------------------------------------------

export function dashboard(ctx) {
  const { state } = ctx;
  const filter = h('input', { id: 'filter', type: 'search', autocomplete: 'off',
    placeholder: 'MAC, hostname, IP, status…' });
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h('table', { class: 'grid clients' },
    h('caption', { class: 'vh' }, 'Clients, most recently seen first'),
    h('thead', null, h('tr', null, ...['Status', 'MAC', 'Hostname', 'Arch', 'IP', 'Last seen']
      .map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const empty = h('p', { class: 'empty' });
  const el = h('section', null,
    h('h1', null, 'Clients'),
    h('div', { class: 'toolbar' }, h('label', { for: 'filter' }, 'Filter'), filter),
    summary, h('div', { class: 'scroll' }, table), empty);
  const rows = new Map(); // mac -> tr

  function row(c) {
    const tr = h('tr', { data: { mac: c.mac, status: c.status || '' } },
      td('Status', statusBadge(c.status)),
      td('MAC', h('a', { href: `#/client/${c.mac}`, class: 'mono' }, c.mac)),
      td('Hostname', h('span', { class: 'hostname' }, txt(c.hostname))),
      td('Arch', archName(c)),
      td('IP', h('span', { class: 'mono' }, txt(c.ip))),
      td('Last seen', timeAgo(c.last_seen)));
    return tr;
  }

  function matches(c, q) {
    if (!q) return true;
    const st = (STATUS[c.status] || [])[1] || c.status || '';
    return [c.mac, c.hostname, c.ip, st, archName(c)].some((v) => String(v || '').toLowerCase().includes(q));
  }

  function render() {
    const q = filter.value.trim().toLowerCase();
    const all = [...state.clients.values()].sort((a, b) => (b.last_seen || 0) - (a.last_seen || 0));
    const shown = all.filter((c) => matches(c, q));
    const kids = [];
    for (const c of shown) {
      let tr = rows.get(c.mac);
      if (!tr || tr._rec !== c) {
        tr = row(c);
        tr._rec = c;
        rows.set(c.mac, tr);
      }
      kids.push(tr);
    }
    tbody.replaceChildren(...kids);
    const counts = {};
    for (const c of all) counts[c.status] = (counts[c.status] || 0) + 1;
    put(summary, `${all.length} client${all.length === 1 ? '' : 's'}`,
      Object.keys(STATUS).filter((s) => counts[s]).map((s) => ` · ${counts[s]} ${STATUS[s][1]}`));
    table.hidden = shown.length === 0;
    empty.hidden = shown.length !== 0;
    put(empty, !state.clientsLoaded ? 'Loading the clients…'
      : all.length ? 'No client matches the filter.'
        : 'No clients yet: a machine shows up here as soon as pixied hears its first DHCP request.');
  }

  // Bursts of events (a whole lab booting) redraw once per frame.
  let queued = 0;
  const later = () => {
    if (!queued) queued = requestAnimationFrame(() => { queued = 0; render(); });
  };
  filter.addEventListener('input', render);
  render();
  return { el, onClients: render, onClient: later, destroy: () => cancelAnimationFrame(queued) };
}

// ---- one client ------------------------------------------------------------------------

export function client(ctx, mac) {
  let rec = ctx.state.clients.get(mac) || null;
  const title = h('h1', { class: 'mono' }, mac);
  const sub = h('p', { class: 'sub' });
  const diag = h('div', { class: 'diagnosis', role: 'note', hidden: true });
  const facts = h('dl', { class: 'facts' });
  const n = note();

  // Boot choices from the catalog.
  const sel = h('select', { id: 'entry', name: 'entry' }, h('option', { value: '' }, 'Loading the catalog…'));
  const nextNow = h('span', { id: 'next-boot', class: 'value' });
  const pinNow = h('span', { id: 'pinned', class: 'value' });
  const bSetNext = h('button', { type: 'button', id: 'set-next-boot' }, 'Set next boot');
  const bSetPin = h('button', { type: 'button', id: 'set-entry' }, 'Set permanent entry');
  const bClrNext = h('button', { type: 'button', class: 'secondary', id: 'clear-next-boot' }, 'Clear next boot');
  const bClrPin = h('button', { type: 'button', class: 'secondary', id: 'clear-entry' }, 'Clear permanent entry');
  const bWake = h('button', { type: 'button', id: 'wake' }, 'Wake (Wake-on-LAN)');
  const bRelease = h('button', { type: 'button', id: 'release', class: 'danger' }, 'Release lease');

  const tl = h('tbody');
  const tlTable = h('table', { class: 'grid timeline' },
    h('caption', { class: 'vh' }, 'Timeline, newest first'),
    h('thead', null, h('tr', null, ...['Time', 'Event', 'Status after', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
    tl);
  const tlEmpty = h('p', { class: 'empty', hidden: true }, 'No events yet.');

  const el = h('section', { class: 'client', data: { mac } },
    h('p', null, h('a', { href: '#/' }, '← All clients')),
    title, sub, diag,
    h('section', { class: 'card', 'aria-labelledby': 'boot-h' },
      h('h2', { id: 'boot-h' }, 'Boot'),
      h('p', null, 'Next boot (once): ', nextNow, ' · Permanent entry: ', pinNow),
      h('div', { class: 'field' }, h('label', { for: 'entry' }, 'Catalog entry'), sel),
      h('div', { class: 'buttons' }, bSetNext, bSetPin, bClrNext, bClrPin),
      h('h2', null, 'Machine'),
      h('div', { class: 'buttons' }, bWake, bRelease),
      n.el),
    h('section', { class: 'card', 'aria-labelledby': 'facts-h' }, h('h2', { id: 'facts-h' }, 'Details'), facts),
    h('section', { 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Timeline'),
      h('div', { class: 'scroll' }, tlTable), tlEmpty));

  function fact(name, value) {
    return [h('dt', null, name), h('dd', null, value instanceof Node ? value : txt(value))];
  }

  function renderRecord() {
    if (!rec) {
      put(sub, 'pixied has not heard from this machine (yet). Its next boot and permanent entry can be set anyway.');
      put(nextNow, dash);
      put(pinNow, dash);
      bRelease.disabled = true;
      bWake.disabled = true;
      return;
    }
    put(sub, statusBadge(rec.status), rec.hostname ? [' · ', h('span', { class: 'hostname' }, rec.hostname)] : null,
      rec.status_since ? [' · since ', timeAgo(rec.status_since)] : null);
    diag.hidden = !rec.diagnosis;
    put(diag, h('strong', null, rec.status === 'stalled' ? `Stalled${rec.stalled_in ? ' while ' + ((STATUS[rec.stalled_in] || [])[1] || rec.stalled_in) : ''}: ` : 'Diagnosis: '), rec.diagnosis || '');
    put(nextNow, txt(rec.next_boot));
    put(pinNow, txt(rec.pinned));
    bClrNext.disabled = !rec.next_boot;
    bClrPin.disabled = !rec.pinned;
    bRelease.disabled = !rec.ip;
    bWake.disabled = false;
    const kinds = [rec.pxe && 'PXE', rec.http_boot && 'HTTP Boot', rec.ipxe && 'iPXE'].filter(Boolean).join(', ');
    put(facts,
      fact('MAC', h('span', { class: 'mono' }, rec.mac)),
      fact('IP address', rec.ip),
      fact('Hostname', rec.hostname),
      fact('Architecture', rec.arch ? `${archName(rec)} (${rec.arch.code})` : dash),
      fact('Vendor class', rec.vendor_class),
      fact('Client kind', kinds || 'plain DHCP'),
      fact('UUID', rec.uuid),
      fact('Loader given', rec.loader),
      fact('Script given', rec.script),
      fact('Entry chosen', rec.entry ? `${rec.entry}${rec.rule ? ' (' + rec.rule + ')' : ''}` : rec.rule || dash),
      fact('Host rule', rec.host),
      fact('Interface', rec.iface),
      fact('First seen', fmtTime(rec.first_seen)),
      fact('Last seen', timeAgo(rec.last_seen)),
      fact('Boots completed', String(rec.boots ?? 0)),
      fact('Last boot took', rec.last_boot_ms ? fmtDuration(rec.last_boot_ms) : dash));
  }

  function evRow(e) {
    const bits = [];
    if (e.ip) bits.push(e.ip);
    if (e.bytes) bits.push(fmtBytes(e.bytes));
    if (e.duration_ms) bits.push(fmtDuration(e.duration_ms));
    if (e.detail) bits.push(e.detail);
    return h('tr', { data: { kind: e.kind || '' } },
      td('Time', h('time', { datetime: new Date(e.time).toISOString() }, fmtTime(e.time))),
      td('Event', e.kind || dash),
      td('Status after', e.status ? statusBadge(e.status) : dash),
      td('Details', bits.length ? bits.join(' · ') : dash));
  }

  function renderTimeline(events) {
    tl.replaceChildren(...events.slice().reverse().map(evRow));
    tlEmpty.hidden = events.length !== 0;
    tlTable.hidden = events.length === 0;
  }

  async function load() {
    try {
      const full = await get(`/clients/${seg(mac)}`);
      rec = full;
      renderRecord();
      renderTimeline(Array.isArray(full.timeline) ? full.timeline : []);
    } catch (e) {
      if (e.status === 404) {
        rec = null;
        renderRecord();
        renderTimeline([]);
      } else n.err(e);
    }
  }

  async function loadCatalog() {
    try {
      const cat = await ctx.catalog();
      const entries = Array.isArray(cat.entries) ? cat.entries : [];
      put(sel, entries.map((e) => h('option', { value: e.name },
        e.label && e.label !== e.name ? `${e.label} (${e.name})` : e.name)));
      if (!entries.length) put(sel, h('option', { value: '' }, 'The catalog has no entries'));
    } catch (e) {
      put(sel, h('option', { value: '' }, 'The catalog could not be read'));
      n.err(e);
    }
  }

  const withRecord = (r) => {
    if (r && r.mac) {
      rec = Object.assign({}, rec || {}, r);
      ctx.state.clients.set(rec.mac, Object.assign({}, r, { timeline: undefined }));
      renderRecord();
    }
    return r;
  };
  const chosen = () => sel.value;

  bSetNext.addEventListener('click', () => act(bSetNext, n, async () => {
    if (!chosen()) throw new Error('Choose a catalog entry first.');
    return withRecord(await api('PUT', `/clients/${seg(mac)}/next-boot`, { entry: chosen() }));
  }, () => `Next boot set: ${chosen()} (used once, at the next boot).`));
  bSetPin.addEventListener('click', () => act(bSetPin, n, async () => {
    if (!chosen()) throw new Error('Choose a catalog entry first.');
    return withRecord(await api('PUT', `/clients/${seg(mac)}/entry`, { entry: chosen() }));
  }, () => `Permanent entry set: ${chosen()}.`));
  bClrNext.addEventListener('click', () => act(bClrNext, n, async () => {
    await api('DELETE', `/clients/${seg(mac)}/next-boot`);
    withRecord({ mac, next_boot: '' });
  }, 'Next boot cleared.'));
  bClrPin.addEventListener('click', () => act(bClrPin, n, async () => {
    await api('DELETE', `/clients/${seg(mac)}/entry`);
    withRecord({ mac, pinned: '' });
  }, 'Permanent entry cleared.'));
  bWake.addEventListener('click', () => act(bWake, n,
    () => api('POST', `/clients/${seg(mac)}/wake`),
    (r) => `Wake-on-LAN packet sent${r && r.sent_on ? ' on ' + r.sent_on : ''}.`));
  bRelease.addEventListener('click', () => act(bRelease, n, async () => {
    if (!rec || !rec.ip) throw new Error('This machine has no address to release.');
    await api('DELETE', `/leases/${seg(rec.ip)}`);
    return rec.ip;
  }, (ip) => `Lease of ${ip} released: the address is back in the pool.`));

  renderRecord();
  load();
  loadCatalog();

  return {
    el,
    onClient(r, ev) {
      if (!r || r.mac !== mac) return;
      rec = Object.assign({}, rec || {}, r);
      renderRecord();
      if (ev && ev.kind && ev.kind !== 'update') {
        tl.prepend(evRow(ev));
        tlEmpty.hidden = true;
        tlTable.hidden = false;
      }
    },
    onClients() {
      load();
    },
  };
}

// ---- leases ------------------------------------------------------------------------------

export function leases(ctx) {
  const n = note();
  const tbody = h('tbody');
  const table = h('table', { class: 'grid leases' },
    h('caption', { class: 'vh' }, 'Leases'),
    h('thead', null, h('tr', null, ...['Address', 'MAC', 'Hostname', 'State', 'Expires', 'Pool', 'Action']
      .map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const empty = h('p', { class: 'empty' }, 'Loading…');
  const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const el = h('section', null, h('h1', null, 'Leases'),
    h('div', { class: 'toolbar' }, refresh), n.el, h('div', { class: 'scroll' }, table), empty);

  function row(l) {
    const rel = h('button', { type: 'button', class: 'danger small' }, 'Release',
      h('span', { class: 'vh' }, ` ${l.ip}`));
    rel.addEventListener('click', () => act(rel, n, async () => {
      await api('DELETE', `/leases/${seg(l.ip)}`);
      load();
    }, `Lease of ${l.ip} released.`));
    return h('tr', { data: { ip: l.ip } },
      td('Address', h('span', { class: 'mono' }, l.ip)),
      td('MAC', l.mac ? h('a', { href: `#/client/${l.mac}`, class: 'mono' }, l.mac) : dash),
      td('Hostname', h('span', { class: 'hostname' }, txt(l.hostname))),
      td('State', txt(l.state)),
      td('Expires', l.expires ? fmtTime(l.expires) : dash),
      td('Pool', txt(l.pool)),
      td('Action', l.state === 'bound' || l.state === 'offered' ? rel : dash));
  }

  async function load() {
    try {
      const list = await get('/leases');
      tbody.replaceChildren(...(list || []).map(row));
      table.hidden = !list || !list.length;
      empty.hidden = !table.hidden;
      put(empty, 'No leases.');
    } catch (e) {
      n.err(e);
    }
  }
  refresh.addEventListener('click', load);
  load();
  return { el };
}

// ---- catalog and menu preview -------------------------------------------------------------

export function catalog(ctx) {
  const n = note();
  const pn = note();
  const menu = h('p', { class: 'sub' });
  const tbody = h('tbody');
  const table = h('table', { class: 'grid entries' },
    h('caption', { class: 'vh' }, 'Catalog entries'),
    h('thead', null, h('tr', null, ...['Name', 'Label', 'Type', 'Architectures'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const macs = h('datalist', { id: 'known-macs' });
  const macIn = h('input', { id: 'pv-mac', name: 'mac', list: 'known-macs', required: true,
    autocomplete: 'off', spellcheck: 'false', placeholder: 'aa:bb:cc:dd:ee:ff', class: 'mono' });
  const arch = h('select', { id: 'pv-arch', name: 'arch' }, h('option', { value: '' }, 'not given'),
    ['bios', 'efi32', 'efi64', 'arm32', 'arm64', 'riscv32', 'riscv64', 'loongarch64'].map((a) => h('option', { value: a }, a)));
  const out = h('pre', { class: 'script', id: 'pv-out', tabindex: '0', hidden: true, 'aria-label': 'iPXE script' });
  const go = h('button', { type: 'submit' }, 'Show the script');
  const form = h('form', { class: 'preview' },
    h('div', { class: 'field' }, h('label', { for: 'pv-mac' }, 'MAC address'), macIn, macs),
    h('div', { class: 'field' }, h('label', { for: 'pv-arch' }, 'Architecture'), arch),
    h('div', { class: 'buttons' }, go));
  const el = h('section', null, h('h1', null, 'Catalog'), menu, n.el,
    h('div', { class: 'scroll' }, table),
    h('section', { class: 'card', 'aria-labelledby': 'pv-h' },
      h('h2', { id: 'pv-h' }, 'Menu preview'),
      h('p', { class: 'muted' }, 'The iPXE script a machine would get if it booted now (nothing is used up: a next boot stays set).'),
      form, pn.el, out));

  put(macs, [...ctx.state.clients.values()].map((c) => h('option', { value: c.mac }, c.hostname || c.mac)));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const mac = macIn.value.trim();
    if (!mac) {
      pn.err(new Error('Enter the MAC address of the machine to preview.'));
      macIn.focus();
      return;
    }
    const q = new URLSearchParams({ mac });
    if (arch.value) q.set('arch', arch.value);
    const c = ctx.state.clients.get(mac.toLowerCase());
    if (!arch.value && c && c.arch && /efi|arm|riscv|loong/i.test(c.arch.name || '')) q.set('platform', 'efi');
    await act(go, pn, async () => {
      const text = await get(`/catalog/preview?${q}`);
      out.textContent = typeof text === 'string' ? text : JSON.stringify(text, null, 2);
      out.hidden = false;
    }, `Script for ${mac}:`);
  });

  (async () => {
    try {
      const cat = await ctx.catalog(true);
      const m = cat.menu || {};
      put(menu, `Menu “${m.title || 'pixied'}”`, m.default ? ` · default ${m.default}` : '',
        m.timeout_ms !== undefined ? ` · timeout ${fmtDuration(m.timeout_ms)}` : '');
      tbody.replaceChildren(...(cat.entries || []).map((e) => h('tr', null,
        td('Name', h('span', { class: 'mono' }, e.name)), td('Label', txt(e.label)), td('Type', txt(e.type)),
        td('Architectures', (e.archs || []).join(', ') || 'all'))));
    } catch (e) {
      n.err(e);
    }
  })();
  return { el };
}

// ---- recent log lines -------------------------------------------------------------------

export function log(ctx) {
  const n = note();
  const list = h('ol', { class: 'log', 'aria-label': 'Log lines, oldest first' });
  const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const count = h('select', { id: 'log-n' }, [100, 200, 500, 1000].map((v) => h('option', { value: v, selected: v === 200 }, String(v))));
  const el = h('section', null, h('h1', null, 'Log'),
    h('div', { class: 'toolbar' }, h('label', { for: 'log-n' }, 'Lines'), count, refresh), n.el, list);

  async function load() {
    try {
      const lines = await get(`/log?n=${count.value}`);
      list.replaceChildren(...(lines || []).map((l) => h('li', { class: `lvl-${String(l.level || '').replace(/[^a-z]/g, '')}` },
        h('span', { class: 'when' }, fmtTime(l.time)), ' ',
        h('span', { class: 'level' }, String(l.level || '').toUpperCase()), ' ',
        h('span', { class: 'module' }, l.module || ''), ' ',
        h('span', { class: 'msg' }, l.message || ''))));
      if (!lines || !lines.length) put(list, h('li', null, 'No log lines yet.'));
      n.clear();
    } catch (e) {
      n.err(e);
    }
  }
  refresh.addEventListener('click', load);
  count.addEventListener('change', load);
  load();
  return { el };
}
