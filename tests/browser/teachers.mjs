// Browser tests of the teachers' pages (issue #15): the real `outpost` server with the demo
// curriculum and no account yet, and Debian's chromium driven by playwright-core. Run by ctest
// (label "browser"; tests/CMakeLists.txt, test "browser_teachers"):
//
//   ctest --test-dir build/cc -L browser --output-on-failure
//
// or by hand, after building (add --web-root web-ui to test the web-ui files as edited):
//
//   node --test-reporter=spec tests/browser/teachers.mjs --outpost build/cc/cli/outpost \
//     --demo build/cc/demo/water-cycle --screenshots build/cc/browser-screenshots
//
// In order, on one server: a learner is refused on every teacher page; the first-run page makes
// the coordinator with the setup code read from the server's log; login with a wrong password
// and the lockout message; an upload of several files with their progress bars, the connection
// cut twice mid-file (a PATCH aborted, then the browser offline) and the resume; the same form
// without JavaScript; placing, editing, moving and deleting (the confirmation without
// JavaScript); a learner who sees the new lesson and finds it by search; axe-core on every page
// and screenshots at 320 and 1280 px in English, French and Arabic.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  axeSerious, axeSource, launchChromium, logIn as logInAt, openContext, overflow, pathOf,
  startServer, testOptions,
} from './harness.mjs';

const opts = testOptions('teachers.mjs');
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'craie blanche 7';
const PIECE = 256 * 1024;  // the tus client's PATCH size here: several pieces per file

let server, browser, files;

// The files a teacher uploads: a lesson page big enough to take several pieces, a small one,
// and a worksheet of bytes no sniffer knows.
function writeFiles() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-teacher-'));
  const filler = '<p>Le magma monte sous la croûte et sort par le cratère.</p>\n'.repeat(20000);
  const big = `<!doctype html><html lang=fr><title>Les volcans</title><h1>Les volcans</h1>\n${filler}</html>`;
  const write = (name, data) => { fs.writeFileSync(path.join(dir, name), data); return path.join(dir, name); };
  return {
    dir,
    big: write('volcans.html', big),
    small: write('pluie.html', '<!doctype html><html lang=fr><title>La pluie</title><p>Une averse tombe sur le village.</p></html>'),
    sheet: write('fiche.bin', Buffer.alloc(70000, 7)),
    nojs: write('séismes.html', '<!doctype html><html lang=fr><title>Les séismes</title><p>La terre tremble.</p></html>'),
  };
}

before(async () => {
  files = writeFiles();
  browser = await launchChromium();
  server = await startServer(path.resolve(opts.outpost), path.resolve(opts.demo),
                             opts['web-root'] ? ['--web-root', path.resolve(opts['web-root'])] : []);
  console.log(`# outpost at ${server.base}, chromium ${browser.version()}`);
});

after(async () => {
  if (files) fs.rmSync(files.dir, { recursive: true, force: true });
  if (browser) await browser.close();
  if (server) {
    const r = await server.stop();
    if (!r.clean) {
      throw new Error(`outpost serve ended badly (exit ${r.code}, signal ${r.signal}); ` +
                      `its data folder is kept in ${r.dir}. Its log:\n${r.log}`);
    }
  }
});

// A fresh context (no cookies) and a page in it, watched for script errors and failed requests;
// `expected` are problems the test causes on purpose (a 401 page, a refused form, a cut PATCH).
const open = (options) => openContext(browser, server.base, options);
const REFUSED = /status of (401|422)/;  // Chromium logs a page answered 401 or 422 as an error

const logIn = (page, name, password = PASSWORD) => logInAt(page, server.base, name, password);

const axeFound = [];
async function axe(page, name) {
  axeFound.push(...await axeSerious(page, AXE, name));
}

const TEACHER_PAGES = ['/teach/', '/teach', '/teach/accounts', '/teach/edit?path=x.html', '/teach/delete?path=x.html'];
const TEACHER_FORMS = ['/teach/place', '/teach/accounts', '/teach/accounts/reset', '/teach/edit', '/teach/move', '/teach/delete', '/logout',
                       '/api/v1/uploads/form?back=/teach/'];

