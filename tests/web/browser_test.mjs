// The web page in headless Chromium against the real platform (started by run.sh): signs in as
// each role, checks the role's menu, walks every view (no API error, a screenshot each), reviews
// the county's self-reports (approve several at once, reject with a reason), imports a roster
// with a bad row and sees it named, downloads the compliance CSV, administers accounts (from the
// roster, one by one, refusals, reset, disable), signs in as a new pairing's mentee and mentor to
// log mentorship activities, uploads completions and sees each row's outcome. Measures (does not
// assert) the time from sign-in to the county dashboard drawn, and writes figures.json.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=')];
  }),
);
const require = createRequire(join(args.web, 'package.json'));
const puppeteer = require('puppeteer-core');
const out = args.out;
const roles = args.roles ? args.roles.split(',') : ['county_hr', 'school_admin', 'teacher', 'training_center'];
const expectedMenus = {
  county_hr: ['培训达标', '轮岗达标', '自报审核', '师徒结对', '名册导入', '现行政策', '账号管理'],
  school_admin: ['本校教师培训', '本校轮岗', '本校轮岗达标', '本校结对', '现行政策'],
  teacher: ['成长档案', '培训周期', '登记培训', '我的轮岗', '我的结对'],
  training_center: ['课程', '上传结业名单'],
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log('web test:', ...a);

// --- the platform's printout -------------------------------------------------------------------
async function awaitPlatform() {
  const give_up = Date.now() + 600_000;
  while (Date.now() < give_up) {
    const text = existsSync(args.platform_log) ? readFileSync(args.platform_log, 'utf8') : '';
    const url = /Web page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)?.[1];
    const tokens = {};
    for (const m of text.matchAll(/^\s+(teacher|school_admin|county_hr|city_hr|province_hr|training_center|admin)\s+(ey[\w-]+\.[\w-]+\.[\w-]+)\s*$/gm)) {
      tokens[m[1]] = m[2];
    }
    // "gRPC clients:" closes the printout, after the tokens and the accounts.
    if (url && roles.every((r) => tokens[r]) && /gRPC clients:/.test(text)) {
      return { url, tokens, accounts: parseAccounts(text) };
    }
    if (/stopping|exited|died/i.test(text) && /error|fail/i.test(text) && !url) throw new Error('the platform did not start');
    await sleep(500);
  }
  throw new Error('the platform printed no web page URL and demo tokens within 10 minutes');
}

// Demo accounts as deploy/run.sh prints them once services/account runs: a role, a username and a
// password on one line (a "/" between them or not), under a heading that mentions passwords.
function parseAccounts(text) {
  const accounts = {};
  const at = text.search(/(password|密码)/i);
  if (at < 0) return accounts;
  for (const m of text.slice(at).matchAll(/^\s+(teacher|school_admin|county_hr|training_center)\s+(\S+)\s*(?:\/\s*)?(\S+)\s*$/gm)) {
    if (!m[2].startsWith('ey')) accounts[m[1]] = { username: m[2], password: m[3] };
  }
  return accounts;
}

// --- helpers in the page --------------------------------------------------------------------------
async function settle(page) {
  await page.waitForFunction(
    () =>
      (document.querySelector('main section h2') || document.querySelector('main .error')) &&
      !document.querySelector('.busy') &&
      !document.querySelector('.progress'),
    { timeout: 60_000 },
  );
  await sleep(100);
}

async function noErrors(page, where) {
  const errors = await page.$$eval('main .error', (els) => els.map((e) => e.textContent));
  assert.deepEqual(errors, [], `${where}: the view shows an error`);
}

// Every control on screen has a name a screen reader reads (a <label>, aria-label or
// aria-labelledby; a button's or link's own text).
async function controlsLabelled(page, where) {
  const unnamed = await page.$$eval('input, select, textarea, button, a[href]', (els) =>
    els
      .filter((el) => el.type !== 'hidden' && (el.offsetWidth > 0 || el.offsetHeight > 0))
      .filter((el) => {
        const byAria = (el.getAttribute('aria-label') ?? '').trim();
        const byIds = (el.getAttribute('aria-labelledby') ?? '')
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent ?? '')
          .join('')
          .trim();
        const byLabel = [...(el.labels ?? [])].map((l) => l.textContent).join('').trim();
        const own = el.matches('button, a') ? el.textContent.trim() : '';
        return !(byAria || byIds || byLabel || own);
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unnamed, [], `${where}: every control has a label`);
  // The same as Chromium's accessibility tree computes it (what a screen reader is told): every
  // control there has a name.
  const tree = await page.accessibility.snapshot({ interestingOnly: true });
  const nameless = [];
  const visit = (node) => {
    if (controlRoles.has(node.role) && !(node.name ?? '').trim()) nameless.push(`${node.role} ${JSON.stringify(node.value ?? '')}`);
    for (const child of node.children ?? []) visit(child);
  };
  if (tree) visit(tree);
  assert.deepEqual(nameless, [], `${where}: every control in the accessibility tree has a name`);
}

const controlRoles = new Set(['button', 'link', 'textbox', 'searchbox', 'combobox', 'listbox', 'checkbox', 'radio', 'switch', 'spinbutton', 'slider', 'menuitem', 'tab', 'Date', 'date', 'DateTime', 'InputTime']);

// Words in Latin letters a Chinese page may show: formats and units people know by these names.
const latinAllowed = new Set(['CSV', 'UTF', 'GB', 'Excel', 'KB', 'MB']);

// No English on screen, the browser's own controls included: the visible text (outside what the
// page marks translate="no": usernames, file names, ids a person typed), the names and hints of
// controls (aria-label, placeholder, title), the options of visible lists, and the text inside
// visible native controls (a date field's 年/月/日, which Chromium draws in its UI language: it
// needs chromium-l10n and a zh_CN LANGUAGE, see the launch below). A word of two or more Latin
// letters (birth_date, demo.teacher, mm) counts unless allowed above; numbers, dates and ids that
// mix in digits (S330723-1d4e43dafb, UTF-8) do not.
async function noEnglish(page, where) {
  const words = (text) => (text.match(/[A-Za-z0-9_.-]+/g) ?? []).filter((w) => /[A-Za-z]{2}/.test(w) && !/\d/.test(w) && !latinAllowed.has(w));
  const shown = await page.evaluate(() => {
    const out = [];
    const skip = (el) => !el || el.closest('[translate=no], script, style, noscript') || !el.checkVisibility({ visibilityProperty: true });
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.nodeValue.trim() && !skip(n.parentElement)) out.push(n.nodeValue);
    }
    for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], img[alt], input[type=button], input[type=submit]')) {
      if (skip(el)) continue;
      for (const a of ['aria-label', 'placeholder', 'title', 'alt']) if (el.hasAttribute(a)) out.push(el.getAttribute(a));
      if (el.matches('input[type=button], input[type=submit]')) out.push(el.value);
    }
    for (const o of document.querySelectorAll('select option')) if (!skip(o.parentElement.closest('select'))) out.push(o.textContent);
    return out;
  });
  const drawn = await nativeControlText(page);
  const english = [...new Set([...shown, ...drawn].flatMap(words))];
  assert.deepEqual(english, [], `${where}: English on screen (${[...shown, ...drawn].filter((t) => words(t).length).slice(0, 5).join(' | ')})`);
}

