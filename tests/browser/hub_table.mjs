// Browser test of the hub's table of schools and its usage page (issue #16 item 4,
// docs/hub-console.md): a hub started by the test, three schools made through the `outpost`
// binary as a courier and a coordinator would: one joins with a code and syncs over the link,
// one joins from an enrolment file and trades sticks (a folder standing for the drive) both
// ways, one joins with a code and is never heard from again. Run by ctest (label "browser";
// tests/CMakeLists.txt, "browser_hub_table"):
//
//   ctest --test-dir build/cc -L browser -R browser_hub_table --output-on-failure
//
// The table is read, sorted and filtered without JavaScript (links and a GET form), at 320 and
// 1280 px, in English and Arabic, axe-core clean, the page itself never wider than 320 px (the
// table scrolls in its own box).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  axeSerious, axeSource, freePort, launchChromium, openContext, overflow, pathOf, runOutpost,
  startServer, submit, testOptions, writeTree,
} from './harness.mjs';

const opts = testOptions('hub_table.mjs');
const OUTPOST = path.resolve(opts.outpost);
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'carte du pays 9';

let server, browser, syncAddress, work;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-hub-table-'));
  browser = await launchChromium();
  syncAddress = `127.0.0.1:${await freePort()}`;
  server = await startServer(OUTPOST, path.resolve(opts.demo), ['--sync-listen', syncAddress], [],
                             { hub: true });
  console.log(`# hub at ${server.base}, syncs on ${syncAddress}, chromium ${browser.version()}`);
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const r = await server.stop();
    if (!r.clean) {
      throw new Error(`outpost hub serve ended badly (exit ${r.code}, signal ${r.signal}); ` +
                      `its data folder is kept in ${r.dir}. Its log:\n${r.log}`);
    }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const run = (args) => runOutpost(OUTPOST, args);
const codeFor = (name) =>
  JSON.parse(run(['hub', 'enrol', '--data', server.data, '--name', name, '--address', syncAddress,
                  '--json'])).code;

const open = (options) => openContext(browser, server.base, { js: false, ...options });
const rowNames = (page) => page.locator('.hub-table tbody th bdi').allInnerTexts();

const axeFound = [];
async function axe(page, name) {
  axeFound.push(...await axeSerious(page, AXE, name));
}

let cookies = [];

const write = writeTree;

// Publishes data/publish/maths through the console's form; refreshes until it is done.
async function publishMaths() {
  const t = await open({ cookies });
  await t.go('/admin/hub/publish');
  await t.page.selectOption('#p-folder', 'maths');
  await submit(t.page, 'form[action="/admin/hub/publish"] button');
  for (let i = 0; i < 600 && await t.page.locator('.notice[role=status] a.button').count(); i++) {
    await t.page.reload();
  }
  const done = await t.page.locator('.notice.done').innerText();
  await t.close();
  return done;
}

