// Admin: what is paused, pausing and resuming a repository or a target,
// and a repository's rate-limit override.  Shown to an admin token only:
// the page asks GET /api/admin/paused first and shows the service's
// refusal to any other token.

import { api } from '../api.js';
import { h, fill, field, showFieldErrors } from '../dom.js';
import { dateTime, target } from '../format.js';
import { errorBox, heading, time } from '../views.js';

const rateLimitPath = (repo) => {
	const parts = repo.split('/');
	return parts.length === 2 && parts[0] && parts[1]
	    ? `/api/admin/rate-limits/${parts.map(encodeURIComponent).join('/')}` : null;
};

function done(out, text) {
	fill(out, h('p', { class: 'ok', role: 'status' }, text));
}

// A form whose buttons each send their own request: action(submitter)
// returns the promise of a sentence to show, or throws an ApiError.
function actionForm(label, fields, buttons, action) {
	const out = h('div', { class: 'form-out' });
	const form = h('form', { class: 'grid-form', novalidate: true, 'aria-label': label },
	    fields, h('div', { class: 'actions wide' }, buttons), h('div', { class: 'wide' }, out));

	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const btns = form.querySelectorAll('button');
		btns.forEach((b) => { b.disabled = true; });
		try {
			done(out, await action(e.submitter ? e.submitter.value : buttons[0].value));
			showFieldErrors(form, []);
		} catch (err) {
			showFieldErrors(form, err.details);
			fill(out, errorBox(err));
		} finally {
			btns.forEach((b) => { b.disabled = false; });
		}
	});
	return form;
}

function pausedTables(p, resume) {
	const repos = p.repos.length === 0 ? h('p', { class: 'muted' }, 'No repository is paused.')
	    : h('table', { class: 'paused-repos' },
		h('thead', null, h('tr', null, ['Repository', 'Reason', 'Since', ''].map((c) => h('th', { scope: 'col' }, c)))),
		h('tbody', null, p.repos.map((r) => h('tr', null,
		    h('td', { 'data-label': 'Repository' }, r.repo),
		    h('td', { 'data-label': 'Reason' }, r.reason || h('span', { class: 'muted' }, '–')),
		    h('td', { 'data-label': 'Since' }, time(r.paused_at)),
		    h('td', { class: 'row-actions' }, h('button', { type: 'button', class: 'secondary small',
			'aria-label': `Resume ${r.repo}`,
			onclick: () => resume('/api/admin/resume-repo', { repo: r.repo }, `${r.repo} was resumed.`) }, 'Resume'))))));
	const targets = p.targets.length === 0 ? h('p', { class: 'muted' }, 'No issue or pull request is paused.')
	    : h('table', { class: 'paused-targets' },
		h('thead', null, h('tr', null, ['Repository', 'Target', 'Reason', 'Since', ''].map((c) => h('th', { scope: 'col' }, c)))),
		h('tbody', null, p.targets.map((t) => h('tr', null,
		    h('td', { 'data-label': 'Repository' }, t.repo),
		    h('td', { 'data-label': 'Target' }, target(t.target)),
		    h('td', { 'data-label': 'Reason' }, t.reason || h('span', { class: 'muted' }, '–')),
		    h('td', { 'data-label': 'Since' }, time(t.paused_at)),
		    h('td', { class: 'row-actions' }, h('button', { type: 'button', class: 'secondary small',
			'aria-label': `Resume ${t.repo} ${target(t.target)}`,
			onclick: () => resume('/api/admin/resume-target', { repo: t.repo, target: t.target },
			    `${t.repo} ${target(t.target)} was resumed.`) }, 'Resume'))))));
	return [h('h3', null, 'Repositories'), repos, h('h3', null, 'Issues and pull requests'), targets];
}

function repoForm(reload) {
	const repo = h('input', { name: 'repo', placeholder: 'owner/name', autocomplete: 'off', spellcheck: 'false' });
	const reason = h('input', { name: 'reason', autocomplete: 'off' });

	return actionForm('Pause or resume a repository',
	    [field('Repository', repo), field('Reason', reason, 'Optional; shown with the pause.')],
	    [h('button', { type: 'submit', value: 'pause', id: 'pause-repo' }, 'Pause'),
		h('button', { type: 'submit', value: 'resume', class: 'secondary', id: 'resume-repo' }, 'Resume')],
	    async (what) => {
		const body = { repo: repo.value.trim() };
		if (what === 'pause' && reason.value.trim())
			body.reason = reason.value.trim();
		const r = await api('POST', `/api/admin/${what}-repo`, { body });
		reload();
		return r.paused ? `${r.repo} is paused: no run can be created for it, and its queued runs wait.`
		    : `${r.repo} is resumed.`;
	    });
}