// The text Chromium draws inside visible native controls (their user-agent shadow roots, which
// the page's own DOM does not reach): read through the DevTools protocol.
async function nativeControlText(page) {
  const cdp = await page.createCDPSession();
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const hosts = [];
    const collect = (node, into) => {
      if (node.nodeType === 3 && node.nodeValue.trim()) into.push(node.nodeValue);
      if (node.nodeName === 'STYLE') return;
      for (const child of [...(node.shadowRoots ?? []), ...(node.children ?? [])]) collect(child, into);
    };
    const walk = (node) => {
      const ua = (node.shadowRoots ?? []).filter((r) => r.shadowRootType === 'user-agent');
      if (ua.length && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(node.nodeName)) {
        const text = [];
        for (const r of ua) collect(r, text);
        if (text.length) hosts.push({ backendNodeId: node.backendNodeId, text });
      }
      for (const child of node.children ?? []) walk(child);
      for (const r of node.shadowRoots ?? []) if (r.shadowRootType !== 'user-agent') walk(r);
    };
    walk(root);
    const out = [];
    for (const h of hosts) {
      const { object } = await cdp.send('DOM.resolveNode', { backendNodeId: h.backendNodeId });
      const { result } = await cdp.send('Runtime.callFunctionOn', {
        objectId: object.objectId,
        // Drawn, larger than the 1-px box of a visually hidden input, and not marked as data.
        functionDeclaration:
          'function () { const r = this.getBoundingClientRect(); return this.checkVisibility({ visibilityProperty: true }) && r.width > 1 && r.height > 1 && !this.closest("[translate=no]"); }',
        returnByValue: true,
      });
      if (result.value) out.push(...h.text);
    }
    return out;
  } finally {
    await cdp.detach();
  }
}

// Nothing on screen is an API code a person cannot read (an enum's or a status's name).
async function noRawCodes(page, where) {
  const text = await page.$eval('main', (m) => m.innerText);
  const codes = text.match(/\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b/g) ?? [];
  assert.deepEqual(codes, [], `${where}: no raw codes shown`);
}

// Nothing on screen is an id where a person expects a name (a school's, a teacher's, a course's,
// a rotation's or a pairing's id as the platform makes them).
async function noRawIds(page, where) {
  const text = await page.$eval('main', (m) => m.innerText);
  const ids = text.match(/\b(?:S\d{6}-[0-9a-f]{10}|T[0-9a-f]{16}|C[0-9a-f]{12}-P\S+|P\d{6}-[A-Za-z0-9]+|RT\d{6}-[0-9a-f]+|MP\d{6}-[0-9a-f]+)\b/g) ?? [];
  assert.deepEqual(ids, [], `${where}: no ids shown where a name belongs`);
}

// A view fits a phone's width: the page does not scroll sideways, nor does any box inside it (a
// wide table scrolling in its frame hides its last columns on a phone).
async function fitsPhone(page, where) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${where} fits a phone's width (overflow ${overflow}px)`);
  const inner = await page.$$eval('main *', (els) =>
    els
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(e).overflowX))
      .map((e) => `${e.outerHTML.slice(0, 60)}… ${e.scrollWidth - e.clientWidth}px`),
  );
  assert.deepEqual(inner, [], `${where}: nothing scrolls sideways inside the view`);
}

// Records every progress line the view shows from now on (a long operation's, in main), and
// returns a function that stops and answers them: a fast operation's progress is seen too.
async function recordProgress(page) {
  await page.evaluate(() => {
    const seen = [];
    const note = () => {
      for (const el of document.querySelectorAll('main .progress, main .busy')) {
        const text = el.textContent.trim();
        if (seen.at(-1) !== text) seen.push(text);
      }
    };
    const observer = new MutationObserver(note);
    observer.observe(document.querySelector('main'), { childList: true, subtree: true, characterData: true });
    window.progressSeen = () => (observer.disconnect(), seen);
  });
  return () => page.evaluate(() => window.progressSeen());
}

async function shot(page, name) {
  // Full pages, up to 4,000 px (the dashboard lists hundreds of teachers), from the top: a page
  // left scrolled down draws its sticky header midway through the picture.
  const height = await page.evaluate(() => (window.scrollTo(0, 0), Math.min(document.documentElement.scrollHeight, 4000)));
  const { width } = page.viewport();
  await page.screenshot({ path: join(out, `${name}.png`), clip: { x: 0, y: 0, width, height } });
}

