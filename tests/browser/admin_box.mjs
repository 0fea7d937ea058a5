// Browser tests of the coordinator's console, the box's pages (issue #16): /admin/,
// /admin/channels and /admin/health on the real `outpost` server with the demo curriculum and a
// second channel, in Debian's chromium driven by playwright-core. Run by ctest (label "browser",
// test "browser_admin_box"; tests/CMakeLists.txt):
//
//   ctest --test-dir build/cc -L browser -R browser_admin_box --output-on-failure
//
// or by hand, after building (add --web-root web-ui to test the web-ui files as edited):
//
//   node --test-reporter=spec tests/browser/admin_box.mjs --outpost build/cc/cli/outpost \
//     --demo build/cc/demo/water-cycle --screenshots build/cc/browser-screenshots
//
// In order, on one server: the first coordinator is made with the setup code from the log; a
// learner and a teacher are refused; the coordinator hides a channel without JavaScript, a
// learner's home page and search no longer have it and its pages are 404, and it is shown
// again; the default language is set to Arabic and a learner whose browser asks for nothing
// (or for German) gets Arabic; every page is axe-core clean and has no sideways scroll, at 320
// and 1280 px, in English and Arabic, with screenshots.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  axeSerious, axeSource, launchChromium, logIn as logInAt, openContext, overflow, pathOf,
  startServer, testOptions,
} from './harness.mjs';

const opts = testOptions('admin_box.mjs');
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'tableau noir 5';
const EXTRA_TITLE = 'Old maths exercises';

let server, browser, extraDir;

// A second channel, to hide: two pages whose words the search finds.
function writeExtraChannel() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-admin-'));
  const ch = path.join(dir, 'old-maths');
  fs.mkdirSync(ch);
  fs.writeFileSync(path.join(ch, 'outpost.toml'), `[channel]\ntitle = "${EXTRA_TITLE}"\n`);
  fs.writeFileSync(path.join(ch, 'fractions.html'),
                   '<!doctype html><html lang=en><title>Zebra fractions</title><p>Halves and quarters of a zebra.</p></html>');
  return { dir, ch };
}

before(async () => {
  extraDir = writeExtraChannel();
  browser = await launchChromium();
  server = await startServer(path.resolve(opts.outpost), path.resolve(opts.demo),
                             opts['web-root'] ? ['--web-root', path.resolve(opts['web-root'])] : [],
                             [extraDir.ch]);
  fs.mkdirSync(shotsDir, { recursive: true });
  console.log(`# outpost at ${server.base}, chromium ${browser.version()}`);
});

after(async () => {
  if (extraDir) fs.rmSync(extraDir.dir, { recursive: true, force: true });
  if (browser) await browser.close();
  if (server) {
    const r = await server.stop();
    if (!r.clean) {
      throw new Error(`outpost serve ended badly (exit ${r.code}, signal ${r.signal}); ` +
                      `its data folder is kept in ${r.dir}. Its log:\n${r.log}`);
    }
  }
  assert.deepEqual(axeFound, [], 'axe-core found serious or critical violations');
});

// A fresh context (no cookies); `expected`: problems the test causes on purpose (a 404, a 401).
const open = (options) => openContext(browser, server.base, options);
const REFUSED = /status of (401|403|404)/;  // Chromium logs a page answered so as an error

const axeFound = [];
async function axe(page, name) {
  axeFound.push(...await axeSerious(page, AXE, name));
}

const logIn = (page, name = 'rana') => logInAt(page, server.base, name, PASSWORD);

const CONSOLE = ['/admin/', '/admin/channels', '/admin/health'];

test('the first coordinator is made with the setup code, and adds a teacher', async () => {
  const code = (server.log().match(/Setup code: ([a-z0-9-]+)/) || [])[1];
  assert.ok(code, `no setup code in the log:\n${server.log()}`);
  const t = await open();
  await t.go('/setup');
  await t.page.fill('#code', code);
  await t.page.fill('#name', 'rana');
  await t.page.fill('#password', PASSWORD);
  await Promise.all([t.page.waitForNavigation(), t.page.click('form[action="/setup"] button')]);
  assert.equal(pathOf(t.page), '/teach/');
  await t.go('/teach/accounts');
  await t.page.fill('#a-name', 'amira');
  await t.page.fill('#a-password', PASSWORD);
  await Promise.all([t.page.waitForURL('**/teach/accounts?done=added'),
                     t.page.click('form[action="/teach/accounts"] button')]);
  await t.close();
});

test('a learner gets the login page and a teacher is refused on every console page', async () => {
  const learner = await open();
  for (const p of CONSOLE) {
    assert.equal((await learner.go(p)).status(), 401, p);
    assert.equal(await learner.page.locator('form[action="/login"]').count(), 1, p);
  }
  const hide = await learner.page.request.post(server.base + '/admin/channels/visibility',
                                               { form: { channel: 'old-maths', hidden: '1' } });
  assert.equal(hide.status(), 401);
  await learner.close([REFUSED]);
  const teacher = await open();
  await logIn(teacher.page, 'amira');
  for (const p of CONSOLE) assert.equal((await teacher.go(p)).status(), 403, p);
  await teacher.close([REFUSED]);
});

