// A run's page: its status, polled every two seconds until it finishes;
// its result, error and artifacts; log.txt, followed while the run runs;
// and cancelling it.

import { api, runPath } from '../api.js';
import { h, fill, uid } from '../dom.js';
import { bytes, clock, duration, between, target, targetUrl } from '../format.js';
import { badge, errorBox, heading, statusLine, time, FINISHED } from '../views.js';

const POLL_MS = 2000;
const LOG_NAME = 'log.txt';
const LOG_SHOW_MAX = 4 * 1024 * 1024;	// larger logs are downloaded, not shown
const TEXT_NAME = /\.(txt|log|json|patch|diff|md)$/;

function facts(r) {
	const rows = [
		['Repository', r.repo],
		['Target', h('a', { href: targetUrl(r.repo, r.target), rel: 'noreferrer', target: '_blank' }, target(r.target))],
		['Instruction', h('span', { class: 'instruction-text' }, r.instruction)],
		['Requested by', r.requested_by || h('span', { class: 'muted' }, '–')],
		['Source', r.source],
		['Created', time(r.created_at)],
		['Started', time(r.started_at)],
		['Finished', time(r.finished_at)],
		['Queue wait', duration(between(r.created_at, r.started_at))],
		['Run time', r.status === 'running'
		    ? `${duration(between(r.started_at, new Date().toISOString()))} so far`
		    : duration(between(r.started_at, r.finished_at))],
		['Exit code', r.exit_code === null ? h('span', { class: 'muted' }, '–') : String(r.exit_code)],
		['Id', h('code', null, r.id)],
	];
	return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function outcome(r) {
	const parts = [];

	if (r.error)
		parts.push(h('div', { class: ['run-error', `stage-${r.error.stage}`], role: r.status === 'failed' ? 'alert' : null },
		    h('h2', null, 'Error'),
		    h('p', null, h('span', { class: 'stage' }, r.error.stage), ' ', r.error.message)));
	if (r.result) {
		const res = r.result;
		parts.push(h('div', { class: 'run-result' }, h('h2', null, 'Result'),
		    h('dl', { class: 'facts' },
			h('dt', null, 'Summary'), h('dd', { class: 'summary' }, res.summary || h('span', { class: 'muted' }, '–')),
			h('dt', null, 'Pull request'), h('dd', null, res.pr_url
			    ? h('a', { href: res.pr_url, rel: 'noreferrer', target: '_blank' }, res.pr_url)
			    : h('span', { class: 'muted' }, 'none')),
			h('dt', null, 'Commit'), h('dd', null, res.commit_sha ? h('code', null, res.commit_sha) : h('span', { class: 'muted' }, 'none')))));
	} else if (FINISHED.includes(r.status) && !r.error) {
		parts.push(h('p', { class: 'muted' }, 'The runner reported no result.'));
	}
	return parts;
}

// Saves an artifact: the token goes in a header, so a plain link cannot.
async function download(url, name, out) {
	try {
		const blob = await api('GET', url, { as: 'blob' });
		const href = URL.createObjectURL(blob);
		const a = h('a', { href, download: name, class: 'visually-hidden' });
		document.body.append(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(href), 10000);
	} catch (err) {
		fill(out, errorBox(err, `${name} could not be downloaded.`));
	}
}

function artifacts(r, view, out) {
	const list = r.artifacts || [];

	if (list.length === 0)
		return h('p', { class: 'muted' }, r.status === 'queued' ? 'None yet: the run has not started.' : 'This run has no artifacts.');
	return h('table', { class: 'artifacts' },
	    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
	    h('tbody', null, list.map((a) => h('tr', null,
		h('td', null, h('code', null, a.name)),
		h('td', { class: 'size' }, bytes(a.size)),
		h('td', { class: 'row-actions' },
		    TEXT_NAME.test(a.name) && a.size <= LOG_SHOW_MAX
			? h('button', { type: 'button', class: 'secondary small', onclick: () => view(a) }, 'View') : null,
		    h('button', { type: 'button', class: 'secondary small', onclick: () => download(a.url, a.name, out) }, 'Download'))))));
}

export function render(main, { params }) {
	const id = params[0];
	const live = h('span', { class: 'run-status', 'aria-live': 'polite' });
	const title = heading('Run ', h('code', { class: 'short-id' }, id.slice(0, 8)), ' ', live);
	const errors = h('div');
	const actions = h('div', { class: 'run-actions' });
	const info = h('section', { class: 'card', 'aria-label': 'The run' }, h('p', { class: 'muted' }, 'Loading…'));
	const result = h('section', { class: 'outcome' });
	const artOut = h('div');
	const artList = h('div');
	const viewer = h('div', { class: 'viewer' });
	const followId = uid('follow');
	const follow = h('input', { type: 'checkbox', id: followId, checked: true });
	const logState = statusLine('log-state');
	const log = h('pre', { class: 'log', id: 'log', tabindex: '0', 'aria-label': LOG_NAME });
	const logSection = h('section', { class: 'card log-card', 'aria-labelledby': 'log-h' },
	    h('div', { class: 'log-head' }, h('h2', { id: 'log-h' }, 'Log'),
		h('label', { class: 'check', for: followId }, follow, ' Follow the end')),
	    logState, log);
	const artSection = h('section', { class: 'card', 'aria-labelledby': 'art-h' },
	    h('h2', { id: 'art-h' }, 'Artifacts'), artOut, artList);
	let run = null;
	let logSize = -1;
	let timer = null;
	let stopped = false;
	let confirming = false;

	async function view(a) {
		try {
			const text = await api('GET', a.url, { as: 'text' });
			fill(viewer, h('div', { class: 'card' },
			    h('div', { class: 'log-head' }, h('h2', null, a.name),
				h('button', { type: 'button', class: 'secondary small', onclick: () => viewer.replaceChildren() }, 'Close')),
			    h('pre', { class: 'log artifact-text', tabindex: '0', 'aria-label': a.name }, text)));
			viewer.querySelector('h2').scrollIntoView({ block: 'nearest' });
		} catch (err) {
			fill(artOut, errorBox(err, `${a.name} could not be read.`));
		}
	}

	async function loadLog() {
		const art = (run.artifacts || []).find((a) => a.name === LOG_NAME);
		const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
		const finished = FINISHED.includes(run.status);

		if (!art) {
			logState.textContent = run.status === 'queued'
			    ? 'The log starts when the run does.' : finished ? 'This run wrote no log.' : 'Waiting for the runner’s first line…';
			return;
		}
		if (art.size > LOG_SHOW_MAX) {
			logState.textContent = `${LOG_NAME} is ${bytes(art.size)}: too long to show here; download it above.`;
			return;
		}
		if (art.size !== logSize) {
			log.textContent = await api('GET', art.url, { as: 'text' });
			logSize = art.size;
			if (follow.checked && (atEnd || !finished))
				log.scrollTop = log.scrollHeight;
		}
		logState.textContent = finished
		    ? `The run has finished; ${LOG_NAME} is complete (${bytes(art.size)}).`
		    : `Following ${LOG_NAME} while the run runs: updated at ${clock(new Date())}.`;
	}

	function renderActions() {
		if (!run || FINISHED.includes(run.status)) {
			actions.replaceChildren();
			return;
		}
		if (!confirming) {
			fill(actions, h('button', { type: 'button', class: 'danger', id: 'cancel', onclick: () => {
				confirming = true;
				renderActions();
				actions.querySelector('#cancel-yes').focus();
			} }, 'Cancel this run'));
			return;
		}
		fill(actions, h('p', { class: 'confirm' }, 'Cancel this run? A running runner is stopped.'),
		    h('button', { type: 'button', class: 'danger', id: 'cancel-yes', onclick: cancel }, 'Yes, cancel it'),
		    h('button', { type: 'button', class: 'secondary', onclick: () => {
			confirming = false;
			renderActions();
			actions.querySelector('#cancel').focus();
		    } }, 'Keep it'));
	}

	async function cancel() {
		confirming = false;
		try {
			update(await api('POST', `${runPath(id)}/cancel`));
			errors.replaceChildren();
		} catch (err) {
			fill(errors, errorBox(err, 'The run was not cancelled.'));
		}
		renderActions();
	}

	// Draws what changed since the last answer, so that a selection or
	// the focus in a part that did not change is kept.
	function update(r) {
		const next = { ...r, artifacts: r.artifacts || (run && run.artifacts) };
		const changed = !run || run.status !== next.status;
		const same = (k) => run && JSON.stringify(run[k]) === JSON.stringify(next[k]);

		if (changed)
			fill(live, badge(next.status));
		if (changed || next.status === 'running')
			fill(info, facts(next));
		if (!same('result') || !same('error') || changed)
			fill(result, outcome(next));
		if (!same('artifacts'))
			fill(artList, artifacts(next, view, artOut));
		run = next;
		if (changed && !confirming)
			renderActions();
	}

	async function poll() {
		try {
			update(await api('GET', runPath(id)));
			if (!logSection.isConnected)
				artSection.before(logSection);
			errors.replaceChildren();
			await loadLog();
		} catch (err) {
			if (stopped)
				return;
			fill(errors, errorBox(err, run ? 'The run could not be refreshed.' : 'The run could not be shown.'));
			if (!run) {
				info.remove();
				artSection.remove();
			}
			if (err.status >= 400 && err.status < 500)
				return;	// the same request would be refused again
		}
		if (!stopped && !(run && FINISHED.includes(run.status)))
			timer = setTimeout(poll, POLL_MS);
	}

	main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/runs' }, '← Runs')),
	    title, errors, actions, info, result, artSection, viewer);
	poll();
	return () => {
		stopped = true;
		clearTimeout(timer);
	};
}