async function signIn(page, platform, role) {
  const account = platform.accounts[role];
  if (account) {
    await page.type('input[name=username]', account.username);
    await page.type('input[name=password]', account.password);
    const t0 = Date.now();
    await page.click('form[aria-label="登录"] button[type=submit]');
    return { t0, how: 'password' };
  }
  await page.click('details summary');
  await page.$eval('textarea[name=token]', (el, token) => {
    el.value = token;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, platform.tokens[role]);
  const t0 = Date.now();
  await page.click('details button[type=submit]');
  return { t0, how: 'demo token' };
}

async function openView(page, label, mobile) {
  if (mobile) await page.click('.menu-toggle');
  const links = await page.$$('nav#menu a');
  for (const link of links) {
    if ((await link.evaluate((a) => a.textContent)) === label) {
      // A DOM click: on a phone's width the menu slides in, and a mouse click at where the link
      // is drawn mid-slide can land beside it and leave the view unchanged.
      await link.evaluate((a) => a.click());
      await settle(page);
      return;
    }
  }
  throw new Error(`no menu item ${label}`);
}

async function api(page, path) {
  return page.evaluate(async (p) => {
    const s = JSON.parse(sessionStorage.getItem('shidang.session'));
    const r = await fetch(p, { headers: { Authorization: `Bearer ${s.accessToken}` } });
    return r.json();
  }, path);
}

async function countyTeachers(page) {
  const teachers = [];
  let token = '';
  do {
    const pageOf = await api(page, `/v1/counties/330723/teachers?page.pageSize=500&page.pageToken=${token}`);
    teachers.push(...pageOf.teachers);
    token = pageOf.page?.nextPageToken ?? '';
  } while (token);
  return teachers;
}

// A teacher of the demo county with a self-report awaiting review (the training demo loader logs
// them for every (n/8+1)-th teacher of the county's listing): the oldest in the county's queue.
async function teacherAwaitingReview(page) {
  const queue = await api(page, '/v1/counties/330723/pending-self-reports?page.pageSize=1');
  const oldest = queue.reports?.[0];
  if (!oldest) throw new Error('no demo teacher has a self-report awaiting review');
  return { teacherId: oldest.teacherId, schoolId: oldest.schoolId };
}

async function waitForFile(dir, suffix, timeoutMs) {
  const give_up = Date.now() + timeoutMs;
  while (Date.now() < give_up) {
    const hit = readdirSync(dir).find((f) => f.endsWith(suffix));
    if (hit) return join(dir, hit);
    await sleep(200);
  }
  throw new Error(`no ${suffix} file appeared in ${dir}`);
}

// --- each role's story ----------------------------------------------------------------------------
async function countyHr(page, platform, figures) {
  // The dashboard is the first view: measured from the sign-in click to the chart drawn.
  await page.waitForSelector('.chart[data-chart-ready]', { timeout: 60_000 });
  const county = await teacherAwaitingReview(page);
  await settle(page);
  await noErrors(page, 'training');
  await controlsLabelled(page, 'county_hr training');
  await noEnglish(page, 'county_hr training');
  await noRawCodes(page, 'county_hr training');
  await noRawIds(page, 'county_hr training');
  const counts = await page.$eval('[data-testid=training-figures]', (e) => e.textContent);
  log('HR dashboard:', counts);
  await shot(page, 'county_hr-training');

  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: out });
  await page.click('button[aria-label="下载达标情况 CSV"]');
  const csv = readFileSync(await waitForFile(out, '.csv', 60_000));
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the CSV starts with a UTF-8 BOM');
  const lines = csv.toString('utf8').replace(/^\uFEFF/, '').trim().split('\n');
  assert.ok(lines.length > 100, `the CSV has a row per teacher (${lines.length} lines)`);
  log(`CSV downloaded: ${lines.length} lines; header: ${lines[0].slice(0, 80)}`);

  await openView(page, '轮岗达标');
  await noErrors(page, 'rotation');
  await controlsLabelled(page, 'county_hr rotation');
  await noEnglish(page, 'county_hr rotation');
  await noRawCodes(page, 'county_hr rotation');
  await noRawIds(page, 'county_hr rotation');
  await shot(page, 'county_hr-rotation');

  figures.reviewQueueCountySeconds = await reviewQueue(page, county);

  // Mentorship: the new teachers lacking a mentor, and a suggested pairing accepted in one click.
  await openView(page, '师徒结对');
  await noErrors(page, 'mentorship');
  await controlsLabelled(page, 'county_hr mentorship');
  await noEnglish(page, 'county_hr mentorship');
  await page.waitForSelector('[data-testid=unpaired-figures]', { timeout: 30_000 });
  log('mentorship:', await page.$eval('[data-testid=unpaired-figures]', (e) => e.textContent));
  const suggestion = await page
    .waitForSelector('tr[data-suggestion] button', { timeout: 30_000 })
    .catch(() => null);
  assert.ok(suggestion, 'the service suggests a pairing for a new teacher lacking a mentor');
  // The service's reasons, said in Chinese with the schools by name.
  await noRawIds(page, 'county_hr mentorship');
  const why = await page.$eval('tr[data-suggestion] td:nth-child(3)', (td) => td.textContent);
  assert.ok(!/[a-z]{4,}/.test(why), `a suggestion's reason is said in Chinese (${why})`);
  await shot(page, 'county_hr-mentorship');
  const menteeId = await page.$eval('tr[data-suggestion]', (tr) => tr.dataset.suggestion);
  await suggestion.click();
  await page.waitForFunction(() => /结对/.test(document.querySelector('tr[data-suggestion] .outcome')?.textContent ?? ''), { timeout: 30_000 });
  const accepted = await page.$eval('tr[data-suggestion] .outcome', (e) => e.textContent);
  assert.equal(accepted, '已结对', `the suggested pairing is created (${accepted})`);
  await shot(page, 'county_hr-mentorship-accepted');

  await openView(page, '名册导入');
  await controlsLabelled(page, 'county_hr roster');
  await noEnglish(page, 'county_hr roster');
  const schools = await api(page, '/v1/counties/330723/schools?page.pageSize=1');
  const rosterPath = join(out, 'roster-with-a-bad-row.csv');
  writeFileSync(rosterPath, badRoster(schools.schools[0].schoolCode || schools.schools[0].name));
  // The file is chosen as a keyboard user would: the chooser focused (its visually hidden input,
  // outlined through the 选择文件 label), Enter, the system's file dialog (answered here); the
  // page then names the file beside it.
  await page.focus('main input[type=file]');
  assert.equal(await page.$eval('main .file-pick label', (l) => getComputedStyle(l).outlineStyle), 'solid', 'the focused chooser is outlined');
  const chosen = page.waitForFileChooser({ timeout: 10_000 });
  await page.evaluate(() => 0); // a round trip: the dialog is intercepted before Enter lands
  await page.keyboard.press('Enter');
  const chooser = await chosen;
  await chooser.accept([rosterPath]);
  await page.waitForFunction(() => /roster-with-a-bad-row\.csv（\d+ 字节）/.test(document.querySelector('main .file-name')?.textContent ?? ''), { timeout: 10_000 });
  const rosterProgress = await recordProgress(page);
  await page.click('main section form button[type=submit]');
  await page.waitForSelector('.bad-rows', { timeout: 60_000 });
  const shownWhileImporting = await rosterProgress();
  assert.ok(shownWhileImporting.some((t) => /正在检查并导入 2 行/.test(t)), `the import shows its progress (${shownWhileImporting.join(' | ')})`);
  const named = await page.$$eval('.bad-rows tbody tr', (trs) => trs.map((tr) => tr.textContent));
  log('roster import named:', named.join(' | '));
  assert.ok(named.some((t) => /第 3 行/.test(t) && /出生日期/.test(t)), 'the bad row (line 3, 出生日期) is named');
  await noEnglish(page, 'county_hr roster with a bad row');
  await shot(page, 'county_hr-roster');

  await openView(page, '现行政策');
  await noErrors(page, 'policy');
  await controlsLabelled(page, 'county_hr policy');
  await noEnglish(page, 'county_hr policy');
  await noRawCodes(page, 'county_hr policy');
  // A value set by the county says so by the county's name, not its code.
  await page.waitForFunction(() => /县级 武义县/.test(document.querySelector('main').innerText), { timeout: 30_000 });
  assert.ok(!/\b330723\b/.test(await page.$eval('main', (m) => m.innerText)), 'the policy names regions, not their codes');
  await shot(page, 'county_hr-policy');
  figures.reviewSchool = county.schoolId;
  const pairing = (await api(page, `/v1/teachers/${menteeId}/pairings`)).pairings[0];
  assert.ok(pairing?.mentorId, `the accepted pairing of ${menteeId} is listed with its mentor`);
  return { pairing, ...(await accountAdmin(page, pairing)) };
}

