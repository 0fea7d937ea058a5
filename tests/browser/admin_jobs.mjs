// Browser tests of the console's long actions (issue #16; docs/console-actions.md): "Sync now"
// with live progress through the link simulator, cancelled and resumed; a stick written for the
// hub and a stick from the hub read, through a folder standing for a USB drive; a day's data
// budget reached mid-sync, said plainly, and the sync after it raised; the automatic sync of
// `outpost serve` shown on the console as a job marked automatic. A real hub
// (`outpost hub serve`) behind `outpost-linksim`, a real site (`outpost serve`, its drives read
// from a fake mount table by `drives_root`), and Debian's chromium. Run by ctest (label
// "browser", test "browser_admin_jobs"), or by hand after building:
//
//   node --test-reporter=spec tests/browser/admin_jobs.mjs --outpost build/cc/cli/outpost \
//     --linksim build/cc/tests/linksim/outpost-linksim --demo build/cc/demo/water-cycle \
//     --screenshots build/cc/browser-screenshots

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {
  axeSerious, axeSource, freePort, launchChromium, logIn, openContext, overflow, runOutpost,
  startServer, testOptions,
} from './harness.mjs';

const opts = testOptions('admin_jobs.mjs', ['linksim']);
const OUTPOST = path.resolve(opts.outpost);
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const AXE = axeSource();
const PASSWORD = 'craie blanche 7';
const SAFETY_MS = 120000;  // a safety net for waits on events, never a measure

let tmp, hubData, stick, server, siteData, browser;
const children = [];

const run = (args, input) => runOutpost(OUTPOST, args, input);

// Starts `argv` and resolves with the first line of its output that matches `re`.
function startAndWaitFor(argv, re) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const onLine = (line) => { const m = re.exec(line); if (m) resolve(m); };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    child.on('exit', (code) => reject(new Error(`${argv[0]} exited (${code}) before ${re}`)));
  });
}

// A channel of the hub's, with 3 MB that do not compress: about 12 s over the simulated link.
function writeChannel(dir) {
  fs.mkdirSync(path.join(dir, 'media'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'outpost.toml'),
                   '[channel]\nid = "sciences"\ntitle = "Sciences"\nlanguage = "fr"\n');
  fs.writeFileSync(path.join(dir, 'index.html'),
                   '<!DOCTYPE html><html lang=fr><title>Sciences</title><p>Le cycle de l\'eau.</p></html>\n');
  fs.writeFileSync(path.join(dir, 'media/lecture.mp4'),
                   Buffer.concat([Buffer.from('\0\0\0\x18ftypisom', 'binary'), crypto.randomBytes(3000000)]));
}