test('the box page shows the channels, the disk, and that the box never synced', async () => {
  const t = await open({ js: false });
  await logIn(t.page);
  await t.go('/admin/');
  assert.equal(await t.page.locator('.admin-nav [aria-current=page]').getAttribute('href'), '/admin/');
  const text = await t.page.locator('main').innerText();
  assert.match(text, /Never synced\./);
  assert.match(text, /Water Cycle|water cycle/i);
  assert.ok(text.includes(EXTRA_TITLE));
  assert.match(text, /free of/);
  assert.equal(await t.page.locator('meter.box-meter').count(), 1);
  const status = await t.page.request.get(server.base + '/api/v1/admin/status');
  assert.equal(status.status(), 200);
  const json = await status.json();
  assert.equal(json.channels.length, 2);
  assert.equal(json.sync.last, null);
  assert.ok(json.process.uptime_seconds >= 0);
  assert.deepEqual(json.recent_errors, []);
  await t.close();
});

test('hiding a channel takes it off the learners\' pages, and showing it brings it back', async () => {
  const coordinator = await open({ js: false, width: 320, height: 640 });
  await logIn(coordinator.page);
  await coordinator.go('/admin/channels');
  const row = coordinator.page.locator('li.box-row', { hasText: EXTRA_TITLE });
  await Promise.all([coordinator.page.waitForURL('**/admin/channels?saved=hidden'),
                     row.locator('button').click()]);
  assert.match(await coordinator.page.locator('[role=status]').innerText(), /hidden from learners/);
  assert.match(await row.innerText(), /hidden from learners/);
  assert.ok(await overflow(coordinator.page) <= 0, 'the channels page scrolls sideways at 320 px');

  const learner = await open();
  await learner.go('/');
  const home = await learner.page.locator('main').innerText();
  assert.ok(!home.includes(EXTRA_TITLE), 'the hidden channel is still on the home page');
  await learner.go('/search?q=zebra');
  assert.ok(!(await learner.page.locator('main').innerText()).includes('Zebra fractions'));
  assert.equal((await learner.go('/t/old-maths/')).status(), 404);
  assert.equal((await learner.go('/r/old-maths/fractions.html')).status(), 404);

  await Promise.all([coordinator.page.waitForURL('**/admin/channels?saved=shown'),
                     row.locator('button').click()]);
  await learner.go('/');
  assert.ok((await learner.page.locator('main').innerText()).includes(EXTRA_TITLE));
  await learner.go('/search?q=zebra');
  assert.ok((await learner.page.locator('main').innerText()).includes('Zebra fractions'));
  await learner.close([REFUSED]);
  await coordinator.close();
});

test('the default language is what a learner gets whose browser asks for nothing the box has', async () => {
  const coordinator = await open({ js: false });
  await logIn(coordinator.page);
  await coordinator.go('/admin/channels');
  await coordinator.page.selectOption('#default-language', 'ar');
  await Promise.all([coordinator.page.waitForURL('**/admin/channels?saved=language'),
                     coordinator.page.click('form[action="/admin/channels/language"] button')]);
  // A learner's browser that sends no Accept-Language at all (a kiosk, a phone's web view).
  const bare = await new Promise((resolve, reject) => {
    http.get(server.base + '/', (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  assert.match(bare, /<html lang="ar" dir="rtl">/);
  // Chromium asking for languages the box does not have.
  for (const headers of [{ 'Accept-Language': 'de-DE,de;q=0.9' }, { 'Accept-Language': 'sw,pt;q=0.5' }]) {
    const learner = await open({ headers });
    await learner.go('/');
    assert.equal(await learner.page.getAttribute('html', 'lang'), 'ar', JSON.stringify(headers));
    assert.equal(await learner.page.getAttribute('html', 'dir'), 'rtl');
    await learner.close();
  }
  const french = await open({ headers: { 'Accept-Language': 'fr' } });
  await french.go('/');
  assert.equal(await french.page.getAttribute('html', 'lang'), 'fr');
  await french.close();
  await coordinator.page.selectOption('#default-language', 'en');
  await Promise.all([coordinator.page.waitForURL('**/admin/channels?saved=language'),
                     coordinator.page.click('form[action="/admin/channels/language"] button')]);
  await coordinator.close();
});

test('every console page is clean at 320 and 1280 px, in English and Arabic', async () => {
  for (const lang of ['en', 'ar']) {
    for (const width of [320, 1280]) {
      const t = await open({ lang, width, height: width === 320 ? 640 : 900 });
      await logIn(t.page);
      for (const p of CONSOLE) {
        const r = await t.go(p);
        assert.equal(r.status(), 200, p);
        assert.equal(await t.page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
        assert.equal(await t.page.locator('.admin-nav [aria-current=page]').count(), 1, p);
        const name = p === '/admin/' ? 'overview' : p.split('/').pop();
        await axe(t.page, `${name} ${lang} ${width}`);
        assert.ok(await overflow(t.page) <= 0, `${p} scrolls sideways at ${width} px in ${lang}`);
        await t.page.screenshot({ path: path.join(shotsDir, `admin-${name}-${lang}-${width}.png`),
                                  fullPage: true });
      }
      await t.close();
    }
  }
});
