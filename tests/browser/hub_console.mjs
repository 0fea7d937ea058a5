// Browser test of the hub console (issue #16, docs/hub-console.md): a hub started by the test
// (`outpost hub init`, `outpost hub serve` with a sync listener), Debian's chromium driven by
// playwright-core. Run by ctest (label "browser"; tests/CMakeLists.txt, "browser_hub_console"):
//
//   ctest --test-dir build/cc -L browser -R browser_hub_console --output-on-failure
//
// or by hand:
//
//   node --test-reporter=spec tests/browser/hub_console.mjs --outpost build/cc/cli/outpost \
//     --demo build/cc/demo/water-cycle --screenshots build/cc/browser-screenshots
//
// In order, on one hub: the first-run page makes the hub admin; she makes an enrolment code for
// a school and downloads an enrolment file for another; the school joins with the code shown,
// publishes its own channel and syncs (so the review list has its materials); she publishes a
// folder twice and sees what changed between the two versions; adopts one reviewed item and
// declines another with a reason; revokes the school. Every page without JavaScript, at 320 and
// 1280 px, in English and Arabic, axe-core clean, no horizontal scrolling at 320 px.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  axeSerious, axeSource, freePort, launchChromium, openContext, overflow, pathOf, runOutpost,
  startServer, submit, testOptions, writeTree,
} from './harness.mjs';

const opts = testOptions('hub_console.mjs');
const OUTPOST = path.resolve(opts.outpost);
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'carte du pays 9';

let server, browser, syncAddress, work;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-hub-console-'));
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
const write = writeTree;

// A context (no cookies unless `cookies`), JavaScript off unless `js` (axe-core needs it): the
// console must work without it.
const open = (options) => openContext(browser, server.base, { js: false, acceptDownloads: true, ...options });
const REFUSED = /status of (401|422)/;

const axeFound = [];
async function axe(page, name) {
  axeFound.push(...await axeSerious(page, AXE, name));
}

let cookies = [];  // the hub admin's session, once logged in

