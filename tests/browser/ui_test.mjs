// ui_test.mjs — drives pixied's web UI in Debian's chromium (headless) through Playwright,
// for tests/system/test_ui.py, which runs it inside the lab's server namespace.
//
//   node ui_test.mjs            (everything from the environment)
//
// PIXIED_URL       base URL of pixied, e.g. http://10.77.0.1 (required)
// PIXIED_PASSWORD  the admin password (required)
// PIXIED_ENTRY     the catalog entry to set as next boot (required)
// CHROMIUM         the browser (default /usr/bin/chromium)
// ARTIFACT_DIR     where screenshots go (default .)
//
// Talks to the test over stdio, one JSON object per line. Out: {"step": "..."} as it goes,
// {"screenshot": path}, and at the end {"ok": true} or {"error": "..."} (exit 1). In: after
// {"step": "dashboard"} it waits for {"mac": "...", "hostname": "..."}: a client the test
// made do DHCP, which must then appear on the open dashboard without a reload.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const step = (s) => say({ step: s });

const lines = createInterface({ input: process.stdin });
const inbox = [];
let waiter = null;
lines.on('line', (l) => {
  if (!l.trim()) return;
  inbox.push(JSON.parse(l));
  if (waiter) waiter();
});
async function receive(ms) {
  const end = Date.now() + ms;
  while (!inbox.length) {
    if (Date.now() > end) throw new Error(`nothing from the test in ${ms} ms`);
    await new Promise((r) => {
      waiter = r;
      setTimeout(r, 250);
    });
  }
  return inbox.shift();
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function main() {
  const base = env('PIXIED_URL').replace(/\/$/, '');
  const password = env('PIXIED_PASSWORD');
  const entry = env('PIXIED_ENTRY');
  const dir = env('ARTIFACT_DIR', '.');
  mkdirSync(dir, { recursive: true });

  const browser = await chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args: ['--no-first-run', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const problems = [];
  const dialogs = [];
  let page = null;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    // An alert() from a hostname would land here: record it, never let it block.
    page.on('dialog', async (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      await d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // A CSP violation (inline script/style) or a failed module shows up here.
      if (m.type() === 'error' && !/Failed to load resource|EventSource|net::ERR_/.test(m.text())) problems.push(`console: ${m.text()}`);
    });

    // 1. The login form, then the dashboard.
    const resp = await page.goto(`${base}/ui/`);
    check(resp && resp.ok(), `GET /ui/ answered ${resp && resp.status()}`);
    const csp = resp.headers()['content-security-policy'] || '';
    check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `weak or no CSP: ${csp}`);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Wrong password.').waitFor({ timeout: 10000 });
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Password').press('Enter'); // the keyboard path
    await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor({ timeout: 10000 });
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 10000 });
    step('dashboard');

    // 2. The test makes a client do DHCP; it appears live, its hostname as text.
    const { mac, hostname } = await receive(60000);
    const row = page.locator(`tr[data-mac="${mac}"]`);
    await row.waitFor({ timeout: 20000 });
    const shown = await row.locator('.hostname').textContent();
    check(shown === hostname, `hostname shown as ${JSON.stringify(shown)}, sent ${JSON.stringify(hostname)}`);
    const imgs = await page.locator('img').count();
    check(imgs === 0, `${imgs} <img> element(s) in the page: a hostname was parsed as HTML`);
    step('client-appeared');

    const shot = join(dir, 'ui-dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    say({ screenshot: shot });

    // 3. The phone layout: 360 px wide, no horizontal scrolling.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.waitForTimeout(200);
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    const phone = join(dir, 'ui-dashboard-360px.png');
    await page.screenshot({ path: phone, fullPage: true });
    say({ screenshot: phone });
    check(sw <= 360, `the dashboard scrolls sideways at 360 px (scrollWidth ${sw})`);
    await page.setViewportSize({ width: 1280, height: 800 });

    // 4. Open the client, set its next boot, see the change.
    await row.getByRole('link', { name: mac }).click();
    await page.getByRole('heading', { name: mac, level: 1 }).waitFor({ timeout: 10000 });
    await page.locator(`#entry option[value="${entry}"]`).waitFor({ state: 'attached', timeout: 10000 });
    // By keyboard: choose the entry, Tab to "Set next boot" (its focus ring must show:
    // not just the browser default being removed), Enter.
    const select = page.getByLabel('Catalog entry');
    await select.selectOption(entry);
    await select.focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const a = document.activeElement;
      const cs = getComputedStyle(a);
      return { text: a.textContent, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
    });
    check(focused.text === 'Set next boot', `Tab from the entry went to ${JSON.stringify(focused.text)}`);
    check(focused.outline !== 'none' && focused.width >= 2, `no visible focus ring: ${JSON.stringify(focused)}`);
    await page.keyboard.press('Enter');
    await page.locator('#next-boot', { hasText: entry }).waitFor({ timeout: 10000 });
    await page.getByText(`Next boot set: ${entry}`).waitFor({ timeout: 5000 });
    step('next-boot-set');
    const again = await page.locator('.hostname').first().textContent();
    check(again === hostname, `client page shows hostname ${JSON.stringify(again)}`);
    check(await page.locator('img').count() === 0, '<img> on the client page');
    const shot2 = join(dir, 'ui-client.png');
    await page.screenshot({ path: shot2, fullPage: true });
    say({ screenshot: shot2 });

    // 5. A reload keeps the session and shows the stored next boot.
    await page.reload();
    await page.locator('#next-boot', { hasText: entry }).waitFor({ timeout: 10000 });

    check(dialogs.length === 0, `dialogs fired: ${dialogs.join('; ')}`);
    check(problems.length === 0, problems.join('\n'));
    say({ ok: true });
  } catch (e) {
    // Leave what the page showed for whoever reads the failure.
    if (page) {
      const shot = join(dir, 'ui-failure.png');
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      say({ screenshot: shot });
      const notes = await page.locator('.note, .error').allTextContents().catch(() => []);
      e.message += `\npage: ${page.url()}; messages shown: ${JSON.stringify(notes)}; ` +
        `problems: ${JSON.stringify(problems)}`;
    }
    throw e;
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => {
  say({ error: e.message });
  process.exit(1);
});