// The county-wide review queue, one call (ListPendingSelfReports): every pending self-report of
// the county (at least the demo teacher's, from more than one school), oldest first, the same as
// the service lists; two of two schools approved at once, and gone from the service's queue; a
// third school's filtered and rejected, first without a reason (refused on the page), then with
// one.
async function reviewQueue(page, known) {
  await openView(page, '自报审核');
  // The county's queue is listed as the view opens, with no click.
  await page.waitForSelector('[data-testid=scan-summary]', { timeout: 60_000 });
  assert.ok((await page.$$('tr[data-record]')).length > 0, 'the county-wide queue is listed on opening the view');
  await noRawIds(page, 'county_hr reviews');
  const t0 = Date.now();
  await page.click('button[data-action=scan]');
  await page.waitForSelector('[data-testid=scan-summary]', { timeout: 180_000 });
  await settle(page);
  const scanSeconds = (Date.now() - t0) / 1000;
  const found = await page.$$eval('tr[data-record]', (trs) => trs.map((tr) => ({ ...tr.dataset })));
  const schools = [...new Set(found.map((f) => f.school))];
  log(`review queue: ${found.length} pending self-reports in ${schools.length} schools (county listed in ${scanSeconds.toFixed(1)} s)`);
  assert.ok(found.some((f) => f.teacher === known.teacherId), 'the queue lists the demo teacher awaiting review');
  const listed = await pendingIds(page, '');
  assert.deepEqual(found.map((f) => f.record), listed, 'the page lists the queue as the service does, oldest first');
  assert.ok(schools.length >= 2, `the county-wide queue spans schools (${schools.join(', ')})`);
  await shot(page, 'county_hr-reviews');
  await controlsLabelled(page, 'county_hr reviews');
  await noEnglish(page, 'county_hr reviews');
  await noRawCodes(page, 'county_hr reviews');

  // Two reports of two schools approved at once from the county-wide list.
  const other = found.find((f) => f.school !== known.schoolId);
  const approved = [found.find((f) => f.teacher === known.teacherId), other];
  for (const f of approved) await page.$eval(`tr[data-record="${f.record}"] input[type=checkbox]`, (c) => c.click());
  await page.click('button[data-action=approve]');
  await page.waitForFunction(
    (ids) => ids.every((id) => /已批准/.test(document.querySelector(`tr[data-record="${id}"] .outcome`)?.textContent ?? '')),
    { timeout: 30_000 },
    approved.map((f) => f.record),
  );
  await shot(page, 'county_hr-reviews-approved');
  for (const f of approved) {
    const credited = await api(page, `/v1/teachers/${f.teacher}/training-records?state=TRAINING_RECORD_STATE_CREDITED`);
    assert.ok(credited.records.some((r) => r.recordId === f.record && r.reviewedBy), 'an approved record is credited, with its reviewer');
  }
  const left = await pendingIds(page, '');
  assert.ok(approved.every((f) => !left.includes(f.record)), 'approved reports leave the queue');
  const kept = listed.filter((id) => !approved.some((f) => f.record === id));
  assert.ok(kept.every((id) => left.includes(id)), 'the other reports stay in the queue');
  log(`approved ${approved.length} self-reports of two schools at once`);

  // A third school's reports, filtered: rejected, first without a reason (refused on the page).
  const target = found.find((f) => !approved.includes(f));
  assert.ok(target, 'a third pending report is left to reject');
  const third = target.school;
  await page.select('select[name=school]', third);
  const inSchool = await page.$$eval('tr[data-record]', (trs) => trs.map((tr) => ({ ...tr.dataset })));
  assert.ok(inSchool.length >= 1 && inSchool.every((f) => f.school === third), 'the school filter shows only its records');
  await page.$eval('input[data-action=select-all]', (c) => c.click());
  await page.click('button[data-action=reject]');
  await page.waitForSelector('main .error', { timeout: 10_000 });
  assert.match(await page.$eval('main .error', (e) => e.textContent), /理由/, 'a rejection without a reason is refused on the page');
  await noEnglish(page, 'county_hr reviews refused');
  await page.type('input[name=reason]', '佐证材料不清晰，请补充盖章证明');
  await page.click('button[data-action=reject]');
  await page.waitForFunction((id) => /已驳回/.test(document.querySelector(`tr[data-record="${id}"] .outcome`)?.textContent ?? ''), { timeout: 30_000 }, target.record);
  const rejected = await api(page, `/v1/teachers/${target.teacher}/training-records?state=TRAINING_RECORD_STATE_REJECTED`);
  const record = rejected.records.find((r) => r.recordId === target.record);
  assert.ok(record, 'the rejected record is rejected in the service');
  assert.equal(record.reviewReason, '佐证材料不清晰，请补充盖章证明', 'the reason is kept for the teacher');
  assert.ok(!(await pendingIds(page, third)).includes(target.record), 'a rejected report leaves the queue');
  log(`rejected ${target.record} of school ${third} with its reason`);
  await shot(page, 'county_hr-reviews-rejected');
  return scanSeconds;
}

