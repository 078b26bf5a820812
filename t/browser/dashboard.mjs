// dashboard.mjs: the dashboard in a real browser, against the test stack.
//
// Runs are created through the API and watched in the pages; the runs are
// started by a dispatcher named "ui" (t/stack.sh dispatcher-start) running
// t/runners/test-runner.sh, started and stopped here so that a run can be
// seen queued first.  Every repository is new to this run of the tests.
// The harness (harness.mjs) saves a screenshot per test and fails a test
// on any refusal of the Content-Security-Policy.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
	ADMIN, BASE, OPERATOR, PHONE, SRCDIR, api, check, createRun, runTests, signIn,
	sleep, stack, until,
} from './harness.mjs';

const owner = `ui${Date.now().toString(36)}`;
const repo = (name) => `${owner}/${name}`;
const PAUSED_MESSAGE = 'The repository is paused by an operator: no run can be created for it until it is resumed.';

// Filled by the tests as they go, for the later ones.
const seen = { succeeded: null };

async function dispatcherStart() {
	stack('dispatcher-start', 'ui');
}

function dispatcherStop() {
	stack('dispatcher-stop', 'ui');
}

async function count(status) {
	const r = await api('GET', `/api/runs?limit=1&status=${status}`);
	check(r.status === 200, `GET /api/runs?status=${status}: ${r.status}`);
	return r.body.total;
}

// The runs earlier tests left queued would be claimed before this file's
// own: a dispatcher runs them first (the test runner ends each at once),
// until nothing runs and the queue stays as it is (runs of a repository
// left paused stay queued).
async function drain() {
	let queued = await count('queued');

	await dispatcherStart();
	await until(async () => {
		await sleep(700);
		const q = await count('queued');
		const stable = q === queued && await count('running') === 0;
		queued = q;
		return stable;
	}, 90000, 'the runs left queued by earlier tests were not drained');
	dispatcherStop();
}

const text = (page, sel) => page.locator(sel).first().textContent();

