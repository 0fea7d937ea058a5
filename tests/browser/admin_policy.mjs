// Browser test of the link policy form (issue #16; policy_routes.h): the real `outpost` server
// with the demo curriculum, and Debian's chromium driven by playwright-core. Run by ctest
// (label "browser", test "browser_admin_policy"), or by hand after building:
//
//   node --test-reporter=spec tests/browser/admin_policy.mjs --outpost build/cc/cli/outpost \
//     --demo build/cc/demo/water-cycle --screenshots build/cc/browser-screenshots
//
// The coordinator (made with the setup code from the server's log) sets a day budget and a
// night window in the form, at 320 and 1280 px, in English and Arabic; the page after the
// redirect, and a reload, show the saved values; a value that is not a number shows its error
// beside the field and nothing is saved; axe-core finds nothing serious on any of them, and no
// page is wider than the screen.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  axeSerious, axeSource, launchChromium, overflow, startServer, testOptions, watch,
} from './harness.mjs';

const opts = testOptions('admin_policy.mjs');
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'craie blanche 7';
let server, browser, madeCoordinator = false;

before(async () => {
  browser = await launchChromium();
  server = await startServer(path.resolve(opts.outpost), path.resolve(opts.demo),
                             opts['web-root'] ? ['--web-root', path.resolve(opts['web-root'])] : []);
  fs.mkdirSync(shotsDir, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const r = await server.stop();
    if (!r.clean) throw new Error(`outpost serve ended badly; its data folder: ${r.dir}\n${r.log}`);
  }
});

// A coordinator's context in `lang` at `width` px: the first one is made with the setup code.
async function coordinator(lang, width) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  await context.addCookies([{ name: 'lang', value: lang, url: server.base }]);
  let r;
  if (!madeCoordinator) {
    const code = (server.log().match(/Setup code: ([a-z0-9-]+)/) || [])[1];
    assert.ok(code, `no setup code in the log:\n${server.log()}`);
    r = await context.request.post(server.base + '/api/v1/setup',
                                   { data: { code, name: 'rana', password: PASSWORD } });
    madeCoordinator = true;
  } else {
    r = await context.request.post(server.base + '/api/v1/login', { data: { name: 'rana', password: PASSWORD } });
  }
  assert.equal(r.status(), 200, await r.text());
  const problems = [];
  const page = watch(await context.newPage(), problems);
  return { context, page, problems };
}

const axeFound = [];
async function axe(page, name) {
  axeFound.push(...await axeSerious(page, AXE, name));
}

async function submit(page) {
  return Promise.all([page.waitForNavigation(), page.click('form[action="/admin/sync/policy"] button[type=submit]')]);
}

describe('the link policy form', () => {
  const cases = [['en', 320, '40', '22:00-06:00'], ['en', 1280, '50', '21:30-05:30'],
                 ['ar', 320, '60', '23:00-04:00'], ['ar', 1280, '75.5', '22:00-06:00']];
  for (const [lang, width, mb, night] of cases) {
    test(`${lang} at ${width} px: a budget and a night window are saved and shown again`, async () => {
      const { context, page, problems } = await coordinator(lang, width);
      const res = await page.goto(server.base + '/admin/sync/policy');
      assert.equal(res.status(), 200);
      assert.equal(await page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
      assert.equal(await page.getAttribute('.admin-nav a[aria-current=page]', 'href'), '/admin/sync');
      await page.fill('#p-day', mb);
      await page.fill('#p-windows', night);
      await page.check('#p-auto');
      const [nav] = await submit(page);
      assert.equal(nav.status(), 200);
      assert.equal(new URL(page.url()).search, '?done=saved');
      assert.equal(await page.locator('[role=status]').count(), 1);
      await page.reload();
      assert.equal(await page.inputValue('#p-day'), mb);
      assert.equal(await page.inputValue('#p-windows'), night);
      assert.ok(await page.isChecked('#p-auto'));
      await axe(page, `policy-${lang}-${width}`);
      assert.ok(await overflow(page) <= 0, 'the page is wider than the screen');
      await page.screenshot({ path: path.join(shotsDir, `policy-${lang}-${width}.png`), fullPage: true });
      await context.close();
      assert.deepEqual(problems, [], 'errors in the page');
    });
  }

  test('a value that is not a number shows its error beside the field, and nothing is saved', async () => {
    for (const [lang, width] of [['en', 320], ['ar', 1280]]) {
      const { context, page, problems } = await coordinator(lang, width);
      await page.goto(server.base + '/admin/sync/policy');
      const before = await page.inputValue('#p-day');
      await page.fill('#p-day', 'lots');
      await page.fill('#p-windows', '22h-6h');
      const [nav] = await submit(page);
      assert.equal(nav.status(), 422);
      assert.equal(await page.getAttribute('#p-day', 'aria-invalid'), 'true');
      assert.ok(await page.locator('#p-day-error').isVisible());
      assert.ok(await page.locator('#p-windows-error').isVisible());
      assert.equal(await page.locator('#p-interval-error').count(), 0);
      assert.equal(await page.inputValue('#p-day'), 'lots');  // what was typed stays
      await axe(page, `policy-error-${lang}-${width}`);
      assert.ok(await overflow(page) <= 0, 'the page is wider than the screen');
      await page.screenshot({ path: path.join(shotsDir, `policy-error-${lang}-${width}.png`), fullPage: true });
      await page.goto(server.base + '/admin/sync/policy');
      assert.equal(await page.inputValue('#p-day'), before);
      await context.close();
      assert.deepEqual(problems.filter((p) => !/status of 422/.test(p)), [], 'errors in the page');
    }
  });

  test('axe-core found nothing serious', () => {
    assert.deepEqual(axeFound, []);
  });
});