// The record ids of the county's review queue (or one school's), every page, as the service
// lists them.
async function pendingIds(page, schoolId) {
  const ids = [];
  let token = '';
  do {
    const q = await api(page, `/v1/counties/330723/pending-self-reports?schoolId=${schoolId}&page.pageSize=500&page.pageToken=${token}`);
    ids.push(...(q.reports ?? []).map((r) => r.record.recordId));
    token = q.page?.nextPageToken ?? '';
  } while (token);
  return ids;
}

async function signInApi(page, username, password) {
  return page.evaluate(async (u, p) => {
    const r = await fetch('/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, password: p }) });
    return { status: r.status, body: await r.json() };
  }, username, password);
}

// Fills the new-account form for a teacher and returns what the page shows: the one-time
// password, or the error's text.
async function newTeacherAccount(page, username, teacherId) {
  await page.$eval('input[name=new-username]', (e) => (e.value = ''));
  await page.type('input[name=new-username]', username);
  await page.$eval('input[name=teacher-id]', (e) => (e.value = ''));
  await page.type('input[name=teacher-id]', teacherId);
  const before = await page.$eval('form[aria-label="新建账号"]', (f) => Number(f.dataset.answers));
  await page.click('form[aria-label="新建账号"] button[type=submit]');
  await page.waitForFunction((n) => Number(document.querySelector('form[aria-label="新建账号"]').dataset.answers) > n, { timeout: 30_000 }, before);
  const el = await page.waitForSelector('form[aria-label="新建账号"] ~ .error, form[aria-label="新建账号"] ~ [data-testid=one-time-password]', { timeout: 5_000 });
  const password = await el.evaluate((e) => e.querySelector('code')?.dataset.password ?? null);
  return { password, text: await el.evaluate((e) => e.textContent) };
}

// Account administration: accounts for a small school's roster in one call, accounts for the
// accepted pairing's mentee and mentor, refusals said as a person wants them, then reset and
// disable from the list, each checked by signing in through the API.
async function accountAdmin(page, pairing) {
  await openView(page, '账号管理');
  await controlsLabelled(page, 'county_hr accounts');
  await noEnglish(page, 'county_hr accounts');
  const sizes = new Map();
  for (const t of await countyTeachers(page)) sizes.set(t.schoolId, (sizes.get(t.schoolId) ?? 0) + 1);
  // A small school apart from the pairing's (its two teachers get accounts one by one below).
  let small = '';
  for (const [id] of [...sizes].filter(([id]) => id !== pairing.menteeSchoolId && id !== pairing.mentorSchoolId).sort((a, b) => a[1] - b[1])) {
    if (Number((await api(page, `/v1/accounts?region=330723&schoolId=${id}&page.pageSize=1`)).page?.totalSize ?? 0) === 0) {
      small = id;
      break;
    }
  }
  assert.ok(small, 'a school whose teachers have no accounts yet');
  await page.select('select[name=roster-school]', small);
  await page.click('button[data-action=from-roster]');
  await page.waitForSelector('[data-testid=roster-accounts]', { timeout: 120_000 });
  const made = await page.$$eval('tr[data-roster-row=OK]', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  log(`accounts from the roster of ${small}: ${made.length} made`);
  assert.ok(made.length >= 1, 'the roster call makes accounts for the school\'s teachers');
  await shot(page, 'county_hr-accounts-roster');
  const [, rosterUser, rosterPassword] = made[0];
  const first = await signInApi(page, rosterUser, rosterPassword);
  assert.equal(first.status, 200, `a roster-made account signs in (${JSON.stringify(first.body).slice(0, 120)})`);
  assert.equal(first.body.principal.role, 'ROLE_TEACHER');

  // Digits in every made-up username: the no-English check passes ids that mix in digits, and a
  // base-36 stamp is all letters now and then (mxcaqxis), which it took for an English word.
  const stamp = String(Date.now());
  const mentee = await newTeacherAccount(page, `mentee.${stamp}`, pairing.menteeId);
  const mentor = await newTeacherAccount(page, `mentor.${stamp}`, pairing.mentorId);
  assert.ok(mentee.password && mentor.password, `the new accounts' passwords are shown once (${mentee.text} / ${mentor.text})`);
  await shot(page, 'county_hr-accounts-created');
  const bad = await newTeacherAccount(page, 'Bad Name', pairing.menteeId);
  assert.match(bad.text, /用户名.*3–64 位/, `a bad username is named with what is allowed (${bad.text})`);
  const twice = await newTeacherAccount(page, `again.${stamp}`, pairing.menteeId);
  assert.match(twice.text, /已有账号/, `a second account for a teacher is refused in words (${twice.text})`);
  await noEnglish(page, 'county_hr accounts refused');
  await shot(page, 'county_hr-accounts-refused');

  await page.select('select[name=list-school]', small);
  const row = await page.waitForSelector(`tr[data-account="${rosterUser}"]`, { timeout: 30_000 });
  await (await row.$('button[data-action=reset]')).click();
  const reset = await page.waitForSelector(`tr[data-account="${rosterUser}"] [data-testid=one-time-password] code`, { timeout: 30_000 });
  const newPassword = await reset.evaluate((c) => c.dataset.password);
  assert.equal((await signInApi(page, rosterUser, rosterPassword)).status, 401, 'the old password no longer signs in');
  assert.equal((await signInApi(page, rosterUser, newPassword)).status, 200, 'the reset password signs in');
  await page.click(`tr[data-account="${rosterUser}"] button[data-action=disable]`);
  await page.click(`tr[data-account="${rosterUser}"] button[data-action=confirm-disable]`);
  await page.waitForFunction((u) => /已停用/.test(document.querySelector(`tr[data-account="${u}"] .state`)?.textContent ?? ''), { timeout: 30_000 }, rosterUser);
  assert.equal((await signInApi(page, rosterUser, newPassword)).status, 401, 'a disabled account cannot sign in');
  await shot(page, 'county_hr-accounts-list');
  log(`accounts: reset and disabled ${rosterUser}; made mentee.${stamp} and mentor.${stamp}`);
  return { mentee: { username: `mentee.${stamp}`, password: mentee.password }, mentor: { username: `mentor.${stamp}`, password: mentor.password } };
}

// A teachers roster whose second data row (line 3) has a birth date that does not exist.
function badRoster(school) {
  const id = idCard('33072319900501001');
  return (
    '\uFEFF姓名,性别,出生日期,身份证号,参加工作时间,学校,入校时间,学段,任教学科,是否在编,岗位状态\n' +
    `测试甲,男,1990-05-01,${id},2012-09-01,${school},2015-09-01,小学,语文,是,在岗\n` +
    `测试乙,女,1990-02-30,${idCard('33072319900228002')},2012-09-01,${school},2015-09-01,小学,数学,是,在岗\n`
  );
}

// GB 11643 check digit.
function idCard(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

async function walk(page, role, mobile) {
  for (const label of expectedMenus[role]) {
    await openView(page, label, mobile);
    await noErrors(page, `${role} ${label}`);
    await controlsLabelled(page, `${role} ${label}`);
    await noEnglish(page, `${role} ${label}`);
    await noRawCodes(page, `${role} ${label}`);
    await noRawIds(page, `${role} ${label}`);
    if (mobile) {
      await fitsPhone(page, label);
    }
    await shot(page, `${role}-${label}`);
  }
}

async function teacher(page) {
  await walk(page, 'teacher', true);
  // The demo teacher's own pairing (deploy/run.sh's demo data) with a term's activities, and
  // their rotation, with the schools named.
  await openView(page, '我的结对', true);
  await page.waitForSelector('main article[data-pairing] tr[data-term]', { timeout: 30_000 });
  const activities = await page.$$eval('main article[data-pairing] tr[data-term] td[data-count]', (tds) => tds.reduce((n, td) => n + Number(td.dataset.count), 0));
  assert.ok(activities > 0, `the demo teacher's pairing has activities logged (${activities})`);
  log(`teacher: ${await page.$$eval('main article[data-pairing]', (as) => as.length)} pairing(s), ${activities} activities this term`);
  await openView(page, '我的轮岗', true);
  const rotations = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.innerText.replace(/\s+/g, ' '))));
  assert.ok(rotations.length >= 1, 'the demo teacher has a rotation');
  // Both schools by their names, the receiving one too (a teacher may not read another school
  // from the profile service: the rotation service's answer names them).
  assert.ok(rotations.every((r) => r[2] && r[3] && !/S\d{6}-[0-9a-f]{10}/.test(`${r[2]} ${r[3]}`)), `rotations name both schools (${rotations[0].join(' ')})`);
  log('teacher rotations:', rotations.map((r) => r.join(' ')).join(' | '));
  await openView(page, '登记培训', true);
  // The form draws once the view has read the teacher's cycle: wait for it, not for the menu.
  await page.waitForSelector('main input:not([type])', { timeout: 30_000 });
  await page.type('main input:not([type])', '校本研修：单元作业设计');
  await page.type('main input[type=number]', '3');
  await page.type('main textarea', '教研组活动记录');
  await page.type('main input[name=fileRef]', '校档案室 2026-教研-017');
  await page.click('main form button[type=submit]');
  await page.waitForSelector('main .ok, main .error', { timeout: 30_000 });
  await noErrors(page, 'log a training');
  const done = await page.$eval('main .ok', (e) => e.textContent);
  assert.match(done, /待审核|待机构确认|已计入/);
  await noEnglish(page, 'teacher logged');
  await shot(page, 'teacher-logged');
}