// A learner (no session) on every teacher page: the login page, 401, and nothing of a teacher's.
async function learnerIsRefused(secret) {
  const t = await open();
  for (const p of TEACHER_PAGES) {
    const r = await t.go(p);
    assert.equal(r.status(), 401, p);
    assert.equal(await t.page.locator('form[action="/login"]').count(), 1, `${p}: the login form`);
    if (secret) assert.ok(!(await t.page.content()).includes(secret), `${p} shows ${secret}`);
  }
  for (const p of TEACHER_FORMS) {
    const r = await t.page.request.post(server.base + p, { form: { path: 'x', upload: 'x' } });
    assert.equal(r.status(), 401, p);
  }
  await t.close([REFUSED]);
}

describe('teachers\' pages', () => {
  test('a learner is refused on every teacher page before any account exists', async () => {
    await learnerIsRefused(null);
  });

  test('first run: the setup code from the log makes the coordinator', async () => {
    const code = (server.log().match(/Setup code: ([a-z0-9-]+)/) || [])[1];
    assert.ok(code, `no setup code in the log:\n${server.log()}`);
    const t = await open({ width: 320, height: 640 });
    const { page } = t;
    await t.go('/login');
    assert.equal(pathOf(page), '/setup');  // no coordinator yet
    await axe(page, 'setup');
    fs.mkdirSync(shotsDir, { recursive: true });
    await page.screenshot({ path: path.join(shotsDir, 'teach-setup-320.png'), fullPage: true });
    await page.fill('#code', 'AAAA-BBBB-CCCC');
    await page.fill('#name', 'rana');
    await page.fill('#password', PASSWORD);
    await page.click('form[action="/setup"] button');
    await page.waitForLoadState();
    assert.match(await page.locator('[role=alert]').innerText(), /Wrong setup code/);
    await page.fill('#code', code.toUpperCase());  // typed as it comes: the case does not count
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/setup"] button')]);
    assert.equal(pathOf(page), '/teach/');
    assert.equal(await page.locator('header .who bdi').innerText(), 'rana');
    // The coordinator adds the teachers on the accounts page.
    await page.click('.who a[href="/teach/accounts"]');
    await page.waitForLoadState();
    for (const name of ['amira', 'karim']) {
      await page.fill('#a-name', name);
      await page.fill('#a-password', PASSWORD);
      await Promise.all([page.waitForURL('**/teach/accounts?done=added'), page.click('form[action="/teach/accounts"] button')]);
    }
    const people = await page.locator('ul.people li > strong').allInnerTexts();
    assert.deepEqual(people.sort(), ['amira', 'karim', 'rana']);
    await axe(page, 'accounts');
    await Promise.all([page.waitForNavigation(), page.click('.who button')]);  // log out
    assert.equal(pathOf(page), '/login');
    assert.equal((await t.go('/setup')).url(), server.base + '/login');  // never again
    await t.close([REFUSED]);
  });

  test('login: a wrong password says so, the lockout says for how many minutes', async () => {
    const t = await open();
    const { page } = t;
    await logIn(page, 'karim', 'not the password');
    assert.equal(pathOf(page), '/login');
    assert.equal(await page.locator('[role=alert]').innerText(), 'Wrong name or password.');
    assert.equal(await page.inputValue('#name'), 'karim');
    for (let i = 0; i < 4; i++) await logIn(page, 'karim', 'still not it');
    assert.match(await page.locator('[role=alert]').innerText(),
                 /this account is locked\. Try again in 15 minute\(s\)/);
    await axe(page, 'login-error');
    await page.screenshot({ path: path.join(shotsDir, 'teach-login-locked-1280.png') });
    await t.close([REFUSED]);
  });

  test('upload: several files with progress bars, the connection cut twice and resumed', async () => {
    const t = await open();
    const { page, context } = t;
    await logIn(page, 'amira');
    assert.equal(pathOf(page), '/teach/');
    await page.evaluate((piece) => document.querySelector('form[data-tus]').setAttribute('data-piece', piece), PIECE);
    const seen = [];
    let patches = 0;
    let offlineDone;
    const backOnline = new Promise((r) => { offlineDone = r; });
    await page.route('**/api/v1/uploads/*', async (route) => {
      const req = route.request();
      seen.push(req.method());
      if (req.method() !== 'PATCH') return route.continue();
      patches++;
      if (patches === 2) return route.abort('connectionreset');  // the Wi-Fi drops
      if (patches === 4) {  // the browser goes offline mid-file, then comes back
        await context.setOffline(true);
        await route.abort('internetdisconnected');
        await page.locator('.transfers .hint', { hasText: 'Connection lost' }).first().waitFor();
        await context.setOffline(false);
        offlineDone();
        return;
      }
      return route.continue();
    });
    await page.setInputFiles('#files', [files.big, files.small, files.sheet]);
    const done = page.waitForURL('**/teach/?done=uploaded', { timeout: 60000 });
    await page.click('form[data-tus] button[type=submit]');
    assert.equal(await page.locator('.transfers progress').count(), 3);  // one bar per file
    await page.screenshot({ path: path.join(shotsDir, 'teach-uploading-1280.png') });
    await backOnline;
    await done;
    const bigSize = fs.statSync(files.big).size;
    assert.ok(patches >= Math.ceil(bigSize / PIECE) + 2, `only ${patches} PATCH requests`);
    assert.ok(seen.filter((m) => m === 'HEAD').length >= 2, `no HEAD to resume: ${seen}`);
    assert.match(await page.locator('[role=status]').innerText(), /Uploaded/);
    const waiting = await page.locator('form.place h3').allInnerTexts();
    assert.deepEqual(waiting.sort(), ['fiche.bin', 'pluie.html', 'volcans.html']);
    // Every byte arrived once, in order: the server's size is the file's.
    const list = await (await page.request.get(server.base + '/api/v1/uploads')).json();
    const big = list.uploads.find((u) => u.filename === 'volcans.html');
    assert.equal(big.length, bigSize);
    assert.equal(big.offset, bigSize);
    assert.ok(big.finished);
    await t.close([/uploads\/[0-9a-f]{32}: request failed/, /ERR_CONNECTION_RESET|ERR_INTERNET_DISCONNECTED/]);
  });

  test('upload without JavaScript: the plain form', async () => {
    const t = await open({ js: false, width: 320, height: 640 });
    const { page } = t;
    await logIn(page, 'amira');
    assert.equal(pathOf(page), '/teach/');
    await page.setInputFiles('#files', [files.nojs]);
    await Promise.all([page.waitForURL('**/teach/?done=uploaded'), page.click('form#upload button[type=submit]')]);
    assert.ok((await page.locator('form.place h3').allInnerTexts()).includes('séismes.html'));
    await t.close();
  });

  test('place, edit and move with JavaScript; delete without it; a learner finds the lesson', async () => {
    const t = await open();
    const { page } = t;
    await logIn(page, 'amira');
    const place = async (file, fields) => {
      const form = page.locator('form.place', { has: page.locator('h3', { hasText: file }) });
      for (const [name, value] of Object.entries(fields)) {
        await form.locator(`[name=${name}]`).fill(value);
      }
      await Promise.all([page.waitForURL('**/teach/?done=placed'), form.locator('button[type=submit]').click()]);
    };
    await place('volcans.html', { topic: 'Grade 5 / Science', title: 'Les volcans', language: 'fr', grade: '5', license: 'CC BY 4.0' });
    await place('pluie.html', { topic: 'Grade 5 / Science', title: 'La pluie', language: 'fr' });
    await place('fiche.bin', { topic: 'Grade 5 / Maths', title: 'Fiche de calcul' });
    const refused = page.locator('form.place', { has: page.locator('h3', { hasText: 'séismes.html' }) });
    await refused.locator('[name=title]').evaluate((el) => { el.removeAttribute('required'); el.value = ' '; });
    await refused.locator('button[type=submit]').click();
    await page.waitForLoadState();
    assert.match(await page.locator('[role=alert]').innerText(), /Something typed cannot be used[\s\S]*title/);
    const titles = await page.locator('ul.mine li > a').allInnerTexts();
    assert.deepEqual(titles.sort(), ['Fiche de calcul', 'La pluie', 'Les volcans']);

    // A learner sees it at once and finds it by search.
    const learner = await open();
    await learner.go('/search?q=magma');
    await learner.page.locator('ol.results a', { hasText: 'Les volcans' }).click();
    await learner.page.waitForLoadState();
    assert.match(learner.page.url(), /\/r\/.+\/grade-5\/science\/les-volcans\.html$/);
    await learner.go('/search?q=averse');
    assert.deepEqual(await learner.page.locator('ol.results a').allInnerTexts(), ['La pluie']);
    await learner.close();

    // Edit, then move.
    await page.locator('ul.mine li', { hasText: 'Les volcans' }).locator('a', { hasText: 'Edit' }).click();
    await page.waitForLoadState();
    await axe(page, 'edit');
    await page.fill('#e-title', 'Les volcans actifs');
    await page.fill('#e-description', 'Pour le CM2');
    await Promise.all([page.waitForURL('**/teach/?done=edited'), page.click('form[action="/teach/edit"] button')]);
    await page.locator('ul.mine li', { hasText: 'Les volcans actifs' }).locator('a', { hasText: 'Edit' }).click();
    await page.waitForLoadState();
    await page.fill('#move-topic', 'Grade 6 / Geography');
    await Promise.all([page.waitForURL('**/teach/?done=moved'), page.click('form[action="/teach/move"] button')]);
    assert.match(await page.locator('ul.mine li', { hasText: 'Les volcans actifs' }).innerText(), /Grade 6 \/ Geography/);
    await t.close([REFUSED]);

    // Delete, with the confirmation page, without JavaScript.
    const nojs = await open({ js: false });
    await logIn(nojs.page, 'amira');
    await nojs.page.locator('ul.mine li', { hasText: 'La pluie' }).locator('a', { hasText: 'Delete' }).click();
    await nojs.page.waitForLoadState();
    assert.match(await nojs.page.locator('main').innerText(), /Learners will no longer see it/);
    await Promise.all([nojs.page.waitForURL('**/teach/?done=deleted'), nojs.page.click('form[action="/teach/delete"] button')]);
    const left = await nojs.page.locator('ul.mine li > a').allInnerTexts();
    assert.deepEqual(left.sort(), ['Fiche de calcul', 'Les volcans actifs']);
    await nojs.close();

    const after = await open();
    await after.go('/search?q=magma');
    assert.deepEqual(await after.page.locator('ol.results a').allInnerTexts(), ['Les volcans actifs']);
    await after.go('/search?q=averse');
    assert.equal(await after.page.locator('ol.results a').count(), 0);
    await after.close();
  });

  test('a learner is still refused on every teacher page, and sees none of it', async () => {
    await learnerIsRefused('Fiche de calcul');
  });

  test('axe-core and screenshots at 320 and 1280 px in English, French and Arabic', async () => {
    const wrong = [];
    for (const lang of ['en', 'fr', 'ar']) {
      for (const width of [320, 1280]) {
        const t = await open({ lang, width, height: width < 400 ? 640 : 800 });
        const { page } = t;
        const pages = [['login', '/login']];
        for (const [name, url] of pages) {
          await t.go(url);
          await page.screenshot({ path: path.join(shotsDir, `${lang}-teach-${name}-${width}.png`), fullPage: true });
          if (width === 320) await axe(page, `${lang} ${name}`);
        }
        await logIn(page, 'amira');
        const edit = await page.locator('ul.mine li a[href^="/teach/edit"]').first().getAttribute('href');
        const del = await page.locator('ul.mine li a[href^="/teach/delete"]').first().getAttribute('href');
        for (const [name, url] of [['materials', '/teach/'], ['edit', edit], ['delete', del]]) {
          await t.go(url);
          assert.equal(await page.locator('html').getAttribute('dir'), lang === 'ar' ? 'rtl' : 'ltr');
          await page.screenshot({ path: path.join(shotsDir, `${lang}-teach-${name}-${width}.png`), fullPage: true });
          if (width === 320) await axe(page, `${lang} ${name}`);
          const over = await overflow(page);
          if (over > 0) wrong.push(`${lang} ${name} at ${width} px is ${over} px too wide`);
        }
        await page.click('.who button');  // log out, and in as the coordinator
        await page.waitForLoadState();
        await logIn(page, 'rana');
        await t.go('/teach/accounts');
        await page.locator('ul.people details').first().evaluate((d) => { d.open = true; });
        await page.screenshot({ path: path.join(shotsDir, `${lang}-teach-accounts-${width}.png`), fullPage: true });
        if (width === 320) await axe(page, `${lang} accounts`);
        const over = await overflow(page);
        if (over > 0) wrong.push(`${lang} accounts at ${width} px is ${over} px too wide`);
        await t.close();
      }
    }
    console.log(`# screenshots in ${shotsDir}`);
    assert.deepEqual(wrong, []);
    assert.deepEqual(axeFound, [], 'serious or critical accessibility violations');
  });
});
