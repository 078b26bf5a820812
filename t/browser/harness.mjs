// harness.mjs: what the dashboard's browser tests share.
//
// One headless Debian Chromium, driven by playwright-core, runs every test
// in a context of its own (fresh storage, its own viewport).  Each test
// saves a screenshot of where it ended, and fails on an uncaught error in
// the page or on anything the Content-Security-Policy or Trusted Types
// refused, whatever else it checks.  Output: "ok - name" or "not ok -
// name: why" per test, and a last line "browser tests: N passed, N failed".
//
// Environment (t/e2e/browser.sh sets it): GT_URL, GT_OPERATOR_TOKEN,
// GT_ADMIN_TOKEN, GT_STACK_DIR, GT_SRCDIR, GT_BROWSER_MODULES (the folder
// whose node_modules holds playwright-core), GT_BROWSER_SHOTS (where the
// screenshots go), and optionally GT_CHROMIUM (/usr/bin/chromium).

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

function need(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set (t/e2e/browser.sh sets it)`);
	return v;
}

export const BASE = need('GT_URL');
export const OPERATOR = need('GT_OPERATOR_TOKEN');
export const ADMIN = need('GT_ADMIN_TOKEN');
export const SRCDIR = need('GT_SRCDIR');
const STACK_DIR = need('GT_STACK_DIR');
const SHOTS = need('GT_BROWSER_SHOTS');
const require = createRequire(path.join(need('GT_BROWSER_MODULES'), 'package.json'));
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking', '--disable-component-update',
	'--disable-sync'];

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

export class TestFailure extends Error {}

export function check(cond, why) {
	if (!cond)
		throw new TestFailure(why);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls fn until it returns a true value; fails with why after timeoutMs.
export async function until(fn, timeoutMs, why) {
	const end = Date.now() + timeoutMs;
	let last;

	for (;;) {
		last = await fn();
		if (last)
			return last;
		if (Date.now() > end)
			throw new TestFailure(`${why} (after ${timeoutMs / 1000} s)`);
		await sleep(150);
	}
}

// The API, from the test's side: {status, body, headers}.
export async function api(method, p, { token = OPERATOR, body } = {}) {
	const headers = { Authorization: `Bearer ${token}` };
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const res = await fetch(BASE + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		// left null
	}
	return { status: res.status, body: json, text, headers: res.headers };
}

export async function createRun(repo, number, instruction) {
	const r = await api('POST', '/api/runs', { body: { repo, target: { type: 'issue', number }, instruction } });
	check(r.status === 201, `POST /api/runs for ${repo}: ${r.status} ${r.text}`);
	return r.body;
}

// t/stack.sh's fault and daemon controls on the test stack.
export function stack(cmd, ...args) {
	execFileSync('bash', [path.join(SRCDIR, 't/stack.sh'), cmd, STACK_DIR, ...args],
	    { stdio: ['ignore', 'ignore', 'inherit'] });
}

// Signs in on the sign-in page with a token, as a person would.
export async function signIn(page, token) {
	await page.goto(`${BASE}/#/login`);
	await page.getByLabel('Token').fill(token);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
}

// Runs the tests in order; exits 0 when all passed.
export async function runTests(tests) {
	let passed = 0;
	let failed = 0;
	let n = 0;

	mkdirSync(SHOTS, { recursive: true });
	const browser = await chromium.launch({
		executablePath: process.env.GT_CHROMIUM || '/usr/bin/chromium',
		args: CHROMIUM_ARGS,
		// A fresh profile in a temporary folder of its own, removed at
		// the end: nothing is kept from one run to the next.
		headless: true,
	});

	for (const t of tests) {
		const start = Date.now();
		const context = await browser.newContext({ viewport: t.viewport || DESKTOP, baseURL: BASE });
		const page = await context.newPage();
		const refused = [];
		let shots = 0;

		n += 1;
		const prefix = `${String(n).padStart(2, '0')}-${t.slug}`;
		page.setDefaultTimeout(10000);
		page.on('console', (m) => {
			if (/Content.Security.Policy|Trusted ?Type/i.test(m.text()))
				refused.push(m.text());
		});
		page.on('pageerror', (e) => refused.push(`uncaught: ${e.message}`));
		const shot = async (name) => {
			shots += 1;
			await page.screenshot({ path: path.join(SHOTS, `${prefix}-${name}.png`), fullPage: true });
		};

		try {
			await t.run({ page, context, shot });
			check(refused.length === 0, `the page logged: ${refused.join(' | ')}`);
			passed += 1;
			console.log(`ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
		} catch (err) {
			const why = err instanceof TestFailure ? err.message : err.stack;
			failed += 1;
			console.log(`not ok - ${t.name}: ${why}` +
			    (refused.length ? `\n# the page logged: ${refused.join(' | ')}` : ''));
		}
		try {
			await page.screenshot({ path: path.join(SHOTS, `${prefix}.png`), fullPage: true });
		} catch (err) {
			console.log(`# no screenshot of ${t.slug}: ${err.message}`);
		}
		if (shots)
			console.log(`# ${shots + 1} screenshots: ${SHOTS}/${prefix}*.png`);
		await context.close();
	}
	await browser.close();
	console.log(`browser tests: ${passed} passed, ${failed} failed`);
	return failed === 0;
}