describe('hub table', () => {
  test('a hub admin, and three schools: by link, by stick, and silent', async () => {
    const code = (server.log().match(/Setup code: ([a-z0-9-]+)/) || [])[1];
    assert.ok(code, `no setup code in the log:\n${server.log()}`);
    const t = await open();
    await t.go('/setup');
    await t.page.fill('#code', code);
    await t.page.fill('#name', 'hala');
    await t.page.fill('#password', PASSWORD);
    await submit(t.page, 'form[action="/setup"] button');
    cookies = await t.context.cookies();
    await t.close();

    const folder = path.join(server.data, 'publish', 'maths');
    write(folder, { 'outpost.toml': '[channel]\nid = "maths"\ntitle = "Maths"\n', 'a.txt': 'one' });
    assert.match(await publishMaths(), /maths version 1/);


    const file = path.join(work, 'ecole-stick.opef');
    run(['hub', 'enrol', '--data', server.data, '--name', 'ecole-stick', '--address', syncAddress,
         '--to', file]);
    const stuck = path.join(work, 'ecole-stick');
    const down = path.join(work, 'stick-down'), up = path.join(work, 'stick-up');
    fs.mkdirSync(down);
    fs.mkdirSync(up);
    run(['join', '--data', stuck, file]);
    run(['bundle', 'export', '--data', server.data, '--to', down, '--for', 'ecole-stick']);
    run(['bundle', 'import', '--data', stuck, down]);
    run(['bundle', 'export', '--data', stuck, '--to', up]);
    run(['bundle', 'import', '--data', server.data, up]);

    // maths 2: the school that came by stick is a version behind, the one that syncs is not.
    write(folder, { 'a.txt': 'one, then two' });
    assert.match(await publishMaths(), /maths version 2/);
    const linked = path.join(work, 'ecole-link');
    run(['join', '--data', linked, syncAddress, codeFor('ecole-link')]);
    run(['sync', '--data', linked]);

    run(['join', '--data', path.join(work, 'ecole-silent'), syncAddress, codeFor('ecole-silent')]);
  });

  test('the table shows how each school was last seen, and filters and sorts without script', async () => {
    const t = await open({ cookies });
    const { page } = t;
    await t.go('/admin/hub/');
    await submit(page, '.hub-nav a[href="/admin/hub/sites"]');
    assert.deepEqual(await rowNames(page), ['ecole-link', 'ecole-silent', 'ecole-stick']);
    const row = (name) => page.locator('.hub-table tbody tr', { has: page.locator(`bdi:text-is("${name}")`) });
    assert.match(await row('ecole-link').innerText(), /\blink\b[\s\S]*up to date[\s\S]*maths 2/);
    assert.match(await row('ecole-stick').innerText(), /USB stick[\s\S]*1 behind[\s\S]*maths 1 → 2/);
    assert.match(await row('ecole-silent').innerText(), /never[\s\S]*silent[\s\S]*no report yet/);

    await page.selectOption('#t-filter', 'silent');
    await submit(page, 'form.hub-filter button');
    assert.equal(pathOf(page), '/admin/hub/sites?sort=name&order=asc&q=&filter=silent');
    assert.deepEqual(await rowNames(page), ['ecole-silent']);

    await t.go('/admin/hub/sites');
    await page.fill('#t-q', 'STICK');
    await submit(page, 'form.hub-filter button');
    assert.deepEqual(await rowNames(page), ['ecole-stick']);

    await t.go('/admin/hub/sites');
    await submit(page, '.hub-table thead a:text-is("Last seen")');
    assert.equal(await page.getAttribute('.hub-table thead th[aria-sort]', 'aria-sort'), 'ascending');
    assert.equal((await rowNames(page))[0], 'ecole-silent');  // never seen comes first
    await submit(page, '.hub-table thead a:has-text("Last seen")');
    assert.equal(await page.getAttribute('.hub-table thead th[aria-sort]', 'aria-sort'), 'descending');
    assert.equal((await rowNames(page))[2], 'ecole-silent');

    const json = await (await page.request.get(server.base + '/api/v1/hub/sites?filter=silent')).json();
    assert.equal(json.count, 3);
    assert.equal(json.matched, 1);
    assert.equal(json.sites[0].name, 'ecole-silent');
    assert.equal(json.sites[0].last_seen, 0);
    const stick = (await (await page.request.get(server.base + '/api/v1/hub/sites?q=stick')).json()).sites[0];
    assert.equal(stick.last_via, 'stick');
    assert.equal(stick.report.via, 'stick');
    assert.deepEqual(stick.report.served.find((c) => c.channel === 'maths'),
                     { channel: 'maths', version: 1, latest: 2, behind: true });
    await t.close();
  });

  test('the table and the usage page at 320 and 1280 px, English and Arabic: axe-core clean', async () => {
    fs.mkdirSync(shotsDir, { recursive: true });
    const pages = { table: '/admin/hub/sites', usage: '/admin/hub/usage' };
    for (const lang of ['en', 'ar']) {
      for (const width of [320, 1280]) {
        const t = await open({ lang, width, height: width === 320 ? 640 : 900, cookies, js: true });
        for (const [name, p] of Object.entries(pages)) {
          const r = await t.go(p);
          assert.equal(r.status(), 200, `${p} (${lang}, ${width})`);
          assert.equal(await t.page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
          if (width === 320) assert.ok(await overflow(t.page) <= 0, `${p} scrolls sideways at 320 px (${lang})`);
          await axe(t.page, `${name}-${lang}-${width}`);
          await t.page.screenshot({ path: path.join(shotsDir, `hub-${name}-${lang}-${width}.png`), fullPage: true });
        }
        await t.close();
      }
    }
    assert.deepEqual(axeFound, [], 'axe-core found serious problems');
  });
});