async function trainingCentre(page) {
  await walk(page, 'training_center', false);
  // The demo centre's courses: those begun are closed with their class credited; next term's are
  // open with teachers enrolled (columns: course, hours, dates, enrolled/seats, completed, state).
  await openView(page, '课程');
  // An empty date field says in Chinese the order its parts are typed in, as Chromium draws it.
  const dateHints = await page.$$eval('main input[type=date]', (els) => els.map((e) => document.getElementById(e.getAttribute('aria-describedby'))?.textContent));
  assert.ok(dateHints.length === 2 && dateHints.every((h) => h === '尚未选择（依次填 年/月/日）'), `the new course's dates say how to fill them (${dateHints.join(' | ')})`);
  const courses = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.innerText.trim())));
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  const begun = courses.filter((c) => c[2].slice(0, 10) <= today);
  const toCome = courses.filter((c) => c[2].slice(0, 10) > today);
  assert.ok(begun.length > 0 && toCome.length > 0, `the demo centre has past and coming courses (${begun.length}, ${toCome.length})`);
  for (const c of begun) assert.ok(c[5] === '已截止' && Number(c[4]) > 0, `a course begun is closed with its class credited: ${c.join(' | ')}`);
  for (const c of toCome) assert.ok(c[5] === '报名中' && Number(c[3].split('/')[0]) > 0, `a coming course is open with teachers enrolled: ${c.join(' | ')}`);
  log(`centre: ${begun.length} courses closed with completions, ${toCome.length} open (${toCome.map((c) => c[3]).join(', ')} enrolled)`);
  await openView(page, '上传结业名单');
  const [course, firstDay] = await page.$$eval('main select option', (os) => os.filter((o) => o.value).map((o) => [o.value, /(\d{4}-\d{2}-\d{2})）$/.exec(o.textContent)?.[1]])[0] ?? []);
  assert.ok(course && firstDay, 'the centre has a course begun');
  await page.select('main select', course);
  const path = join(out, 'completions.csv');
  // One row names no teacher of the platform (on the course's first day), one a day before it.
  // Then a class of 448 more unknown ids: the page sends 200 rows a call, three calls in all.
  const more = Array.from({ length: 448 }, (_, i) => `missing-${i},1,${firstDay}\n`).join('');
  writeFileSync(path, `teacher_id,hours,completed_on\nno-such-teacher,1,${firstDay}\nanother-missing,2,2020-01-10\n${more}`);
  await (await page.$('input[type=file]')).uploadFile(path);
  const uploadProgress = await recordProgress(page);
  await page.click('main form button[type=submit]');
  await page.waitForSelector('main table tbody tr, main .error', { timeout: 60_000 });
  await noErrors(page, 'completions');
  const shownWhileUploading = await uploadProgress();
  assert.ok(shownWhileUploading.some((t) => /正在上传（[012]\/3）/.test(t)), `the upload shows its progress by call (${shownWhileUploading.join(' | ')})`);
  const outcomes = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  log('completion outcomes:', outcomes.slice(0, 2).join(' | '), `… ${outcomes.length} rows; progress shown: ${shownWhileUploading.join(' → ')}`);
  assert.equal(outcomes.length, 450, 'an outcome per row');
  // Each refusal says in Chinese which column and what to do, not the service's English.
  assert.match(outcomes[0], /教师编号：找不到这位教师/, `an unknown teacher is named (${outcomes[0]})`);
  assert.match(outcomes[1], /完成日期应在课程的/, `a day outside the course is named with its dates (${outcomes[1]})`);
  await noEnglish(page, 'completion outcomes');
  await shot(page, 'training_center-completions');
}