// A fake /proc/self/mounts and /sys/block (docs/drives.md) with one USB stick at tmp/media/stick.
function writeDrives(root) {
  const mount = path.join(root, 'media/stick');
  fs.mkdirSync(mount, { recursive: true });
  fs.mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  fs.writeFileSync(path.join(root, 'proc/self/mounts'), `/dev/sdb1 ${mount} vfat rw,relatime 0 0\n`);
  fs.mkdirSync(path.join(root, 'sys/devices/usb1/block/sdb'), { recursive: true });
  fs.writeFileSync(path.join(root, 'sys/devices/usb1/block/sdb/removable'), '1\n');
  fs.mkdirSync(path.join(root, 'sys/block'), { recursive: true });
  fs.symlinkSync('../devices/usb1/block/sdb', path.join(root, 'sys/block/sdb'));
  fs.mkdirSync(path.join(root, 'dev/disk/by-label'), { recursive: true });
  return mount;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-jobs-'));
  hubData = path.join(tmp, 'hub');
  run(['hub', 'init', '--data', hubData]);
  writeChannel(path.join(tmp, 'sciences'));
  run(['publish', '--data', hubData, path.join(tmp, 'sciences')]);
  const syncPort = await freePort();
  await startAndWaitFor([OUTPOST, 'hub', 'serve', '--data', hubData, '--listen',
                         `127.0.0.1:${await freePort()}`, '--sync-listen', `127.0.0.1:${syncPort}`],
                        /answering syncs on/);
  const link = await startAndWaitFor([path.resolve(opts.linksim), '--target', `127.0.0.1:${syncPort}`,
                                      '--latency-ms', '50', '--rate-kbps', '2000'], /^listening (\S+)/);
  stick = writeDrives(path.join(tmp, 'drives'));
  const config = path.join(tmp, 'server.toml');
  fs.writeFileSync(config, `drives_root = ${JSON.stringify(path.join(tmp, 'drives'))}\n`);
  const web = opts['web-root'] ? ['--web-root', path.resolve(opts['web-root'])] : [];
  server = await startServer(OUTPOST, path.resolve(opts.demo), ['--config', config, ...web]);
  siteData = path.join(server.dir, 'data');
  const code = JSON.parse(run(['hub', 'enrol', '--data', hubData, '--name', 'ecole', '--json'])).code;
  run(['join', '--data', siteData, link[1], code]);
  run(['users', 'add', '--data', siteData, '--role', 'coordinator', 'rana'], `${PASSWORD}\n`);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const c of children) c.kill('SIGTERM');
  if (server) {
    const r = await server.stop();
    if (!r.clean) throw new Error(`outpost serve ended badly (exit ${r.code}); its log:\n${r.log}`);
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// A coordinator's fresh context, logged in.
async function open(options = {}) {
  const opened = await openContext(browser, server.base, options);
  await logIn(opened.page, server.base, 'rana', PASSWORD);
  return opened;
}

const axeFound = [];
async function axe(page, name) {
  axeFound.push(...await axeSerious(page, AXE, name));
}
async function shoot(page, name) {
  fs.mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}
async function jobs(page) {
  return (await page.request.get(server.base + '/api/v1/admin/jobs')).json();
}

describe('the console: sync now and the USB stick', () => {
  test('sync now shows live progress, cancels with what arrived kept, and the next one finishes', async () => {
    const t = await open();
    await t.go('/admin/sync');
    assert.equal(await t.page.locator('nav.admin-nav a[aria-current="page"]').getAttribute('href'), '/admin/sync');
    await Promise.all([t.page.waitForNavigation(), t.page.click('form[action="/admin/sync"] button')]);
    assert.match(new URL(t.page.url()).search, /done=started/);
    // The script fills the figures in once a second: wait for "… MB of … MB" with bytes in it.
    await t.page.waitForFunction(() => {
      const el = document.querySelector('[data-job=bytes]');
      return el && / of /.test(el.textContent) && !/^0\.0 MB/.test(el.textContent);
    }, null, { timeout: SAFETY_MS });
    await t.page.waitForFunction(() => document.querySelector('[data-job=rate]').textContent.includes('/s'),
                                 null, { timeout: SAFETY_MS });
    await shoot(t.page, 'en-admin-sync-running-1280');
    await axe(t.page, 'sync running');
    // A reload shows the same job under way, rendered by the server.
    await t.page.reload();
    assert.equal(await t.page.locator('form[action="/admin/jobs/cancel"]').count(), 1);
    assert.equal(await t.page.locator('form[action="/admin/sync"]').count(), 0, 'no second Sync now');
    await Promise.all([t.page.waitForNavigation(), t.page.click('form[action="/admin/jobs/cancel"] button')]);
    // When the job has ended the script reloads the page with its result.
    await t.page.waitForSelector('text=Cancelled:', { timeout: SAFETY_MS });
    const first = (await jobs(t.page)).sync;
    assert.equal(first.state, 'cancelled');
    assert.ok(first.result.bytes_received > 0 && first.result.bytes_received < 3000000, JSON.stringify(first));
    await shoot(t.page, 'en-admin-sync-cancelled-1280');
    await Promise.all([t.page.waitForNavigation(), t.page.click('form[action="/admin/sync"] button')]);
    await t.page.waitForSelector('text=channel(s) updated', { timeout: SAFETY_MS });
    const second = (await jobs(t.page)).sync;
    assert.equal(second.state, 'done');
    assert.equal(second.result.channels_updated, 1);
    // What the first staged was not fetched again.
    assert.ok(first.result.bytes_received + second.result.bytes_received < 3000000 + 600000,
              `${first.result.bytes_received} + ${second.result.bytes_received}`);
    await t.close();
  });

  test('a stick is written for the hub and a stick from the hub is read, through a folder standing for a drive', async () => {
    const t = await open();
    await t.go('/admin/usb');
    const drive = t.page.locator('input[name=drive]');
    assert.equal(await drive.count(), 1);
    assert.equal(await drive.getAttribute('value'), stick);
    await Promise.all([t.page.waitForNavigation(), t.page.click('text=Write a stick for the hub')]);
    await t.page.waitForSelector('text=the stick can be removed', { timeout: SAFETY_MS });
    const written = fs.readdirSync(stick).filter((f) => f.endsWith('.opb'));
    assert.ok(written.length >= 1, 'a volume on the stick');
    run(['bundle', 'import', '--data', hubData, stick]);  // the hub takes it
    for (const f of written) fs.rmSync(path.join(stick, f));
    // The hub publishes a new version and writes a stick for the school; the school reads it.
    fs.writeFileSync(path.join(tmp, 'sciences/pluie.html'), '<!DOCTYPE html><title>La pluie</title><p>Il pleut.</p>\n');
    run(['publish', '--data', hubData, path.join(tmp, 'sciences')]);
    run(['bundle', 'export', '--data', hubData, '--for', 'ecole', '--to', stick]);
    await t.go('/admin/usb');
    await Promise.all([t.page.waitForNavigation(), t.page.click('text=Read the stick')]);
    await t.page.waitForSelector('text=1 channel(s) updated', { timeout: SAFETY_MS });
    const read = (await jobs(t.page)).stick;
    assert.equal(read.state, 'done');
    assert.ok(read.result.bytes > 0, JSON.stringify(read));
    await t.close();
  });

  // The link policy's day budget, in MB, saved with the policy form ("0": none).
  async function setDayBudget(page, mb) {
    await page.goto(server.base + '/admin/sync/policy');
    await page.fill('#p-day', mb);
    await Promise.all([page.waitForNavigation(),
                       page.click('form[action="/admin/sync/policy"] button[type=submit]')]);
    assert.equal(new URL(page.url()).search, '?done=saved');
  }

  test('a budget reached mid-sync is said plainly, and the next sync after raising it finishes', async () => {
    // The hub publishes 3 MB more; the day's budget leaves about 1 MB for it.
    fs.writeFileSync(path.join(tmp, 'sciences/media/lecture-2.mp4'),
                     Buffer.concat([Buffer.from('\0\0\0\x18ftypisom', 'binary'), crypto.randomBytes(3000000)]));
    run(['publish', '--data', hubData, path.join(tmp, 'sciences')]);
    const t = await open();
    const policy = await (await t.page.request.get(server.base + '/api/v1/admin/policy')).json();
    await setDayBudget(t.page, ((policy.used_today_bytes + 1000000) / 1e6).toFixed(1));
    await t.go('/admin/sync');
    await Promise.all([t.page.waitForNavigation(), t.page.click('form[action="/admin/sync"] button')]);
    await t.page.waitForSelector('section.job:has-text("The day\'s data budget is spent")', { timeout: SAFETY_MS });
    const stopped = (await jobs(t.page)).sync;
    assert.equal(stopped.state, 'incomplete');
    assert.equal(stopped.trigger, 'console');
    assert.equal(stopped.result.budget, 'day');
    assert.equal(stopped.result.budget_reached, true);
    assert.ok(stopped.result.bytes_received > 0 && stopped.result.bytes_received < 3000000, JSON.stringify(stopped));
    await t.close();
    const said = { en: /The day's data budget is spent: .* The next sync continues from there\./,
                   ar: /نفدت حصة بيانات اليوم: .*المزامنة التالية تستأنف من هناك\./ };
    for (const lang of ['en', 'ar']) {
      for (const width of [320, 1280]) {
        const v = await open({ lang, width });
        await v.go('/admin/sync');
        assert.match(await v.page.textContent('section.job'), said[lang]);
        assert.ok((await overflow(v.page)) <= 0, `${lang} sync at ${width} px scrolls sideways`);
        await axe(v.page, `${lang} sync budget spent ${width}`);
        await shoot(v.page, `${lang}-admin-sync-budget-${width}`);
        await v.close();
      }
    }
    const u = await open();
    await setDayBudget(u.page, '0');
    await u.go('/admin/sync');
    await Promise.all([u.page.waitForNavigation(), u.page.click('form[action="/admin/sync"] button')]);
    await u.page.waitForSelector('section.job:has-text("channel(s) updated")', { timeout: SAFETY_MS });
    const done = (await jobs(u.page)).sync;
    assert.equal(done.state, 'done');
    assert.equal(done.result.channels_updated, 1);
    // What the stopped sync fetched was kept, not fetched again.
    assert.ok(stopped.result.bytes_received + done.result.bytes_received < 3000000 + 600000,
              `${stopped.result.bytes_received} + ${done.result.bytes_received}`);
    await u.close();
  });

  test('the automatic sync of `outpost serve` runs as the console\'s job: shown, marked, and it finishes', async () => {
    fs.writeFileSync(path.join(tmp, 'sciences/neige.html'), '<!DOCTYPE html><title>La neige</title><p>Il neige.</p>\n');
    run(['publish', '--data', hubData, path.join(tmp, 'sciences')]);
    const t = await open();
    const before = (await jobs(t.page)).sync.id;
    await t.page.goto(server.base + '/admin/sync/policy');
    await t.page.check('#p-auto');
    await Promise.all([t.page.waitForNavigation(),
                       t.page.click('form[action="/admin/sync/policy"] button[type=submit]')]);
    // The scheduler reads the policy at least once a minute, then finds the hub answering.
    const deadline = Date.now() + SAFETY_MS;
    let sync;
    for (;;) {
      sync = (await jobs(t.page)).sync;
      if (sync.id !== before && !sync.running) break;
      assert.ok(Date.now() < deadline, `no automatic sync ended: ${JSON.stringify(sync)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(sync.trigger, 'schedule');
    assert.equal(sync.state, 'done', JSON.stringify(sync));
    assert.equal(sync.result.channels_updated, 1);
    await t.go('/admin/sync');
    assert.match(await t.page.textContent('section.job'), /Started automatically by the link policy\./);
    await shoot(t.page, 'en-admin-sync-automatic-1280');
    await t.page.goto(server.base + '/admin/sync/policy');  // off again, for the next test
    await t.page.uncheck('#p-auto');
    await Promise.all([t.page.waitForNavigation(),
                       t.page.click('form[action="/admin/sync/policy"] button[type=submit]')]);
    await t.close();
  });

  test('the pages without JavaScript, at 320 and 1280 px, in English and Arabic, axe-core clean', async () => {
    for (const lang of ['en', 'ar']) {
      for (const width of [320, 1280]) {
        for (const js of [true, false]) {
          const t = await open({ lang, width, js });
          for (const name of ['sync', 'usb']) {
            await t.go(`/admin/${name}`);
            assert.equal(await t.page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
            assert.ok((await overflow(t.page)) <= 0, `${lang} ${name} at ${width} px scrolls sideways`);
            if (js) {
              await axe(t.page, `${lang} ${name} ${width}`);
              await shoot(t.page, `${lang}-admin-${name}-${width}`);
            } else {
              assert.equal(await t.page.locator(`form[action="/admin/${name === 'sync' ? 'sync' : 'usb/write'}"]`).count(), 1);
            }
          }
          await t.close();
        }
      }
    }
    console.log(`# screenshots in ${shotsDir}`);
    assert.deepEqual(axeFound, [], 'serious or critical accessibility violations');
  });
});
