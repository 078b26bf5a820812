// The runs list: filters by status and repository, pages, a refresh every
// few seconds, and a form to start a run.

import { api, query as qs } from '../api.js';
import { h, fill, field, showFieldErrors } from '../dom.js';
import { clock, duration, between, target } from '../format.js';
import { badge, errorBox, heading, statusLine, time, STATUSES } from '../views.js';

const REFRESH_MS = 5000;
const LIMITS = [20, 50, 100];

// The list's parameters from the fragment's query, as the API takes them.
function params(query) {
	return {
		page: query.get('page') || '',
		limit: query.get('limit') || '',
		status: query.get('status') || '',
		repo: query.get('repo') || '',
	};
}

// The fragment of this list with some parameters changed.
function link(p, change) {
	const q = { ...p, ...change };
	if (q.page === 1 || q.page === '1')
		q.page = '';
	if (q.limit === '20' || q.limit === 20)
		q.limit = '';
	return `#/runs${qs(q)}`;
}

function filters(p, go) {
	const status = h('select', { name: 'status' },
	    h('option', { value: '' }, 'any status'),
	    STATUSES.map((st) => h('option', { value: st, selected: st === p.status }, st)));
	const repo = h('input', {
		name: 'repo', value: p.repo, placeholder: 'owner/name', autocomplete: 'off',
		spellcheck: 'false',
	});
	const limit = h('select', { name: 'limit' },
	    LIMITS.map((n) => h('option', { value: n, selected: String(n) === (p.limit || '20') }, `${n} a page`)));
	const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the runs' },
	    field('Status', status), field('Repository', repo), field('Page size', limit),
	    h('div', { class: 'actions' },
		h('button', { type: 'submit' }, 'Filter'),
		h('a', { href: '#/runs', class: 'button secondary' }, 'Clear')));

	form.addEventListener('submit', (e) => {
		e.preventDefault();
		go(link({}, { status: status.value, repo: repo.value.trim(), limit: limit.value }));
	});
	return form;
}

function newRunForm(go) {
	const repo = h('input', { name: 'repo', placeholder: 'owner/name', autocomplete: 'off', spellcheck: 'false', required: true });
	const type = h('select', { name: 'target.type' },
	    h('option', { value: 'issue' }, 'issue'),
	    h('option', { value: 'pull_request' }, 'pull request'));
	const number = h('input', { name: 'target.number', type: 'number', min: 1, step: 1, inputmode: 'numeric', required: true });
	const instruction = h('textarea', { name: 'instruction', rows: 3, required: true });
	const requester = h('input', { name: 'requested_by', placeholder: 'GitHub login (optional)', autocomplete: 'off', spellcheck: 'false' });
	const out = h('div');
	const button = h('button', { type: 'submit' }, 'Start the run');
	const form = h('form', { class: 'grid-form', novalidate: true },
	    field('Repository', repo), field('Target', type), field('Number', number),
	    h('div', { class: 'wide' }, field('Instruction', instruction)),
	    field('Requested by', requester),
	    h('div', { class: 'actions wide' }, button), h('div', { class: 'wide' }, out));
	// One key per request filled in: a second click sends the same run.
	let key = null;

	form.addEventListener('input', () => { key = null; });
	form.addEventListener('submit', async (e) => {
		const n = Number(number.value);
		const body = {
			repo: repo.value.trim(),
			target: { type: type.value, number: number.value === '' || !Number.isFinite(n) ? null : n },
			instruction: instruction.value,
		};

		e.preventDefault();
		if (requester.value.trim())
			body.requested_by = requester.value.trim();
		if (!key && window.crypto && crypto.randomUUID)
			key = crypto.randomUUID();
		button.disabled = true;
		out.replaceChildren();
		try {
			const created = await api('POST', '/api/runs', { body, idempotencyKey: key });
			showFieldErrors(form, []);
			go(`#/runs/${created.id}`);
		} catch (err) {
			showFieldErrors(form, err.details);
			out.append(errorBox(err, 'The run was not created.'));
		} finally {
			button.disabled = false;
		}
	});
	return h('details', { class: 'card new-run' }, h('summary', null, 'Start a run'), form);
}

// How long the run ran, or has run so far; waiting while queued.
function took(r) {
	if (r.status === 'queued' || (r.status === 'cancelled' && !r.started_at))
		return h('span', { class: 'muted' }, r.status === 'queued' ? 'waiting' : '–');
	return duration(between(r.started_at, r.finished_at || new Date().toISOString()));
}

function row(r) {
	return h('tr', { 'data-run': r.id },
	    h('td', { 'data-label': 'Status' }, badge(r.status)),
	    h('td', { 'data-label': 'Repository' }, r.repo),
	    h('td', { 'data-label': 'Target' }, target(r.target)),
	    h('td', { 'data-label': 'Instruction', class: 'instruction' },
		h('a', { href: `#/runs/${r.id}`, title: `Run ${r.id}` }, r.instruction)),
	    h('td', { 'data-label': 'Source' }, r.source),
	    h('td', { 'data-label': 'Created' }, time(r.created_at)),
	    h('td', { 'data-label': 'Duration' }, took(r)));
}

function table(list) {
	const cols = ['Status', 'Repository', 'Target', 'Instruction', 'Source', 'Created', 'Duration'];

	if (list.runs.length === 0)
		return h('p', { class: 'empty' }, list.total > 0 ? 'This page is past the last one.' : 'No run matches these filters.');
	return h('table', { class: 'runs' },
	    h('caption', { class: 'visually-hidden' }, 'Runs, newest first'),
	    h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
	    h('tbody', null, list.runs.map(row)));
}

function pager(list, p) {
	const page = list.page;
	const last = list.total_pages;

	return h('nav', { class: 'pager', 'aria-label': 'Pages' },
	    page > 1 ? h('a', { href: link(p, { page: page - 1 }), rel: 'prev' }, '← Newer') : h('span', { class: 'muted' }, '← Newer'),
	    h('span', { class: 'page-of' }, last ? `Page ${page} of ${last} · ${list.total} run${list.total === 1 ? '' : 's'}` : '0 runs'),
	    page < last ? h('a', { href: link(p, { page: page + 1 }), rel: 'next' }, 'Older →') : h('span', { class: 'muted' }, 'Older →'));
}

export function render(main, { query, go }) {
	const p = params(query);
	const updated = statusLine('updated');
	const errors = h('div');
	const body = h('div', { class: 'runs-body', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
	let timer = null;
	let stopped = false;

	async function load() {
		try {
			const list = await api('GET', `/api/runs${qs(p)}`);
			if (stopped)
				return;
			fill(body, table(list), pager(list, p));
			body.setAttribute('aria-busy', 'false');
			errors.replaceChildren();
			updated.textContent = `Updated at ${clock(new Date())}; refreshed every ${REFRESH_MS / 1000} s.`;
		} catch (err) {
			if (stopped)
				return;
			fill(errors, errorBox(err, 'The runs could not be listed.'));
			body.setAttribute('aria-busy', 'false');
			if (err.status >= 400 && err.status < 500) {
				body.replaceChildren();
				return;	// the same request would be refused again
			}
		}
		timer = setTimeout(load, REFRESH_MS);
	}

	main.append(heading('Runs'), filters(p, go), newRunForm(go), updated, errors, body);
	load();
	return () => {
		stopped = true;
		clearTimeout(timer);
	};
}
