// Browser tests of the learner pages: the real `outpost` server with the demo curriculum, and
// Debian's chromium (headless) driven by playwright-core from node_modules. Run by ctest
// (label "browser"; tests/CMakeLists.txt):
//
//   ctest --test-dir build/dev -L browser --output-on-failure
//
// or by hand, after building:
//
//   node --test-reporter=spec tests/browser/run.mjs --outpost build/dev/cli/outpost \
//     --demo build/dev/demo/water-cycle --screenshots build/dev/browser-screenshots
//
// (add --web-root web-ui to test the templates, style sheet and script as they are on disk,
// without rebuilding; see web-ui/README.md)
//
// It imports the demo into a temporary data folder, serves it on a free port and checks, with
// JavaScript on and off: home → topic → lesson, video playback, seeking and 206 responses,
// subtitles, the PDF viewer and download, search in French and Arabic (accents and harakat
// folded), the language switcher (rtl, remembered by cookie), exercises, suggestions as you type,
// axe-core (no serious or critical violation), the weight of a topic page; and it saves
// screenshots at 320 and 1280 px. Nothing is skipped: a missing chromium, playwright-core or
// build output is a failure that says what to do. Needs no network.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { axeSource, fail, launchChromium, startServer, watch } from './harness.mjs';

const { values: opts } = parseArgs({
  options: {
    outpost: { type: 'string' },
    demo: { type: 'string' },
    screenshots: { type: 'string' },
    'web-root': { type: 'string' },  // passed to `outpost serve`: test web-ui files as edited
  },
});
if (!opts.outpost || !opts.demo) {
  fail('usage: node tests/browser/run.mjs --outpost BIN --demo DIR [--screenshots DIR] [--web-root DIR]');
}
const shotsDir = path.resolve(opts.screenshots || 'browser-screenshots');
const VIDEO = 'water-cycle-animation.mp4';
if (!fs.existsSync(opts.outpost)) fail(`the outpost binary ${opts.outpost} does not exist: build it first`);
if (!fs.existsSync(path.join(opts.demo, 'en', VIDEO))) {
  fail(`${opts.demo}/en/${VIDEO} does not exist: build the demo_curriculum target first`);
}
const videoSize = fs.statSync(path.join(opts.demo, 'en', VIDEO)).size;
const AXE = axeSource();
const started = Date.now();

let server, browser;

// A channel of one topic with 120 small lessons: three pages of 50, 50 and 20.
const LESSONS = 120;
function writeManyLessons() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-many-'));
  const root = path.join(dir, 'many-lessons');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'outpost.toml'), '[channel]\ntitle = "Many lessons"\n');
  for (let i = 1; i <= LESSONS; i++) {
    const n = String(i).padStart(3, '0');
    fs.writeFileSync(path.join(root, `lesson-${n}.html`),
                     `<!doctype html><html lang=en><title>Lesson ${n}: rain and rivers</title><p>Lesson ${n}.</p></html>`);
  }
  return { dir, root };
}
const many = writeManyLessons();

before(async () => {
  browser = await launchChromium();
  server = await startServer(path.resolve(opts.outpost), path.resolve(opts.demo),
                             opts['web-root'] ? ['--web-root', path.resolve(opts['web-root'])] : [],
                             [many.root]);
  console.log(`# outpost at ${server.base}, chromium ${browser.version()}`);
});