describe('hub console', () => {
  test('first run on a hub makes a hub admin, who lands on the hub console', async () => {
    const code = (server.log().match(/Setup code: ([a-z0-9-]+)/) || [])[1];
    assert.ok(code, `no setup code in the log:\n${server.log()}`);
    assert.match(server.log(), /this hub has no hub admin yet/);
    const t = await open({ width: 320, height: 640 });
    const { page } = t;
    await t.go('/setup');
    await page.fill('#code', code);
    await page.fill('#name', 'hala');
    await page.fill('#password', PASSWORD);
    await submit(page, 'form[action="/setup"] button');
    assert.equal(pathOf(page), '/admin/hub/');
    assert.equal(await page.locator('.hub-nav a[href="/admin/hub/schools"]').count(), 1);
    const me = await (await page.request.get(server.base + '/api/v1/me')).json();
    assert.equal(me.role, 'hub-admin');
    cookies = await t.context.cookies();
    await t.close();
  });

  test('enrolment: a code for one school, an enrolment file for another', async () => {
    const t = await open({ cookies });
    const { page } = t;
    await t.go('/admin/hub/schools');
    await page.fill('#e-name', 'ecole-a');
    await submit(page, 'form[action="/admin/hub/enrol"] button[value="code"]');
    const shown = await page.locator('.code strong').innerText();
    assert.match(shown, /^[a-z0-9-]{10,}$/);
    await page.fill('#e-name', 'ecole-b');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('form[action="/admin/hub/enrol"] button[value="file"]'),
    ]);
    assert.equal(download.suggestedFilename(), 'ecole-b.opef');
    const saved = path.join(work, 'ecole-b.opef');
    await download.saveAs(saved);
    assert.equal(fs.readFileSync(saved).subarray(0, 4).toString('latin1'), 'OPEF');
    await t.go('/admin/hub/schools');
    const pending = await page.locator('#h-pending ~ ul li > bdi').allInnerTexts();
    assert.deepEqual(pending.sort(), ['ecole-a', 'ecole-b']);
    // The school joins with the code the page showed, publishes its own channel and syncs.
    const site = path.join(work, 'site');
    run(['join', '--data', site, syncAddress, shown]);
    write(path.join(work, 'notes'), {
      'outpost.toml': '[channel]\nid = "ecole-a-notes"\ntitle = "Nos notes"\nlanguage = "fr"\n',
      'cours.html': '<!DOCTYPE html><html lang="fr"><title>La photosynthèse</title><p>Les plantes vertes.</p></html>\n',
      'fiche.txt': 'Mesurer la pluie chaque jour.\n',
    });
    run(['publish', '--data', site, path.join(work, 'notes')]);
    run(['sync', '--data', site]);
    await t.close();
  });

  // Publishes data/publish/maths through the form and refreshes until it is done.
  async function publishMaths(page) {
    await page.goto(server.base + '/admin/hub/publish');
    await page.selectOption('#p-folder', 'maths');
    await submit(page, 'form[action="/admin/hub/publish"] button');
    for (let i = 0; i < 600 && await page.locator('.notice[role=status] a.button').count(); i++) {
      await page.reload();  // "publishing…" with its refresh button: a person would click it
    }
    return page.locator('.notice.done').innerText();
  }

  test('publish a folder twice and see what changed between the versions', async () => {
    const folder = path.join(server.data, 'publish', 'maths');
    write(folder, {
      'outpost.toml': '[channel]\nid = "maths"\ntitle = "Mathématiques"\n',
      'a.txt': 'one', 'b.txt': 'two two',
    });
    const t = await open({ cookies });
    const { page } = t;
    assert.match(await publishMaths(page), /maths version 1/);
    fs.rmSync(path.join(folder, 'a.txt'));
    write(folder, { 'b.txt': 'changed now', 'c.txt': 'three' });
    assert.match(await publishMaths(page), /maths version 2/);
    await t.go('/admin/hub/channels');
    await submit(page, 'form[action="/admin/hub/diff"]:has(input[value="maths"]) button');
    assert.equal(pathOf(page), '/admin/hub/diff?channel=maths&from=1&to=2');
    assert.deepEqual(await page.locator('.diff.added bdi[dir=ltr]').first().innerText(), 'c.txt');
    assert.deepEqual(await page.locator('.diff.removed li > bdi').allInnerTexts(), ['a.txt']);
    assert.match(await page.locator('.diff.changed li').innerText(), /b\.txt\s+7 B → 11 B/);
    await t.close();
  });

  test('review: adopt one item into a channel and decline another with a reason', async () => {
    const t = await open({ cookies });
    const { page } = t;
    await t.go('/admin/hub/review');
    const titles = await page.locator('.hub-review h2').allInnerTexts();
    assert.equal(titles.length, 2, titles.join(', '));
    assert.ok(titles.includes('La photosynthèse'), titles.join(', '));
    const other = titles.find((t) => t !== 'La photosynthèse');
    const item = (title) => page.locator('.hub-review > li', { has: page.locator(`h2:text-is("${title}")`) });
    const lesson = item('La photosynthèse');
    await lesson.locator('summary').first().click();
    await lesson.locator('select[name=channel]').selectOption('maths');
    await lesson.locator('input[name=topic]').fill('Grade 5/Science');
    await submit(page, '.hub-review > li:has(h2:text-is("La photosynthèse")) form[action$="/adopt"] button');
    assert.equal(pathOf(page), '/admin/hub/review?done=adopted');
    const sheet = item(other);
    await sheet.locator('summary').nth(1).click();
    await sheet.locator('textarea[name=reason]').fill('Already in the national channel.');
    await submit(page, `.hub-review > li:has(h2:text-is("${other}")) form[action$="/decline"] button`);
    assert.equal(pathOf(page), '/admin/hub/review?done=declined');
    assert.equal(await page.locator('.hub-review > li').count(), 0);
    const channels = await (await page.request.get(server.base + '/api/v1/hub/channels')).json();
    const maths = channels.channels.find((c) => c.id === 'maths');
    assert.equal(maths.served_version, 3);  // the adopted lesson, published
    await t.close();
  });

  test('revoke a school: a confirmation page, then it can no longer sync', async () => {
    const t = await open({ cookies });
    const { page } = t;
    await t.go('/admin/hub/schools');
    await submit(page, 'a[href="/admin/hub/revoke?site=ecole-a"]');
    assert.equal(pathOf(page), '/admin/hub/revoke?site=ecole-a');
    await submit(page, 'form[action="/admin/hub/revoke"] button');
    assert.equal(pathOf(page), '/admin/hub/schools?done=revoked');
    const list = await (await page.request.get(server.base + '/api/v1/hub/enrolments')).json();
    assert.equal(list.sites.find((s) => s.name === 'ecole-a').state, 'revoked');
    const again = spawnSync(OUTPOST, ['sync', '--data', path.join(work, 'site')], { encoding: 'utf8' });
    assert.notEqual(again.status, 0, 'a revoked school still syncs');
    await t.close();
  });

  test('every console page at 320 and 1280 px, in English and Arabic: axe-core clean', async () => {
    fs.mkdirSync(shotsDir, { recursive: true });
    const pages = {
      home: '/admin/hub/', channels: '/admin/hub/channels',
      diff: '/admin/hub/diff?channel=maths&from=1&to=2', publish: '/admin/hub/publish',
      review: '/admin/hub/review', schools: '/admin/hub/schools',
      revoke: '/admin/hub/revoke?site=ecole-b',
    };
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

  test('a learner and a publisher are refused where their role may not go', async () => {
    const learner = await open();
    assert.equal((await learner.go('/admin/hub/')).status(), 401);
    const post = await learner.page.request.post(server.base + '/admin/hub/publish', { form: { folder: 'maths' } });
    assert.equal(post.status(), 401);
    await learner.close([REFUSED]);
    // A publisher made on the hub's shell: the console, but not the schools.
    const add = spawnSync(OUTPOST, ['users', 'add', '--data', server.data, '--role', 'publisher', 'paul'],
                          { input: `${PASSWORD}\n`, encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    const t = await open();
    await t.go('/login');
    await t.page.fill('#name', 'paul');
    await t.page.fill('#password', PASSWORD);
    await submit(t.page, 'form[action="/login"] button');
    assert.equal(pathOf(t.page), '/admin/hub/');
    assert.equal(await t.page.locator('.hub-nav a[href="/admin/hub/schools"]').count(), 0);
    assert.equal((await t.go('/admin/hub/schools')).status(), 403);
    assert.equal((await t.go('/teach/')).status(), 403);
    await t.close([/status of 403/]);
  });
});