function targetForm(reload) {
	const repo = h('input', { name: 'repo', placeholder: 'owner/name', autocomplete: 'off', spellcheck: 'false' });
	const type = h('select', { name: 'target.type' },
	    h('option', { value: 'issue' }, 'issue'), h('option', { value: 'pull_request' }, 'pull request'));
	const number = h('input', { name: 'target.number', type: 'number', min: 1, step: 1, inputmode: 'numeric' });
	const reason = h('input', { name: 'reason', autocomplete: 'off' });

	return actionForm('Pause or resume an issue or pull request',
	    [field('Repository', repo), field('Target', type), field('Number', number), field('Reason', reason, 'Optional.')],
	    [h('button', { type: 'submit', value: 'pause' }, 'Pause'),
		h('button', { type: 'submit', value: 'resume', class: 'secondary' }, 'Resume')],
	    async (what) => {
		const n = Number(number.value);
		const body = {
			repo: repo.value.trim(),
			target: { type: type.value, number: number.value === '' || !Number.isFinite(n) ? null : n },
		};
		if (what === 'pause' && reason.value.trim())
			body.reason = reason.value.trim();
		const r = await api('POST', `/api/admin/${what}-target`, { body });
		reload();
		return `${r.repo} ${target(r.target)} is ${r.paused ? 'paused' : 'resumed'}.`;
	    });
}

function limitForm() {
	const repo = h('input', { name: 'repo', placeholder: 'owner/name', autocomplete: 'off', spellcheck: 'false' });
	const limit = h('input', { name: 'limit', type: 'number', min: 1, max: 1000000, step: 1, inputmode: 'numeric' });
	const windowS = h('input', { name: 'window_seconds', type: 'number', min: 1, max: 2592000, step: 1, value: 3600, inputmode: 'numeric' });

	return actionForm('Rate-limit override',
	    [field('Repository', repo), field('Runs', limit, '1 to 1,000,000.'), field('Window (seconds)', windowS, '1 to 2,592,000 (30 days).')],
	    [h('button', { type: 'submit', value: 'set', id: 'set-limit' }, 'Set the override'),
		h('button', { type: 'submit', value: 'remove', class: 'secondary', id: 'remove-limit' }, 'Remove it')],
	    async (what) => {
		const path = rateLimitPath(repo.value.trim());
		if (!path) {
			const err = new Error('Name the repository as owner/name.');
			err.details = [{ field: 'repo', message: 'must be owner/name' }];
			throw err;
		}
		if (what === 'remove') {
			await api('DELETE', path);
			return `${repo.value.trim()} has no override: the configured defaults apply.`;
		}
		const num = (el) => (el.value === '' ? null : Number(el.value));
		const r = await api('PUT', path, { body: { limit: num(limit), window_seconds: num(windowS) } });
		return `${r.repo} may have ${r.limit} run${r.limit === 1 ? '' : 's'} every ${r.window_seconds} s (set ${dateTime(r.updated_at)}).`;
	    });
}

export function render(main) {
	const errors = h('div');
	const list = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
	const resumeOut = h('div');
	let stopped = false;
	let shown = false;

	async function resume(path, body, text) {
		try {
			await api('POST', path, { body });
			done(resumeOut, text);
			await reload();
		} catch (err) {
			fill(resumeOut, errorBox(err));
		}
	}

	async function reload() {
		try {
			const p = await api('GET', '/api/admin/paused');
			if (stopped)
				return;
			fill(list, pausedTables(p, resume));
			errors.replaceChildren();
			if (!shown) {
				shown = true;
				main.append(
				    h('section', { class: 'card', 'aria-labelledby': 'pr-h' }, h('h2', { id: 'pr-h' }, 'Pause or resume a repository'), repoForm(reload)),
				    h('section', { class: 'card', 'aria-labelledby': 'pt-h' }, h('h2', { id: 'pt-h' }, 'Pause or resume an issue or pull request'), targetForm(reload)),
				    h('section', { class: 'card', 'aria-labelledby': 'rl-h' }, h('h2', { id: 'rl-h' }, 'Rate-limit override'),
					h('p', { class: 'hint' }, 'Replaces the configured limit on runs created for one repository. The API lists no overrides: set or remove one by name.'),
					limitForm()));
			}
		} catch (err) {
			if (stopped)
				return;
			if (!shown)
				pausedSection.remove();
			fill(errors, errorBox(err, err.status === 403 ? 'This page is for admin tokens.' : 'What is paused could not be read.'));
		}
	}

	const pausedSection = h('section', { class: 'card', 'aria-labelledby': 'paused-h' },
	    h('h2', { id: 'paused-h' }, 'Paused now'), resumeOut, list);
	main.append(heading('Admin'), errors, pausedSection);
	reload();
	return () => { stopped = true; };
}