// A teacher of the pairing HR accepted, signed in with the account HR made (at a phone's
// width): sees the pairing and its progress, logs an activity, and sees it counted.
async function pairedTeacher(browser, platform, who, account, pairing) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 375, height: 812, isMobile: true, hasTouch: true });
  await page.goto(platform.url, { waitUntil: 'load' });
  await page.type('input[name=username]', account.username);
  await page.type('input[name=password]', account.password);
  await page.click('form[aria-label="登录"] button[type=submit]');
  await page.waitForSelector('nav#menu a', { timeout: 30_000 });
  assert.deepEqual(await page.$$eval('nav#menu a', (as) => as.map((a) => a.textContent)), expectedMenus.teacher, `the ${who}'s menu`);
  await openView(page, '我的结对', true);
  const card = `article[data-pairing="${pairing.pairingId}"]`;
  await page.waitForSelector(`${card} tr[data-term]`, { timeout: 30_000 });
  await noErrors(page, `${who}'s pairings`);
  const offered = await page.$$eval(`${card} select[name=kind] option`, (os) => os.map((o) => o.value));
  assert.equal(offered.includes('ACTIVITY_KIND_TERM_EVALUATION'), who === 'mentor', `only the mentor's form offers the term evaluation (the ${who}'s)`);
  const kind = who === 'mentee' ? 'ACTIVITY_KIND_LESSON_OBSERVED' : 'ACTIVITY_KIND_TERM_EVALUATION';
  const count = () => page.$eval(`${card} tr[data-term] td[data-kind=${kind}]`, (td) => Number(td.dataset.count)).catch(() => 0);
  const before = await count();
  await page.select(`${card} select[name=kind]`, kind);
  if (who === 'mentor') {
    await page.select(`${card} select[name=grade]`, 'EVALUATION_GRADE_GOOD');
    await page.type(`${card} input[name=remarks]`, '课堂结构完整，板书清晰');
  }
  await page.click(`${card} form button[type=submit]`);
  await page.waitForSelector(`${card} form .ok, ${card} form .error`, { timeout: 30_000 });
  await noErrors(page, `${who} logs an activity`);
  await page.waitForFunction((sel, n) => Number(document.querySelector(sel)?.dataset.count ?? 0) > n, { timeout: 30_000 }, `${card} tr[data-term] td[data-kind=${kind}]`, before);
  await fitsPhone(page, '我的结对');
  await noEnglish(page, `${who} logged`);
  await shot(page, `${who}-mentorship-logged`);
  const progress = await api(page, `/v1/pairings/${pairing.pairingId}/progress`);
  const term = progress.progress.terms.at(-1);
  assert.ok(term.counts.some((c) => c.kind === kind && c.count === before + 1), `the service counts the ${who}'s activity`);
  if (who === 'mentor') assert.equal(term.grade, 'EVALUATION_GRADE_GOOD', 'the term evaluation is kept with its grade');
  log(`${who} ${account.username} logged ${kind} on ${pairing.pairingId}`);
  await context.close();
}

// When the dashboard's parts were drawn, from the page's own marks (app.tsx, session.ts,
// hr_training.tsx, chart_impl.ts), in ms after the sign-in form's submit event (the click as the
// page saw it) and after the sign-in answer; `chartPainted`: the frame holding the chart painted.
async function dashboardMarks(page) {
  return page.evaluate(() => {
    const last = (name) => performance.getEntriesByName(name).at(-1)?.startTime;
    const submitted = last('sign-in-submitted');
    const signedIn = last('signed-in');
    const after = (name, from) => (from === undefined || last(name) === undefined ? null : Math.round(last(name) - from));
    return {
      signInAnswered: after('signed-in', submitted),
      reportAfterSignIn: after('report-received', signedIn),
      numbersAfterSignIn: after('numbers-drawn', signedIn),
      chartAfterSignIn: after('chart-drawn', signedIn),
      chartPaintedAfterSignIn: after('chart-painted', signedIn),
      numbersAfterClick: after('numbers-drawn', submitted),
      chartPaintedAfterClick: after('chart-painted', submitted),
    };
  });
}

