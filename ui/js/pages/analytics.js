// Analytics: the figures of GET /api/analytics over a window of days, the
// per-day chart and the busiest repositories.

import { api, query as qs } from '../api.js';
import { h, fill, field } from '../dom.js';
import { duration, percent } from '../format.js';
import { perDayChart } from '../chart.js';
import { errorBox, heading } from '../views.js';

const WINDOWS = [7, 30, 90, 365];

function windowNav(days, go) {
	const input = h('input', { name: 'days', type: 'number', min: 1, max: 365, step: 1, value: days || 30, inputmode: 'numeric' });
	const form = h('form', { class: 'days-form', novalidate: true },
	    field('Days', input), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Show')));

	form.addEventListener('submit', (e) => {
		e.preventDefault();
		go(`#/analytics${qs({ days: input.value.trim() })}`);
	});
	return h('div', { class: 'window' },
	    h('nav', { class: 'segmented', 'aria-label': 'Window' },
		WINDOWS.map((n) => h('a', { href: `#/analytics?days=${n}`, 'aria-current': String(n) === String(days || 30) ? 'page' : null },
		    n === 365 ? '1 year' : `${n} days`))),
	    form);
}

function figure(label, value, sub) {
	return h('div', { class: 'figure' }, h('p', { class: 'figure-label' }, label),
	    h('p', { class: 'figure-value' }, value), sub ? h('p', { class: 'figure-sub' }, sub) : null);
}

function figures(a) {
	const r = a.runs;
	return h('div', { class: 'figures' },
	    figure('Runs', String(r.total), `${a.sources.api} from the API, ${a.sources.webhook} from GitHub`),
	    figure('Success rate', percent(a.success_rate), `${r.succeeded} succeeded, ${r.failed} failed`),
	    figure('Other runs', String(r.cancelled + r.queued + r.running), `${r.cancelled} cancelled, ${r.queued} queued, ${r.running} running`),
	    figure('Duration', duration(a.duration_seconds.p50), `median; mean ${duration(a.duration_seconds.avg)}, p95 ${duration(a.duration_seconds.p95)}`),
	    figure('Queue wait', duration(a.queue_wait_seconds.avg), `mean; p95 ${duration(a.queue_wait_seconds.p95)}`));
}

function topRepos(a) {
	if (a.top_repos.length === 0)
		return h('p', { class: 'muted' }, 'No run in this window.');
	const most = Math.max(...a.top_repos.map((t) => t.total));
	return h('table', { class: 'top-repos' },
	    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Repository'),
		['Runs', 'Succeeded', 'Failed'].map((c) => h('th', { scope: 'col', class: 'num' }, c)),
		h('th', { scope: 'col', class: 'meter-cell' }, 'Share'))),
	    h('tbody', null, a.top_repos.map((t) => h('tr', null,
		h('td', { 'data-label': 'Repository' }, h('a', { href: `#/runs${qs({ repo: t.repo })}` }, t.repo)),
		h('td', { 'data-label': 'Runs', class: 'num' }, String(t.total)),
		h('td', { 'data-label': 'Succeeded', class: 'num' }, String(t.succeeded)),
		h('td', { 'data-label': 'Failed', class: 'num' }, String(t.failed)),
		h('td', { 'data-label': 'Share', class: 'meter-cell' },
		    h('meter', { min: 0, max: most, value: t.total, 'aria-label': `${t.total} of ${most}` }))))));
}

function dayTable(a) {
	return h('details', { class: 'day-table' }, h('summary', null, 'The days as a table'),
	    h('table', null,
		h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day (UTC)'),
		    ['Runs', 'Succeeded', 'Failed'].map((c) => h('th', { scope: 'col', class: 'num' }, c)))),
		h('tbody', null, [...a.per_day].reverse().map((d) => h('tr', null,
		    h('td', null, d.date), h('td', { class: 'num' }, String(d.total)),
		    h('td', { class: 'num' }, String(d.succeeded)), h('td', { class: 'num' }, String(d.failed)))))));
}

export function render(main, { query, go }) {
	const days = query.get('days');
	const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
	let stopped = false;

	main.append(heading('Analytics'), windowNav(days, go), body);
	api('GET', `/api/analytics${qs({ days })}`).then((a) => {
		if (stopped)
			return;
		const from = a.window.from.slice(0, 10);
		fill(body, h('p', { class: 'window-note' },
		    `The last ${a.window.days} day${a.window.days === 1 ? '' : 's'} in UTC, from ${from} to now; runs count by the day they were created.`),
		figures(a),
		h('section', { class: 'card', 'aria-labelledby': 'chart-h' },
		    h('h2', { id: 'chart-h' }, 'Succeeded and failed runs per day'),
		    h('p', { class: 'legend' }, h('span', { class: 'key key-succeeded' }), 'succeeded ',
			h('span', { class: 'key key-failed' }), 'failed'),
		    perDayChart(a.per_day, main.clientWidth - 66), dayTable(a)),
		h('section', { class: 'card', 'aria-labelledby': 'top-h' },
		    h('h2', { id: 'top-h' }, 'Busiest repositories'), topRepos(a)));
		body.setAttribute('aria-busy', 'false');
	}).catch((err) => {
		if (!stopped) {
			fill(body, errorBox(err, 'The analytics could not be read.'));
			body.setAttribute('aria-busy', 'false');
		}
	});
	return () => { stopped = true; };
}
