// The browser tests' plumbing: a real `outpost` server on a temporary data folder with the demo
// curriculum imported, and Debian's chromium driven by playwright-core (never a downloaded
// browser). Used by run.mjs.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
const require = createRequire(import.meta.url);

// What is missing is an error, never a skip: the messages say how to get it.
export function fail(message) {
  console.error(`browser tests: ${message}`);
  process.exit(1);
}

export function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch (e) {
    fail(`playwright-core is not installed in ${repoRoot}/node_modules (${e.code || e.message}).\n` +
         'Run deploy/install-deps.sh (it runs npm ci).');
  }
}

export function axeSource() {
  let file;
  try {
    file = require.resolve('axe-core/axe.min.js');
  } catch (e) {
    fail('axe-core is not installed: run deploy/install-deps.sh (it runs npm ci).');
  }
  return fs.readFileSync(file, 'utf8');
}

export const CHROMIUM = process.env.OUTPOST_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

// Chromium, headless. playwright's launch() gives every browser a fresh, temporary profile
// (user data dir) and deletes it on close.
export async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    fail(`chromium was not found at ${CHROMIUM}. Install it with deploy/install-deps.sh ` +
         '(Debian package "chromium"), or point OUTPOST_CHROMIUM at a Chromium binary.');
  }
  const { chromium } = loadPlaywright();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Imports `demo`, then each folder of `more`, into a new data folder and serves it (`serveArgs`
// are added to `outpost serve`). With `hub`, the folder is made a hub first (`outpost hub
// init`) and served by `outpost hub serve` (give --sync-listen in serveArgs). Returns
// {base, stop(), log(), dir, data}.
export async function startServer(outpost, demo, serveArgs = [], more = [], { hub = false } = {}) {
  if (!outpost || !fs.existsSync(outpost)) fail(`the outpost binary ${outpost} does not exist: build it first`);
  if (!demo || !fs.existsSync(path.join(demo, 'outpost.toml'))) {
    fail(`the built demo channel ${demo} does not exist: build the demo_curriculum target first`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-browser-'));
  const data = path.join(tmp, 'data');
  for (const folder of [demo, ...more]) {
    const imp = spawnSync(outpost, ['import', '--data', data, folder], { encoding: 'utf8' });
    if (imp.status !== 0) {
      fail(`outpost import of ${folder} failed (exit ${imp.status}):\n${imp.stdout}${imp.stderr}`);
    }
  }
  if (hub) {
    const init = spawnSync(outpost, ['hub', 'init', '--data', data], { encoding: 'utf8' });
    if (init.status !== 0) fail(`outpost hub init failed:\n${init.stdout}${init.stderr}`);
  }
  const logFile = path.join(tmp, 'serve.log');
  let child = null;
  let base = null;
  for (let attempt = 0; attempt < 3 && !base; attempt++) {
    const port = await freePort();
    const out = fs.openSync(logFile, 'a');
    const command = hub ? ['hub', 'serve'] : ['serve'];
    child = spawn(outpost, [...command, '--data', data, '--listen', `127.0.0.1:${port}`, ...serveArgs],
                  { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    let exited = false;
    child.on('exit', () => { exited = true; });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300 && !exited; i++) {  // up to 30 s (sanitizer builds start slowly)
      try {
        const r = await fetch(url + '/');
        if (r.ok) { base = url; break; }
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    if (!base && !exited) child.kill('SIGKILL');
  }
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  if (!base) fail(`outpost serve did not start:\n${log()}`);
  const server = child;
  const killOnExit = () => { try { server.kill('SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);

  async function stop() {
    process.removeListener('exit', killOnExit);
    let code = server.exitCode, signal = server.signalCode;
    if (code === null && signal === null) {
      const done = new Promise((r) => server.once('exit', (c, s) => { code = c; signal = s; r(); }));
      server.kill('SIGTERM');
      const t = setTimeout(() => server.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(t);
    }
    const text = log();
    const sanitizer = /ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/.test(text);
    const clean = !sanitizer && (code === 0 || signal === 'SIGTERM');
    if (clean) fs.rmSync(tmp, { recursive: true, force: true });
    return { code, signal, clean, log: text, dir: tmp };
  }
  return { base, stop, log, dir: tmp, data };
}

// Watches a page for what should never happen on the learner pages: uncaught script errors,
// console errors (CSP violations show there) and failed requests.
export function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`${page.url()}: uncaught ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${page.url()}: console error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    // Media loads are cancelled on navigation, downloads abort their page request: not faults.
    if (/ERR_ABORTED/.test(why)) return;
    problems.push(`${r.url()}: request failed: ${why}`);
  });
  return page;
}

// A fresh browser context on `base` (no cookies but `cookies` and the `lang` cookie if given),
// its page watched. `close(expected)` fails the test on any problem not matched by one of
// `expected` (the 401s and 404s a test causes on purpose).
export async function openContext(browser, base, {
  lang, js = true, width = 1280, height = 900, headers, cookies = [], acceptDownloads = false,
} = {}) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width, height },
                                             extraHTTPHeaders: headers, acceptDownloads });
  if (lang) await context.addCookies([{ name: 'lang', value: lang, url: base }]);
  if (cookies.length) await context.addCookies(cookies);
  const problems = [];
  const page = watch(await context.newPage(), problems);
  return {
    context, page, problems,
    go: (p) => page.goto(base + p),
    async close(expected = []) {
      await context.close();
      const left = problems.filter((p) => !expected.some((re) => re.test(p)));
      if (left.length) throw new Error(`errors in the page:\n${left.join('\n')}`);
    },
  };
}

// Logs `page` in through the login form of `base`.
export async function logIn(page, base, name, password) {
  await page.goto(base + '/login');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
}

// Runs axe-core (`source`: axeSource()) on the page; returns the serious and critical
// violations as lines naming `name`, and prints the others without failing.
export async function axeSerious(page, source, name) {
  await page.evaluate(source);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = [];
  for (const v of result.violations) {
    const line = `${name}: [${v.impact}] ${v.id}: ${v.help} — ` +
                 v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
    if (v.impact === 'serious' || v.impact === 'critical') serious.push(line);
    else console.log(`# axe (not failing): ${line}`);
  }
  return serious;
}

// Clicks `selector` and waits for the page it leads to (a form's submit button, say).
export const submit = (page, selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);

// How far the page is wider than the window (0: nothing scrolls sideways), and its path.
export const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
export const pathOf = (page) => new URL(page.url()).pathname + new URL(page.url()).search;

// The options of a browser test run by ctest: --outpost BIN --demo DIR [--screenshots DIR]
// [--web-root DIR], and each of `needed` (more options it must have: 'linksim'). A missing one
// fails with the usage line of `script`.
export function testOptions(script, needed = []) {
  const options = { outpost: {}, demo: {}, screenshots: {}, 'web-root': {} };
  for (const name of needed) options[name] = {};
  for (const o of Object.values(options)) o.type = 'string';
  const { values } = parseArgs({ options });
  if (![...needed, 'outpost', 'demo'].every((name) => values[name])) {
    fail(`usage: node tests/browser/${script} --outpost BIN --demo DIR ` +
         needed.map((n) => `--${n} BIN `).join('') + '[--screenshots DIR] [--web-root DIR]');
  }
  return values;
}

// Runs `outpost` with `args` (and `input` on its stdin); a failure fails the test.
export function runOutpost(outpost, args, input) {
  const r = spawnSync(outpost, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`outpost ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

// Writes `files` (a path under `dir` -> its text), making the folders.
export function writeTree(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}
