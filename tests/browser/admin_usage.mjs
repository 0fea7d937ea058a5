// Browser test of the console's usage page (issue #16, item 2): the real `outpost` server with
// the demo curriculum, a coordinator made with `outpost users add`, and Debian's chromium
// driven by playwright-core. Run by ctest (label "browser"; tests/CMakeLists.txt, test
// "browser_admin_usage"):
//
//   ctest --test-dir build/cc -L browser -R browser_admin_usage --output-on-failure
//
// or by hand, after building:
//
//   node --test-reporter=spec tests/browser/admin_usage.mjs --outpost build/cc/cli/outpost \
//     --demo build/cc/demo/water-cycle --screenshots build/cc/browser-screenshots
//
// In order, on one server: a learner and a teacher are refused the page; a learner opens
// resource pages (and their files, which do not count); the coordinator sees the chart with
// those views, in English and Arabic, at 320 and 1280 px, axe-core clean, nothing wider than
// the screen; the figures' table and the JSON agree; the coordinator switches sending off and on
// with JavaScript off (a plain form, 303).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  axeSerious, axeSource, fail, launchChromium, logIn as logInAt, openContext, overflow,
  startServer, testOptions,
} from './harness.mjs';

const opts = testOptions('admin_usage.mjs');
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'tableau noir 5';
const PAGE = '/r/water-cycle/en/evaporation.html';

let server, browser;

function addUser(name, role) {
  const r = spawnSync(path.resolve(opts.outpost),
                      ['users', 'add', '--role', role, name, '--data', path.join(server.dir, 'data')],
                      { input: `${PASSWORD}\n`, encoding: 'utf8' });
  if (r.status !== 0) fail(`outpost users add ${name} failed: ${r.stdout}${r.stderr}`);
}

before(async () => {
  browser = await launchChromium();
  server = await startServer(path.resolve(opts.outpost), path.resolve(opts.demo),
                             opts['web-root'] ? ['--web-root', path.resolve(opts['web-root'])] : []);
  addUser('rana', 'coordinator');
  addUser('amira', 'teacher');
  fs.mkdirSync(shotsDir, { recursive: true });
  console.log(`# outpost at ${server.base}, chromium ${browser.version()}`);
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const r = await server.stop();
    if (!r.clean) {
      throw new Error(`outpost serve ended badly (exit ${r.code}, signal ${r.signal}); ` +
                      `its data folder is kept in ${r.dir}. Its log:\n${r.log}`);
    }
  }
});

const open = (options) => openContext(browser, server.base, options);
const REFUSED = /status of (401|403)/;

const logIn = (page, name) => logInAt(page, server.base, name, PASSWORD);

async function axe(page, name) {
  assert.deepEqual(await axeSerious(page, AXE, name), [], 'axe-core');
}

test('a learner and a teacher are refused the usage page', async () => {
  const learner = await open();
  assert.equal((await learner.go('/admin/usage')).status(), 401);
  assert.equal((await learner.page.request.get(server.base + '/api/v1/admin/usage')).status(), 401);
  await learner.close([REFUSED]);
  const teacher = await open();
  await logIn(teacher.page, 'amira');
  assert.equal((await teacher.go('/admin/usage')).status(), 403);
  await teacher.close([REFUSED]);
});

test('views of resource pages show in the chart; their files do not count', async () => {
  const learner = await open();
  for (let i = 0; i < 3; i++) assert.equal((await learner.go(PAGE)).status(), 200);
  await learner.page.request.get(server.base + '/c/water-cycle/en/evaporation.html');
  await learner.page.request.get(server.base + '/api/v1/r/water-cycle/en/evaporation.html');
  await learner.close();

  const t = await open();
  await logIn(t.page, 'rana');
  assert.equal((await t.go('/admin/usage?days=7')).status(), 200);
  assert.equal(await t.page.locator('.admin-nav a[aria-current="page"]').getAttribute('href'), '/admin/usage');
  const chart = t.page.locator('svg.chart[role="img"]').first();
  assert.ok(await chart.isVisible(), 'a chart');
  assert.match(await chart.locator('title').first().textContent(), /Views per day/);
  assert.equal(await t.page.locator('svg.chart rect').count() >= 7, true);
  const top = t.page.locator('.usage-top li').first();
  assert.match(await top.innerText(), /3 views/);
  const api = await t.page.request.get(server.base + '/api/v1/admin/usage?days=7');
  const view = await api.json();
  const channel = view.channels.find((c) => c.id === 'water-cycle');
  assert.equal(channel.total, 3);
  assert.equal(channel.top[0].resource, 'en/evaporation.html');
  assert.equal(channel.daily.at(-1).views, 3);
  await t.close();
});

for (const lang of ['en', 'ar']) {
  for (const width of [320, 1280]) {
    test(`the usage page in ${lang} at ${width} px: fits, axe-core clean`, async () => {
      const t = await open({ lang, width });
      await logIn(t.page, 'rana');
      assert.equal((await t.go('/admin/usage')).status(), 200);
      assert.equal(await t.page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
      assert.ok(await t.page.locator('svg.chart').first().isVisible());
      assert.ok((await overflow(t.page)) <= 0, 'wider than the screen');
      const box = await t.page.locator('svg.chart').first().boundingBox();
      assert.ok(box.width <= width, `the chart is ${box.width} px wide`);
      await axe(t.page, `/admin/usage ${lang} ${width}`);
      await t.page.screenshot({ path: path.join(shotsDir, `admin-usage-${lang}-${width}.png`), fullPage: true });
      await t.close();
    });
  }
}

test('the coordinator switches sending to the hub off and on without JavaScript', async () => {
  const t = await open({ js: false });
  await logIn(t.page, 'rana');
  await t.go('/admin/usage');
  await Promise.all([t.page.waitForNavigation(),
                     t.page.click('form[action="/admin/usage/sharing"] button')]);
  assert.equal(new URL(t.page.url()).search, '?done=off');
  assert.match(await t.page.locator('[role=status]').innerText(), /no longer be sent/);
  assert.equal((await (await t.page.request.get(server.base + '/api/v1/admin/usage')).json()).sharing, false);
  await Promise.all([t.page.waitForNavigation(),
                     t.page.click('form[action="/admin/usage/sharing"] button')]);
  assert.equal(new URL(t.page.url()).search, '?done=on');
  assert.equal((await (await t.page.request.get(server.base + '/api/v1/admin/usage')).json()).sharing, true);
  await t.close();
});