const tests = [
{
	slug: 'wrong-token',
	name: 'a wrong token is refused with the contract\'s message and kept nowhere',
	async run({ page }) {
		const expected = (await api('GET', '/api/runs?limit=1', { token: 'wrong' })).body.error.message;

		await page.goto(`${BASE}/`);
		await page.getByRole('heading', { name: 'Sign in' }).waitFor();
		check(page.url().endsWith('#/login?next=%23%2Fruns'), `/ did not lead to the sign-in page: ${page.url()}`);
		await page.getByLabel('Token').fill('not-the-token');
		await page.getByRole('button', { name: 'Sign in' }).click();
		const box = page.getByRole('alert');
		await box.waitFor();
		const shown = await box.textContent();
		check(shown.includes('This token was refused.'), `no clear refusal: ${shown}`);
		check(shown.includes(expected), `the contract's message "${expected}" is not shown: ${shown}`);
		check(shown.includes('unauthorized'), `the code is not shown: ${shown}`);
		check(await page.evaluate(() => sessionStorage.length) === 0, 'the wrong token was kept');
		check(await page.getByRole('heading', { name: 'Sign in' }).isVisible(), 'the sign-in page was left');
	},
},
{
	slug: 'policy',
	name: 'the dashboard is served with a strict policy, and no inline script or markup string',
	async run({ page }) {
		const res = await fetch(`${BASE}/`);
		const csp = res.headers.get('content-security-policy') || '';
		const html = await res.text();

		check(res.status === 200 && res.headers.get('content-type') === 'text/html; charset=utf-8',
		    `/: ${res.status} ${res.headers.get('content-type')}`);
		for (const want of ["default-src 'none'", "script-src 'self'", "style-src 'self'",
			"connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
			"require-trusted-types-for 'script'"])
			check(csp.includes(want), `the policy lacks ${want}: ${csp}`);
		check(!/unsafe-|data:|\*/.test(csp), `the policy allows too much: ${csp}`);
		check(res.headers.get('x-content-type-options') === 'nosniff', 'no X-Content-Type-Options: nosniff');
		check(res.headers.get('referrer-policy') === 'no-referrer', 'no Referrer-Policy: no-referrer');
		check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'index.html holds an inline script');
		check(!/\sstyle=|\son[a-z]+=/i.test(html), 'index.html holds a style attribute or an event handler');

		const js = await fetch(`${BASE}/js/main.js`);
		check(js.headers.get('content-type') === 'text/javascript; charset=utf-8', `main.js is ${js.headers.get('content-type')}`);
		const missing = await fetch(`${BASE}/no-such-page`);
		check(missing.status === 404 && (await missing.json()).error.code === 'not_found', 'an unknown path is not the JSON 404');
		const health = await fetch(`${BASE}/health`);
		check(health.status === 200 && !health.headers.get('content-security-policy'), 'the API\'s answers changed');

		// No module assigns markup as a string, nor evaluates one.
		const dir = path.join(SRCDIR, 'ui/js');
		const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.js'));
		check(files.length >= 5, `the modules were not found in ${dir}`);
		for (const f of files) {
			const src = readFileSync(path.join(dir, f), 'utf8').replace(/^\s*\/\/.*$/gm, '');
			check(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|\.style\.cssText|setAttribute\('style'/.test(src),
			    `ui/js/${f} builds markup from a string or sets a style attribute`);
		}
		await page.goto(`${BASE}/`);
		await page.getByRole('heading', { name: 'Sign in' }).waitFor();
	},
},
{
	slug: 'runs-list',
	name: 'runs created through the API are listed, filtered, paged and refreshed live',
	async run({ page, shot }) {
		const r = repo('listed');
		const ids = [];
		for (const [n, what] of [[1, 'succeed'], [2, 'succeed'], [3, 'fail']])
			ids.push((await createRun(r, n, what)).id);

		await signIn(page, OPERATOR);
		const rows = page.locator('tr[data-run]');
		const filters = page.getByRole('search');
		await filters.getByLabel('Repository').fill(r);
		await filters.getByRole('button', { name: 'Filter' }).click();
		await until(async () => await rows.count() === 3, 5000, 'the three runs are not listed');
		check(page.url().includes(`repo=${encodeURIComponent(r)}`), `the filter is not in the URL: ${page.url()}`);
		for (const id of ids)
			check(await page.locator(`tr[data-run="${id}"]`).count() === 1, `run ${id} is not listed`);
		check((await text(page, 'tr[data-run] .badge')).trim() === 'queued', 'the newest run is not shown queued');
		// Newest first.
		check(await rows.first().getAttribute('data-run') === ids[2], 'the newest run is not first');

		await filters.getByLabel('Status').selectOption('succeeded');
		await filters.getByRole('button', { name: 'Filter' }).click();
		await page.getByText('No run matches these filters.').waitFor();

		await page.goto(`${BASE}/#/runs?repo=${encodeURIComponent(r)}&limit=2`);
		await until(async () => await rows.count() === 2, 5000, 'a page of 2 does not show 2 runs');
		check((await text(page, '.page-of')).includes('Page 1 of 2 · 3 runs'), `pager: ${await text(page, '.page-of')}`);
		await page.getByRole('link', { name: 'Older →' }).click();
		await until(async () => await rows.count() === 1, 5000, 'the second page does not show 1 run');
		check((await text(page, '.page-of')).includes('Page 2 of 2'), 'not on page 2 of 2');
		await page.getByRole('link', { name: '← Newer' }).click();
		await until(async () => await rows.count() === 2, 5000, 'back on page 1, 2 runs are not shown');

		await page.goto(`${BASE}/#/runs?repo=${encodeURIComponent(r)}`);
		await until(async () => await rows.count() === 3, 5000, 'the three runs are not listed again');
		await shot('before-refresh');
		const late = await createRun(r, 4, 'succeed');
		await until(async () => await page.locator(`tr[data-run="${late.id}"]`).count() === 1, 9000,
		    'a run created meanwhile did not appear without reloading');
		check(await rows.count() === 4, 'the list does not hold four runs after the refresh');
	},
},
{
	slug: 'run-succeeds',
	name: 'a run\'s page follows it from queued to running to succeeded, with its log',
	async run({ page }) {
		// 20 lines, one every 0.3 s: the page polls about three times
		// while the run runs.
		const run = await createRun(repo('watched'), 1, 'steps 20');
		const statuses = [];
		const logsWhileRunning = new Set();

		await signIn(page, OPERATOR);
		await page.goto(`${BASE}/#/runs/${run.id}`);
		const status = page.locator('.run-status');
		await until(async () => (await status.textContent()).trim() === 'queued', 5000, 'the run is not shown queued');
		await page.getByText('The log starts when the run does.').waitFor();

		await dispatcherStart();
		await until(async () => {
			const s = (await status.textContent()).trim();
			if (statuses[statuses.length - 1] !== s)
				statuses.push(s);
			const log = await page.locator('#log').textContent();
			if (s === 'running' && log.includes('step '))
				logsWhileRunning.add(log);
			return s === 'succeeded';
		}, 30000, 'the run did not reach succeeded');
		check(statuses.join(' ') === 'queued running succeeded', `statuses seen: ${statuses.join(', ')}`);
		const seenLogs = [...logsWhileRunning];
		check(seenLogs.length > 0, 'the log was not shown while the run ran');
		check(seenLogs.length > 1 && !seenLogs[0].includes('step 20 of 20'),
		    `the log was not followed while the run ran: ${seenLogs.length} version(s) seen`);

		await until(async () => (await page.locator('#log').textContent()).includes('step 20 of 20'), 5000,
		    'the log does not end with the last step');
		await page.getByText('is complete').waitFor();
		check((await text(page, '.run-result')).includes('20 steps done'), 'the result\'s summary is not shown');
		check(await page.getByRole('link', { name: 'https://github.com/o/r/pull/2' }).count() === 1, 'the pull request is not linked');
		const arts = await page.locator('table.artifacts code').allTextContents();
		for (const name of ['log.txt', 'result.json', 'summary.txt'])
			check(arts.includes(name), `artifact ${name} is not listed: ${arts.join(', ')}`);
		check(await page.locator('#cancel').count() === 0, 'a finished run offers to cancel');

		await page.locator('tr', { hasText: 'summary.txt' }).getByRole('button', { name: 'View' }).click();
		await until(async () => (await page.locator('.artifact-text').count()) === 1 &&
		    (await text(page, '.artifact-text')).includes('20 steps done'), 5000, 'summary.txt is not shown');
		const download = page.waitForEvent('download');
		await page.locator('tr', { hasText: 'result.json' }).getByRole('button', { name: 'Download' }).click();
		check((await download).suggestedFilename() === 'result.json', 'result.json was not downloaded');
		seen.succeeded = run.id;
	},
},
{
	slug: 'cancel',
	name: 'a running run is cancelled from its page',
	async run({ page }) {
		const run = await createRun(repo('cancelled'), 1, 'hang');

		await signIn(page, OPERATOR);
		await page.goto(`${BASE}/#/runs/${run.id}`);
		const status = page.locator('.run-status');
		await until(async () => (await status.textContent()).trim() === 'running', 15000, 'the run did not start');
		await page.getByRole('button', { name: 'Cancel this run' }).click();
		await page.getByText('Cancel this run? A running runner is stopped.').waitFor();
		await page.getByRole('button', { name: 'Yes, cancel it' }).click();
		await until(async () => (await status.textContent()).trim() === 'cancelled', 20000, 'the run was not cancelled');
		const error = await text(page, '.run-error');
		check(error.includes('cancelled'), `the cancel's error is not shown: ${error}`);
		check(await page.locator('#cancel').count() === 0, 'a cancelled run still offers to cancel');
		check((await api('GET', `/api/runs/${run.id}`)).body.status === 'cancelled', 'the API does not say cancelled');
	},
},
{
	slug: 'pause',
	name: 'an admin pauses a repository, creating a run there is refused, and resumes it',
	async run({ page, shot }) {
		const r = repo('paused');

		await signIn(page, ADMIN);
		await page.getByRole('link', { name: 'Admin' }).click();
		await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
		const repoForm = page.getByRole('form', { name: 'Pause or resume a repository' });
		await repoForm.getByLabel('Repository').fill(r);
		await repoForm.getByLabel('Reason').fill('flaky CI');
		await repoForm.getByRole('button', { name: 'Pause' }).click();
		await repoForm.getByText(`${r} is paused`).waitFor();
		const row = page.locator('table.paused-repos tr', { hasText: r });
		await row.waitFor();
		check((await row.textContent()).includes('flaky CI'), 'the reason is not listed');
		await shot('paused');

		const refused = await api('POST', '/api/runs', { body: { repo: r, target: { type: 'issue', number: 1 }, instruction: 'succeed' } });
		check(refused.status === 409 && refused.body.error.code === 'repo_paused', `the API did not refuse: ${refused.status}`);

		await page.getByRole('link', { name: 'Runs' }).click();
		await page.getByText('Start a run').click();
		const form = page.locator('.new-run form');
		await form.getByLabel('Repository').fill(r);
		await form.getByLabel('Number').fill('1');
		await form.getByLabel('Instruction').fill('succeed');
		await form.getByRole('button', { name: 'Start the run' }).click();
		const box = page.getByRole('alert');
		await box.waitFor();
		const shown = await box.textContent();
		check(shown.includes(PAUSED_MESSAGE) && shown.includes('repo_paused'), `the refusal is not shown as the contract's: ${shown}`);
		await shot('refused');

		await page.getByRole('link', { name: 'Admin' }).click();
		await page.getByRole('button', { name: `Resume ${r}` }).click();
		await page.getByText(`${r} was resumed.`).waitFor();
		await until(async () => await page.locator('table.paused-repos tr', { hasText: r }).count() === 0, 5000,
		    'the repository is still listed as paused');

		const limits = page.getByRole('form', { name: 'Rate-limit override' });
		await limits.getByLabel('Repository').fill(r);
		await limits.getByLabel('Runs').fill('5');
		await limits.getByLabel('Window (seconds)').fill('60');
		await limits.getByRole('button', { name: 'Set the override' }).click();
		await limits.getByText(`${r} may have 5 runs every 60 s`).waitFor();
		await limits.getByLabel('Runs').fill('0');
		await limits.getByRole('button', { name: 'Set the override' }).click();
		await limits.getByRole('alert').waitFor();
		check(await limits.getByLabel('Runs').getAttribute('aria-invalid') === 'true', 'the field at fault is not marked');
		await limits.getByRole('button', { name: 'Remove it' }).click();
		await limits.getByText(`${r} has no override`).waitFor();

		const created = await api('POST', '/api/runs', { body: { repo: r, target: { type: 'issue', number: 1 }, instruction: 'succeed' } });
		check(created.status === 201, `after the resume, POST /api/runs: ${created.status}`);
	},
},
{
	slug: 'operator-no-admin',
	name: 'an operator token is shown no admin page',
	async run({ page }) {
		const expected = (await api('GET', '/api/admin/paused')).body.error.message;

		await signIn(page, OPERATOR);
		check(await page.getByRole('link', { name: 'Admin' }).count() === 0, 'the Admin link is shown to an operator');
		check((await text(page, '.role')).trim() === 'operator', 'the role is not shown');
		await page.goto(`${BASE}/#/admin`);
		const box = page.getByRole('alert');
		await box.waitFor();
		check((await box.textContent()).includes(expected), `the 403's message "${expected}" is not shown`);
		check(await page.locator('form').count() === 0, 'admin forms are shown to an operator');
	},
},
{
	slug: 'analytics',
	name: 'the analytics page shows the per-day chart, the figures, the busiest repositories and another window',
	async run({ page, shot }) {
		await signIn(page, OPERATOR);
		await page.getByRole('link', { name: 'Analytics' }).click();
		await page.locator('svg.chart').waitFor();
		const a = (await api('GET', '/api/analytics?days=30')).body;
		check(await page.locator('svg.chart .day').count() === 30, 'the chart has not 30 days');
		check(await page.locator('.bar-succeeded').count() >= 1, 'no succeeded bar');
		check(await page.locator('.bar-failed').count() >= 1, 'no failed bar');
		const figures = await text(page, '.figures');
		check(figures.includes(`${(a.success_rate * 100).toFixed(1)} %`), `the success rate is not shown: ${figures}`);
		check(figures.includes('Queue wait') && figures.includes('Duration'), 'the duration and wait figures are missing');
		// Earlier tests may have busier repositories than this file's.
		const top = await page.locator('table.top-repos tbody tr').allTextContents();
		check(top.length === a.top_repos.length && a.top_repos.length > 0,
		    `${top.length} busiest repositories shown, ${a.top_repos.length} from the API`);
		a.top_repos.forEach((t, i) => check(top[i].includes(t.repo) && top[i].includes(String(t.total)),
		    `busiest repository ${i + 1} is not ${t.repo} with ${t.total} runs: ${top[i]}`));
		await shot('30-days');

		await page.getByRole('link', { name: '7 days' }).click();
		await until(async () => await page.locator('svg.chart .day').count() === 7, 5000, 'the 7-day window is not shown');
		check(await page.getByRole('link', { name: '7 days' }).getAttribute('aria-current') === 'page', 'the window is not marked');
		check((await text(page, '.window-note')).includes('The last 7 days'), 'the window is not described');

		const expected = (await api('GET', '/api/analytics?days=0')).body.error.message;
		await page.getByLabel('Days', { exact: true }).fill('0');
		await page.getByRole('button', { name: 'Show' }).click();
		const box = page.getByRole('alert');
		await box.waitFor();
		check((await box.textContent()).includes(expected), `the 400's message "${expected}" is not shown`);

		await page.getByRole('link', { name: '30 days' }).click();
		await page.locator('svg.chart').waitFor();
		await page.getByText('The days as a table').click();
	},
},
{
	slug: 'api-errors',
	name: 'the API\'s refusals are shown as the contract\'s messages',
	async run({ page, shot }) {
		await signIn(page, OPERATOR);
		const cases = [
			['#/runs/not-a-run', '/api/runs/not-a-run'],
			['#/runs/00000000-0000-4000-8000-000000000000', '/api/runs/00000000-0000-4000-8000-000000000000'],
			['#/runs?status=sleeping', '/api/runs?status=sleeping'],
		];
		for (const [fragment, route] of cases) {
			const expected = (await api('GET', route)).body.error;
			await page.goto(`${BASE}/${fragment}`);
			const box = page.getByRole('alert');
			await box.waitFor();
			const shown = await box.textContent();
			check(shown.includes(expected.message) && shown.includes(expected.code),
			    `${fragment}: "${expected.message}" (${expected.code}) is not shown: ${shown}`);
		}
		await shot('not-found');

		await page.goto(`${BASE}/#/runs`);
		await page.getByText('Start a run').click();
		const form = page.locator('.new-run form');
		await form.getByLabel('Repository').fill('not a repo');
		await form.getByRole('button', { name: 'Start the run' }).click();
		const box = form.getByRole('alert');
		await box.waitFor();
		const shown = await box.textContent();
		check(shown.includes('validation_failed'), `not the validation refusal: ${shown}`);
		for (const name of ['repo', 'target.number', 'instruction']) {
			check(shown.includes(name), `the detail on ${name} is not shown: ${shown}`);
			check(await form.locator(`[name="${name}"]`).getAttribute('aria-invalid') === 'true', `${name} is not marked`);
		}
	},
},
{
	slug: 'phone',
	name: 'every page fits a phone\'s width',
	viewport: PHONE,
	async run({ page, shot }) {
		const fits = async (where) => {
			const [doc, win] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
			check(doc <= win, `${where} is ${doc} px wide on a ${win} px screen`);
		};

		await page.goto(`${BASE}/#/login`);
		await page.getByLabel('Token').waitFor();
		await fits('the sign-in page');
		await shot('login');
		await signIn(page, ADMIN);
		await page.goto(`${BASE}/#/runs?repo=${encodeURIComponent(repo('listed'))}`);
		await page.locator('tr[data-run]').first().waitFor();
		await fits('the runs list');
		await shot('runs');
		if (seen.succeeded) {
			await page.goto(`${BASE}/#/runs/${seen.succeeded}`);
			await page.getByText('is complete').waitFor();
			await fits('a run\'s page');
			await shot('run');
		}
		await page.goto(`${BASE}/#/analytics`);
		await page.locator('svg.chart').waitFor();
		await fits('the analytics page');
		await shot('analytics');
		await page.goto(`${BASE}/#/admin`);
		await page.getByRole('heading', { name: 'Rate-limit override' }).waitFor();
		await fits('the admin page');
	},
},
{
	slug: 'keyboard',
	name: 'signing in, moving between pages and opening a run work from the keyboard',
	async run({ page }) {
		const active = () => page.evaluate(() => {
			const el = document.activeElement;
			return { tag: el.tagName, text: el.textContent.trim(), name: el.getAttribute('name'),
				outline: getComputedStyle(el).outlineStyle };
		});

		await page.goto(`${BASE}/#/login`);
		await page.getByLabel('Token').waitFor();
		check((await active()).name === 'token', 'the token field is not focused');
		await page.keyboard.type(OPERATOR);
		await page.keyboard.press('Enter');
		await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
		await until(async () => (await active()).tag === 'H1', 3000, 'the page\'s heading is not focused');

		// Back from the heading into the navigation, to Analytics.
		for (let i = 0; i < 8 && (await active()).text !== 'Analytics'; i++)
			await page.keyboard.press('Shift+Tab');
		const a = await active();
		check(a.text === 'Analytics', `Shift+Tab did not reach the Analytics link: ${a.tag} ${a.text}`);
		check(a.outline !== 'none', 'the focused link shows no outline');
		await page.keyboard.press('Enter');
		await page.getByRole('heading', { level: 1, name: 'Analytics' }).waitFor();

		// From the Runs page, Tab reaches a run's link and Enter opens it.
		await page.goto(`${BASE}/#/runs`);
		await page.locator('tr[data-run]').first().waitFor();
		for (let i = 0; i < 25 && !(await page.evaluate(() => !!document.activeElement.closest('td.instruction'))); i++)
			await page.keyboard.press('Tab');
		check(await page.evaluate(() => !!document.activeElement.closest('td.instruction')), 'Tab did not reach a run');
		await page.keyboard.press('Enter');
		await page.locator('.run-status .badge').waitFor();
	},
},
{
	slug: 'expired',
	name: 'a token refused mid-session sends the tab back to sign in, with the reason',
	async run({ page }) {
		await signIn(page, OPERATOR);
		await page.evaluate(() => sessionStorage.setItem('gittinkerer.token', 'revoked'));
		await page.getByRole('link', { name: 'Analytics' }).click();
		await page.getByRole('heading', { name: 'Sign in' }).waitFor();
		const shown = await page.getByRole('alert').textContent();
		check(shown.includes('The service refused the token this tab had'), `no reason given: ${shown}`);
		check(page.url().includes('next=%23%2Fanalytics'), `the page to come back to is lost: ${page.url()}`);
		await page.getByLabel('Token').fill(OPERATOR);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.getByRole('heading', { level: 1, name: 'Analytics' }).waitFor();
	},
},
];

let ok = false;
try {
	await drain();
	ok = await runTests(tests);
} finally {
	dispatcherStop();
}
process.exit(ok ? 0 : 1);