after(async () => {
  fs.rmSync(many.dir, { recursive: true, force: true });
  if (browser) await browser.close();
  if (server) {
    const r = await server.stop();
    console.log(`# screenshots: ${shotsDir}`);
    console.log(`# browser tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!r.clean) {  // a crash or a sanitizer report while serving the tests
      throw new Error(`outpost serve ended badly (exit ${r.code}, signal ${r.signal}); ` +
                      `its data folder is kept in ${r.dir}. Its log:\n${r.log}`);
    }
  }
});

// A fresh browser context (no cookies, no cache) and a page in it, watched for script errors,
// console errors and failed requests. `lang` sets the interface-language cookie.
async function open({ lang, js = true, width = 1280, height = 900, locale = 'en-US' } = {}) {
  const context = await browser.newContext({
    javaScriptEnabled: js, viewport: { width, height }, locale, acceptDownloads: true,
  });
  if (lang) await context.addCookies([{ name: 'lang', value: lang, url: server.base }]);
  const problems = [];
  const page = watch(await context.newPage(), problems);
  return {
    context, page, problems,
    go: (p) => page.goto(server.base + p),
    async close() {
      await context.close();
      assert.deepEqual(problems, [], 'errors in the page');
    },
  };
}

const htmlAttrs = (page) => page.evaluate(() => ({
  lang: document.documentElement.lang, dir: document.documentElement.dir,
  direction: getComputedStyle(document.body).direction,
}));
const texts = (locator) => locator.allTextContents();
// Pictures of the page that did not load or could not be decoded (a wrong Content-Type, say).
// Thumbnails are loading="lazy", which the load event does not wait for: give them up to 5 s
// to finish first.
const brokenImages = async (page) => {
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null,
                             { timeout: 5000 }).catch(() => {});
  return page.evaluate(() =>
    [...document.images].filter((i) => !i.complete || !i.naturalWidth).map((i) => i.getAttribute('src')));
};
const pathOf = (page) => new URL(page.url()).pathname;

// Answers the English quiz: four right, the last one wrong.
async function answerEnglishQuiz(page) {
  await page.check('input[name=q0][value="0"]');
  await page.check('input[name=q1][value="1"]');
  await page.fill('#q2', '97');
  await page.fill('#q3', 'Precipitation');
  await page.fill('#q4', 'sand');
  await submitExercise(page);
}

async function submitExercise(page) {
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click('form.exercise button[type=submit]'),
  ]);
  await page.locator('#score').waitFor();
}

async function checkQuizFeedback(page, ok, ko) {
  assert.equal(await page.locator('fieldset.q.ok').count(), ok, 'right answers');
  assert.equal(await page.locator('fieldset.q.ko').count(), ko, 'wrong answers');
  assert.equal(await page.locator('fieldset.q p.fb').count(), ok + ko, 'feedback per question');
  assert.match(await page.locator('#score').textContent(), new RegExp(`${ok}\\s*/\\s*${ok + ko}`));
}

// Searches from the header's search box, as a learner would.
async function search(page, query) {
  await page.fill('#q', query);
  await Promise.all([page.waitForURL(/\/search\?/), page.press('#q', 'Enter')]);
  await page.locator('main').waitFor();
}

async function checkDownload(page, selector, name, magic) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  assert.equal(download.suggestedFilename(), name);
  const file = await download.path();
  assert.ok(fs.readFileSync(file).subarray(0, magic.length).equals(Buffer.from(magic)),
            `${name} downloaded whole`);
}

// The PDF canvas's pixels, and how they compare with another page's (the share of bytes that
// differ).
async function canvasPixels(page) {
  const { size, data } = await page.evaluate(() => {
    const c = document.querySelector('.pdf canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 4096) s += String.fromCharCode(...d.subarray(i, i + 4096));
    return { size: `${c.width}x${c.height}`, data: btoa(s) };
  });
  const bytes = Buffer.from(data, 'base64');
  return {
    size, bytes,
    diff(other) {
      let n = 0;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== other.bytes[i]) n++;
      return n / bytes.length;
    },
  };
}

async function waitForPdfCanvas(page) {
  await page.locator('.pdf canvas').waitFor({ timeout: 20000 });
  // Drawn, not blank: some dark pixels (the text of the summary).
  await page.waitForFunction(() => {
    const c = document.querySelector('.pdf canvas');
    if (!c || !c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 128) dark++;
    return dark > 500;
  }, null, { timeout: 20000 });
  // pdf.js draws in steps; the page label is set once the page is whole.
  await page.waitForFunction(() => (document.querySelector('.pdfpage') || {}).textContent,
                             null, { timeout: 20000 });
}

describe('learner pages in chromium', { concurrency: 1 }, () => {
  test('home → topic → lesson', async () => {
    const t = await open();
    const { page } = t;
    await t.go('/');
    assert.deepEqual(await htmlAttrs(page), { lang: 'en', dir: 'ltr', direction: 'ltr' });
    const homeImages = await brokenImages(page);  // checked at the end
    await page.click('main a[href="/t/water-cycle/"]');
    await page.waitForURL('**/t/water-cycle/');
    await page.locator('ul.items a', { hasText: 'Lessons in English' }).click();
    await page.waitForURL('**/t/water-cycle/en');
    assert.match(await page.locator('h1').textContent(), /Lessons in English/);
    const titles = await texts(page.locator('ul.items .title'));
    assert.ok(titles.includes('Watch: the water cycle in twelve seconds'), titles.join(' | '));
    await page.locator('ul.items a', { hasText: 'Evaporation' }).click();
    await page.waitForURL('**/r/water-cycle/en/evaporation.html');
    // The lesson itself, in its sandboxed frame, with its style sheet and pictures.
    const frame = page.frameLocator('iframe.page');
    assert.match(await frame.locator('h1').textContent(), /Evaporation/);
    assert.ok(await page.locator('.crumbs a', { hasText: 'Lessons in English' }).count());
    // The full page, served under /c/: its relative links to ../style and ../images resolve.
    const loaded = [];
    page.on('response', (r) => loaded.push([new URL(r.url()).pathname, r.status()]));
    await page.locator('.viewer a.button').click();
    await page.waitForURL('**/c/water-cycle/en/evaporation.html');
    await page.waitForLoadState('load');
    assert.ok(loaded.some(([p, s]) => p === '/c/water-cycle/style/lesson.css' && s === 200),
              JSON.stringify(loaded));
    assert.deepEqual(await brokenImages(page), []);
    assert.ok(await page.evaluate(() => document.images.length) > 0);
    await t.close();
    assert.deepEqual(homeImages, [], 'pictures that do not show on the home page');
  });

  test('video: plays, seeks, served with 206 Partial Content, subtitles in three languages', async () => {
    const t = await open({ lang: 'fr' });
    const { page } = t;
    const media = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === `/c/water-cycle/fr/${VIDEO}`) {
        media.push({ status: r.status(), range: r.headers()['content-range'] || '' });
      }
    });
    await t.go(`/r/water-cycle/fr/${VIDEO}`);
    assert.match(await page.locator('h1').textContent(), /Regarder/);
    const canPlay = await page.evaluate(() =>
      document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'));
    assert.notEqual(canPlay, '', 'this chromium cannot play H.264/AAC');
    await page.evaluate(() => {
      const v = document.querySelector('video');
      v.muted = true;  // autoplay policy: muted playback needs no user gesture
      return v.play();
    });
    await page.waitForFunction(() => document.querySelector('video').currentTime > 0.5);
    const seeked = await page.evaluate(() => new Promise((resolve, reject) => {
      const v = document.querySelector('video');
      v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
      v.addEventListener('error', () => reject(new Error(v.error && v.error.message)), { once: true });
      v.currentTime = 9.5;
    }));
    assert.ok(Math.abs(seeked - 9.5) < 0.2, `seeked to ${seeked}`);
    await page.waitForFunction(() => document.querySelector('video').currentTime > 9.7);
    assert.equal(await page.evaluate(() => document.querySelector('video').error), null);
    assert.ok(media.some((m) => m.status === 206 && new RegExp(`^bytes \\d+-\\d+/${videoSize}$`).test(m.range)),
              `no 206 for the video: ${JSON.stringify(media)}`);
    // The server pairs water-cycle-animation.LANG.vtt with the video.
    const tracks = await page.evaluate(() =>
      [...document.querySelector('video').textTracks].map((x) => x.language).sort());
    assert.deepEqual(tracks, ['ar', 'en', 'fr']);
    const cue = await page.evaluate(() => new Promise((resolve) => {
      const v = document.querySelector('video');
      v.pause();
      const track = [...v.textTracks].find((x) => x.language === 'fr');
      track.mode = 'showing';
      const poll = () => {
        if (track.cues && track.cues.length) {
          v.currentTime = 10;
          v.addEventListener('seeked', () => {
            setTimeout(() => resolve([...track.activeCues].map((c) => c.text).join(' / ')), 100);
          }, { once: true });
        } else {
          setTimeout(poll, 50);
        }
      };
      poll();
    }));
    assert.match(cue, /La pluie descend la colline/);
    await t.close();
  });

  test('PDF: pdf.js draws the page in a canvas; the download and open links work', async () => {
    const t = await open();
    const { page } = t;
    await t.go('/r/water-cycle/en/water-cycle-summary.pdf');
    await waitForPdfCanvas(page);
    assert.match(await page.locator('.pdfpage').textContent(), /1/);
    assert.equal(await page.locator('.pdf a.button').getAttribute('href'),
                 '/c/water-cycle/en/water-cycle-summary.pdf');
    await checkDownload(page, 'p.download a', 'water-cycle-summary.pdf', '%PDF-');
    const r = await page.request.get(server.base + '/c/water-cycle/en/water-cycle-summary.pdf');
    assert.equal(r.status(), 200);
    assert.equal(r.headers()['content-type'], 'application/pdf');
    const drawn = await canvasPixels(page);
    await t.close();
    // The same PDF in the Arabic interface must be drawn the same: pdf.js draws text with
    // fillText, which follows the canvas's inherited CSS direction.
    const ar = await open({ lang: 'ar' });
    await ar.go('/r/water-cycle/en/water-cycle-summary.pdf');
    await waitForPdfCanvas(ar.page);
    assert.equal((await htmlAttrs(ar.page)).dir, 'rtl');
    const drawnAr = await canvasPixels(ar.page);
    await ar.close();
    assert.equal(drawnAr.size, drawn.size, 'canvas size differs in the Arabic interface');
    assert.ok(drawnAr.diff(drawn) < 0.001,
              `the PDF is drawn differently in the Arabic interface (${(100 * drawnAr.diff(drawn)).toFixed(1)} % ` +
              'of the pixels differ): the canvas inherits direction: rtl; it needs direction: ltr');
  });

  test('search in French: "eleve" finds the lesson that says "élève"', async () => {
    const t = await open({ lang: 'fr' });
    const { page } = t;
    await t.go('/');
    await search(page, 'eleve');
    const hits = page.locator('ol.results li a[lang=fr]');
    assert.ok(await hits.count() >= 1, 'no French result');
    assert.match(await hits.first().getAttribute('href'), /^\/r\/water-cycle\/fr\/.+\.html$/);
    assert.ok((await texts(page.locator('ol.results mark'))).some((m) => /élève/i.test(m)));
    await hits.first().click();
    await page.waitForURL('**/r/water-cycle/fr/**');
    await t.close();
  });

  test('search in Arabic: words without harakat find lessons written with them', async () => {
    const t = await open({ lang: 'ar' });
    const { page } = t;
    await t.go('/');
    for (const query of ['الماء', 'التبخر']) {
      await search(page, query);
      const lessons = page.locator('ol.results li a[href^="/r/water-cycle/ar/"][href$=".html"]');
      assert.ok(await lessons.count() >= 1, `${query}: no Arabic lesson found`);
      const marks = await texts(page.locator('ol.results mark'));
      assert.ok(marks.some((m) => /[\u064B-\u0652]/.test(m)),
                `${query}: no match written with harakat among ${marks.join(', ')}`);
    }
    await t.close();
  });

  test('language switcher: Arabic is right-to-left and remembered by the cookie', async () => {
    const t = await open();
    const { page, context } = t;
    await t.go('/t/water-cycle/');
    assert.equal((await htmlAttrs(page)).dir, 'ltr');
    await page.click('nav.langs a[hreflang=ar]');
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), '/t/water-cycle/', 'the switcher leads back to the same page');
    assert.deepEqual(await htmlAttrs(page), { lang: 'ar', dir: 'rtl', direction: 'rtl' });
    assert.ok((await context.cookies()).some((c) => c.name === 'lang' && c.value === 'ar'));
    // Remembered on the next pages.
    await page.locator('ul.items a', { hasText: 'دروس باللغة العربية' }).click();
    await page.waitForURL('**/t/water-cycle/ar');
    assert.deepEqual(await htmlAttrs(page), { lang: 'ar', dir: 'rtl', direction: 'rtl' });
    await t.go('/search?q=water');
    assert.equal((await htmlAttrs(page)).dir, 'rtl');
    await page.click('nav.langs a[hreflang=fr]');
    await page.waitForLoadState('load');
    assert.deepEqual(await htmlAttrs(page), { lang: 'fr', dir: 'ltr', direction: 'ltr' });
    assert.match(page.url(), /\/search\?q=water$/);
    await t.close();
    // With no cookie, the browser's language decides.
    const fr = await open({ locale: 'fr-FR' });
    await fr.go('/');
    assert.equal((await htmlAttrs(fr.page)).lang, 'fr');
    await fr.close();
  });

  test('exercise: answers are posted and every question gets feedback', async () => {
    const t = await open();
    await t.go('/r/water-cycle/en/quiz.exercise.json');
    await answerEnglishQuiz(t.page);
    await checkQuizFeedback(t.page, 4, 1);
    // The answers stay filled in.
    assert.equal(await t.page.inputValue('#q3'), 'Precipitation');
    await t.close();
    // Arabic: Eastern Arabic digits and an answer written with harakat.
    const ar = await open({ lang: 'ar' });
    await ar.go('/r/water-cycle/ar/quiz.exercise.json');
    await ar.page.check('input[name=q0][value="0"]');
    await ar.page.check('input[name=q1][value="1"]');
    await ar.page.fill('#q2', '٩٧');
    await ar.page.fill('#q3', 'الهُطول');
    await ar.page.fill('#q4', 'المياه الجوفيّة');
    await submitExercise(ar.page);
    await checkQuizFeedback(ar.page, 5, 0);
    await ar.close();
  });

  test('suggestions appear as you type (JavaScript on)', async () => {
    const t = await open();
    const { page } = t;
    await t.go('/');
    const input = page.locator('#q');
    assert.equal(await input.getAttribute('role'), 'combobox');
    await input.click();
    await input.pressSequentially('evap', { delay: 60 });
    const options = page.locator('ul.suggest li[role=option]');
    await options.first().waitFor();
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    const first = await options.first().textContent();
    assert.ok((await texts(options)).some((o) => /Evaporation/.test(o)), first);
    await input.press('ArrowDown');
    assert.equal(await options.first().getAttribute('aria-selected'), 'true');
    assert.equal(await input.getAttribute('aria-activedescendant'), await options.first().getAttribute('id'));
    await input.press('Enter');
    await page.waitForURL((u) => u.pathname !== '/');
    assert.equal(await page.locator('h1').first().textContent(), first);
    // Arabic, typed without harakat.
    await t.go('/');
    await input.click();
    await input.pressSequentially('التبخ', { delay: 60 });
    await options.first().waitFor();
    assert.ok((await texts(options)).some((o) => o.includes('التَّبَخُّر')));
    await input.press('Escape');
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    await t.close();
  });

  test('without JavaScript: navigation, search, exercise, PDF and video links all work', async () => {
    const t = await open({ js: false, lang: 'fr' });
    const { page } = t;
    await t.go('/');
    await page.click('main a[href="/t/water-cycle/"]');
    await page.waitForURL('**/t/water-cycle/');
    await page.locator('ul.items a', { hasText: 'Leçons en français' }).click();
    await page.waitForURL('**/t/water-cycle/fr');
    await page.locator('ul.items a', { hasText: 'évaporation' }).click();
    await page.waitForURL('**/r/water-cycle/fr/evaporation.html');
    assert.match(await page.frameLocator('iframe.page').locator('h1').textContent(), /évaporation/i);
    // Search: a plain form; no suggestions.
    await search(page, 'eleve');
    assert.ok(await page.locator('ol.results li a[lang=fr]').count() >= 1);
    assert.equal(await page.locator('ul.suggest').count(), 0);
    assert.equal(await page.locator('#q').getAttribute('role'), null);
    // Search filters work too, with the one query field (the header's).
    assert.equal(await page.locator('input[name=q]').count(), 1);
    await page.selectOption('#f-language', 'ar');
    await page.fill('#q', 'الماء');
    await Promise.all([page.waitForURL(/language=ar/), page.click('.filters button[type=submit]')]);
    const langs = await page.locator('ol.results li a').evaluateAll((as) => as.map((a) => a.lang));
    assert.ok(langs.length > 0 && langs.every((l) => l === 'ar'), langs.join(','));
    // Exercise: a plain form POST.
    await t.go('/r/water-cycle/en/quiz.exercise.json');
    await answerEnglishQuiz(page);
    await checkQuizFeedback(page, 4, 1);
    // PDF: no viewer, the link to the file and the download link.
    await t.go('/r/water-cycle/fr/water-cycle-summary.pdf');
    assert.equal(await page.locator('.pdf canvas').count(), 0);
    const href = await page.locator('.pdf a.button').getAttribute('href');
    assert.equal(href, '/c/water-cycle/fr/water-cycle-summary.pdf');
    const r = await page.request.get(server.base + href);
    assert.equal(r.status(), 200);
    assert.ok((await r.body()).subarray(0, 5).equals(Buffer.from('%PDF-')));
    await checkDownload(page, 'p.download a', 'water-cycle-summary.pdf', '%PDF-');
    // Video: the player needs no script; its file answers ranges; the download link works.
    await t.go(`/r/water-cycle/en/${VIDEO}`);
    const src = await page.locator('video').getAttribute('src');
    assert.equal(src, `/c/water-cycle/en/${VIDEO}`);
    const part = await page.request.get(server.base + src, { headers: { Range: 'bytes=100-199' } });
    assert.equal(part.status(), 206);
    assert.equal((await part.body()).length, 100);
    await checkDownload(page, 'p.download a', VIDEO, '\0\0\0');
    // The language switcher is a link.
    await page.click('nav.langs a[hreflang=ar]');
    await page.waitForLoadState('load');
    assert.equal((await htmlAttrs(page)).dir, 'rtl');
    await t.close();
  });

  test('axe-core: no serious or critical violations (en, fr, ar)', async () => {
    const found = [];
    let checked = 0;
    for (const lang of ['en', 'fr', 'ar']) {
      const content = lang === 'ar' ? 'en' : lang;  // there is no Arabic PDF
      const pages = [
        ['home', '/'],
        ['channel', '/t/water-cycle/'],
        ['topic', `/t/water-cycle/${lang}`],
        ['lesson', `/r/water-cycle/${lang}/evaporation.html`],
        ['lesson-page', `/c/water-cycle/${lang}/evaporation.html`],
        ['audio', `/r/water-cycle/${lang}/narration.wav`],
        ['video', `/r/water-cycle/${lang}/${VIDEO}`],
        ['pdf', `/r/water-cycle/${content}/water-cycle-summary.pdf`],
        ['exercise', `/r/water-cycle/${lang}/quiz.exercise.json`],
        ['search', `/search?q=${encodeURIComponent({ en: 'water', fr: 'eleve', ar: 'الماء' }[lang])}`],
        ['search-empty', '/search?q=zzzzqqq'],
        ['not-found', '/t/water-cycle/no-such-topic'],
      ];
      const t = await open({ lang });
      const { page } = t;
      // axe is evaluated through the DevTools protocol, which the pages' CSP (script-src
      // 'self') does not apply to, so the pages are checked exactly as they are served.
      const run = async (name) => {
        await page.evaluate(AXE);
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        checked++;
        for (const v of result.violations) {
          const line = `${lang} ${name}: [${v.impact}] ${v.id}: ${v.help} — ` +
                       v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
          if (v.impact === 'serious' || v.impact === 'critical') found.push(line);
          else console.log(`# axe (not failing): ${line}`);
        }
      };
      for (const [name, url] of pages) {
        const r = await t.go(url);
        if (name === 'not-found') {
          assert.equal(r.status(), 404);
          t.problems.length = 0;  // the console reports the 404 itself
        }
        if (name === 'pdf') await waitForPdfCanvas(page);
        await run(name);
        if (name === 'exercise') {
          await answerQuiz(page, lang);
          await run('exercise-answered');
        }
      }
      // The suggestions list, open.
      await t.go('/');
      await page.locator('#q').pressSequentially(lang === 'ar' ? 'التبخ' : 'evap', { delay: 30 });
      await page.locator('ul.suggest li[role=option]').first().waitFor();
      await run('suggestions-open');
      await t.close();
    }
    console.log(`# axe checked ${checked} pages`);
    assert.deepEqual(found, [], 'serious or critical accessibility violations');
  });

  test('a topic page weighs under 30 KB before media (HTML + CSS + JavaScript)', async () => {
    for (const [lang, url] of [['en', '/t/water-cycle/en'], ['fr', '/t/water-cycle/fr'],
                               ['ar', '/t/water-cycle/ar'], ['en', '/t/water-cycle/']]) {
      const t = await open({ lang });
      const seen = [];
      t.page.on('requestfinished', async (req) => {
        if (['document', 'stylesheet', 'script'].includes(req.resourceType())) seen.push(req);
      });
      await t.go(url);
      await t.page.waitForLoadState('networkidle');
      let total = 0;
      const parts = [];
      for (const req of seen) {
        const s = await req.sizes();
        const bytes = s.responseBodySize + s.responseHeadersSize;
        total += bytes;
        parts.push(`${req.resourceType()} ${bytes}`);
      }
      console.log(`# ${lang} ${url}: ${total} bytes transferred (${parts.join(', ')})`);
      assert.ok(seen.some((r) => r.resourceType() === 'stylesheet'), 'no style sheet loaded');
      assert.ok(seen.some((r) => r.resourceType() === 'script'), 'no script loaded');
      assert.ok(total < 30 * 1024, `${url} (${lang}) weighs ${total} bytes`);
      await t.close();
    }
  });

  test('a topic of 120 lessons is paged without JavaScript, its arrows pointing the reading way', async () => {
    fs.mkdirSync(shotsDir, { recursive: true });
    for (const lang of ['en', 'ar']) {
      const t = await open({ lang, js: false, width: 320, height: 640 });
      const { page } = t;
      const seen = new Set();
      const lessons = async () => {
        for (const href of await page.locator('ul.items a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
          assert.ok(!seen.has(href), `${href} shown twice`);
          seen.add(href);
        }
      };
      await t.go('/t/many-lessons/');
      assert.equal(await page.locator('ul.items li').count(), 50);
      assert.equal(await page.locator('.pager a[rel=prev]').count(), 0, 'no previous page on page 1');
      await lessons();
      await page.screenshot({ path: path.join(shotsDir, `${lang}-paged-1-320.png`), fullPage: true });
      await Promise.all([page.waitForURL(/\/t\/many-lessons\/\?page=2$/), page.click('.pager a[rel=next]')]);
      await lessons();
      const prev = await page.locator('.pager a[rel=prev]').boundingBox();
      const next = await page.locator('.pager a[rel=next]').boundingBox();
      // Previous is where reading comes from: left in English, right in Arabic; its arrow points there.
      if (lang === 'ar') assert.ok(prev.x > next.x, `${lang}: previous at ${prev.x}, next at ${next.x}`);
      else assert.ok(prev.x < next.x, `${lang}: previous at ${prev.x}, next at ${next.x}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(overflow <= 0, `${lang}: page 2 is ${overflow} px too wide at 320 px`);
      await page.screenshot({ path: path.join(shotsDir, `${lang}-paged-2-320.png`), fullPage: true });
      await Promise.all([page.waitForURL(/\/t\/many-lessons\/\?page=3$/),
                         page.click('.pager .numbers a:text-is("3")')]);
      assert.equal(await page.locator('ul.items li').count(), LESSONS - 100);
      assert.equal(await page.locator('.pager a[rel=next]').count(), 0, 'no next page on the last');
      await lessons();
      assert.equal(seen.size, LESSONS);
      await t.close();
    }
  });

  test('screenshots at 320 and 1280 px', async () => {
    fs.mkdirSync(shotsDir, { recursive: true });
    let n = 0;
    const wrong = [];
    for (const lang of ['en', 'fr', 'ar']) {
      const content = lang === 'ar' ? 'en' : lang;
      const pages = [
        ['home', '/'],
        ['channel', '/t/water-cycle/'],
        ['topic', `/t/water-cycle/${lang}`],
        ['lesson', `/r/water-cycle/${lang}/evaporation.html`],
        ['video', `/r/water-cycle/${lang}/${VIDEO}`],
        ['pdf', `/r/water-cycle/${content}/water-cycle-summary.pdf`],
        ['exercise', `/r/water-cycle/${lang}/quiz.exercise.json`],
        ['search', `/search?q=${encodeURIComponent({ en: 'water', fr: 'eleve', ar: 'الماء' }[lang])}`],
      ];
      for (const width of [320, 1280]) {
        const t = await open({ lang, width, height: width < 400 ? 640 : 800 });
        const { page } = t;
        for (const [name, url] of pages) {
          await t.go(url);
          if (name === 'pdf') await waitForPdfCanvas(page);
          if (name === 'video') {  // a frame with the cloud and the vapour
            await page.evaluate(() => new Promise((resolve) => {
              const v = document.querySelector('video');
              v.addEventListener('seeked', resolve, { once: true });
              v.currentTime = 4.5;
            }));
          }
          if (name === 'exercise') await answerQuiz(page, lang);
          if (name === 'lesson') await page.frameLocator('iframe.page').locator('h1').waitFor();
          await page.screenshot({ path: path.join(shotsDir, `${lang}-${name}-${width}.png`), fullPage: true });
          n++;
          // Nothing wider than the screen (no sideways scrolling on a phone); every picture shows.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
          if (overflow > 0) wrong.push(`${lang} ${name} at ${width} px is ${overflow} px too wide`);
          for (const src of await brokenImages(page)) wrong.push(`${lang} ${name}: picture ${src} does not show`);
        }
        await t.close();
      }
    }
    console.log(`# ${n} screenshots in ${shotsDir}`);
    assert.deepEqual(wrong, []);
  });
});

// Fills the quiz of the page's language with some right and some wrong answers, and posts it.
async function answerQuiz(page, lang) {
  if (lang === 'en') return answerEnglishQuiz(page);
  await page.check('input[name=q0][value="0"]');
  await page.check('input[name=q1][value="2"]');
  await page.fill('#q2', lang === 'ar' ? '٩٧' : '97');
  await submitExercise(page);
}