// The county dashboard from a cold start `runs` times: each in a fresh browser context (nothing
// cached, nothing in storage), the sign-in page loaded and filled in as a person would, then the
// click; each run's figures with the machine's load average then.
async function measureDashboard(browser, platform, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(platform.url, { waitUntil: 'load' });
    const { t0 } = await signIn(page, platform, 'county_hr');
    await page.waitForSelector('.chart[data-chart-ready]', { timeout: 60_000 });
    const puppeteerMs = Date.now() - t0;
    await page.waitForFunction(() => performance.getEntriesByName('chart-painted').length > 0, { timeout: 10_000 });
    const marks = await dashboardMarks(page);
    const requests = await page.evaluate(() => {
      const signedIn = performance.getEntriesByName('signed-in').at(-1)?.startTime ?? 0;
      return performance
        .getEntriesByType('resource')
        .filter((e) => /\/v1\//.test(e.name))
        .map((e) => `${new URL(e.name).pathname} at ${Math.round(e.startTime - signedIn)} ms for ${Math.round(e.duration)} ms`);
    });
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    out.push({ puppeteerMs, ...marks, load, requests });
    log(`dashboard run ${i + 1}: chart painted ${marks.chartPaintedAfterClick} ms after the click, ${marks.chartPaintedAfterSignIn} ms after the sign-in answer (${marks.signInAnswered} ms); puppeteer saw it at ${puppeteerMs} ms; load ${load}`);
    await context.close();
  }
  return out;
}

// --- main -----------------------------------------------------------------------------------------
const platform = await awaitPlatform();
log('platform up at', platform.url, Object.keys(platform.accounts).length ? '(demo accounts)' : '(demo tokens; no accounts printed)');
const browser = await puppeteer.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--lang=zh-CN'],
  // Chromium on Linux takes its UI language (what it draws in date fields and the like) from
  // LANGUAGE, not --lang; zh-CN needs Debian's chromium-l10n (deploy/install-deps.sh).
  env: { ...process.env, LANGUAGE: 'zh_CN:zh', LANG: 'zh_CN.UTF-8' },
});
const figures = { build: readFileSync(args.build_summary, 'utf8') ? JSON.parse(readFileSync(args.build_summary, 'utf8')) : {} };
const pageErrors = [];
let paired = null;
try {
  for (const role of roles) {
    const context = role === 'county_hr' ? browser.defaultBrowserContext() : await browser.createBrowserContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${role}: ${e.message}`));
    const mobile = role === 'teacher';
    await page.setViewport(mobile ? { width: 375, height: 812, isMobile: true, hasTouch: true } : { width: 1280, height: 900 });
    await page.goto(platform.url, { waitUntil: 'load' });
    await shot(page, `${role}-signin`);
    await noEnglish(page, `${role} sign-in`);
    await controlsLabelled(page, `${role} sign-in`);
    const { t0, how } = await signIn(page, platform, role);
    await page.waitForSelector('nav#menu a', { timeout: 30_000 });
    const menu = await page.$$eval('nav#menu a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(menu, expectedMenus[role], `${role}'s menu`);
    log(`${role} signed in (${how}); menu: ${menu.join('、')}`);
    if (role !== 'county_hr') {
      // No 账号管理 in the menu, because the API refuses the role: checked against the API.
      const refused = await api(page, '/v1/accounts');
      assert.equal(refused.status, 'PERMISSION_DENIED', `${role} may not list accounts`);
    }
    if (role === 'county_hr') {
      await page.waitForSelector('.chart[data-chart-ready]', { timeout: 60_000 });
      figures.dashboardColdMs = Date.now() - t0;
      figures.dashboardCold = await dashboardMarks(page);
      // Where the time went: each request's duration as the browser saw it.
      figures.dashboardColdRequests = await page.evaluate(() => {
        const signedIn = performance.getEntriesByName('signed-in').at(-1)?.startTime ?? 0;
        return performance
          .getEntriesByType('resource')
          .filter((e) => /\/v1\/|chunk-/.test(e.name))
          .map((e) => `${new URL(e.name).pathname} at ${Math.round(e.startTime - signedIn)} ms for ${Math.round(e.duration)} ms`);
      });
      paired = await countyHr(page, platform, figures);
      // Once more with the page's files cached, as a returning user signs in.
      await page.click('header button:last-of-type');
      await page.waitForSelector('form[aria-label="登录"]');
      const again = await signIn(page, platform, role);
      await page.waitForSelector('.chart[data-chart-ready]', { timeout: 60_000 });
      figures.dashboardWarmMs = Date.now() - again.t0;
      figures.dashboardWarm = await dashboardMarks(page);
    } else if (role === 'teacher') {
      await teacher(page);
    } else if (role === 'training_center') {
      await trainingCentre(page);
    } else {
      await walk(page, role, false);
    }
    await page.close();
  }
  if (paired) {
    await pairedTeacher(browser, platform, 'mentee', paired.mentee, paired.pairing);
    await pairedTeacher(browser, platform, 'mentor', paired.mentor, paired.pairing);
  }
  if (roles.includes('county_hr')) figures.dashboardRuns = await measureDashboard(browser, platform, Number(args.dashboard_runs ?? 5));
  assert.deepEqual(pageErrors, [], 'no script errors in the page');
} finally {
  await browser.close();
}
writeFileSync(join(out, 'figures.json'), JSON.stringify(figures, null, 1) + '\n');
const marks = (m) => (m ? `numbers ${m.numbersAfterSignIn} ms and chart ${m.chartAfterSignIn} ms after the sign-in answer (${m.signInAnswered} ms after the submit)` : '');
log(
  `figures: first view ${(figures.build.firstViewGzipBytes / 1024).toFixed(1)} KiB gzipped; ` +
    `sign-in click to county dashboard's chart ${figures.dashboardColdMs} ms (cold), ${figures.dashboardWarmMs} ms (warm); ` +
    `cold: ${marks(figures.dashboardCold)}; warm: ${marks(figures.dashboardWarm)}`,
);
for (const r of figures.dashboardRuns ?? []) {
  log(`dashboard cold run: click→chart painted ${r.chartPaintedAfterClick} ms (sign-in answered ${r.signInAnswered} ms; then ${r.chartPaintedAfterSignIn} ms), puppeteer ${r.puppeteerMs} ms, load ${r.load}`);
}
log('dashboard requests (cold):', (figures.dashboardColdRequests ?? []).join('; '));
log('screenshots in', out);
