// main.js: the dashboard's shell: the session, the navigation and a
// router on the URL's fragment (#/runs, #/runs/ID, #/analytics, #/admin,
// #/login), so that nginx serves plain files and every path it does not
// know stays a 404.

import { api, clearSession, getRole, getToken, saveSession } from './api.js';
import { h, fill } from './dom.js';
import { errorBox, heading } from './views.js';
import * as login from './pages/login.js';
import * as runs from './pages/runs.js';
import * as run from './pages/run.js';
import * as analytics from './pages/analytics.js';
import * as admin from './pages/admin.js';

// Pattern on the path part of the fragment, page, whether it needs a token.
const ROUTES = [
	[/^\/login$/, login, false],
	[/^\/runs$/, runs, true],
	[/^\/runs\/([^/]+)$/, run, true],
	[/^\/analytics$/, analytics, true],
	[/^\/admin$/, admin, true],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let leave = null;	// the current page's clean-up: stops its polls

// "#/runs?status=failed" → {path: "/runs", query: URLSearchParams}.
function current() {
	const frag = window.location.hash.replace(/^#/, '') || '/runs';
	const i = frag.indexOf('?');

	return {
		path: i < 0 ? frag : frag.slice(0, i),
		query: new URLSearchParams(i < 0 ? '' : frag.slice(i + 1)),
	};
}

export function go(fragment) {
	if (window.location.hash === fragment)
		route();
	else
		window.location.hash = fragment;
}

function renderNav(path) {
	const token = getToken();
	const links = [['#/runs', 'Runs', /^\/runs/], ['#/analytics', 'Analytics', /^\/analytics/]];

	if (token && getRole() === 'admin')
		links.push(['#/admin', 'Admin', /^\/admin/]);
	fill(nav, token ? links.map(([href, text, re]) =>
	    h('a', { href, 'aria-current': re.test(path) ? 'page' : null }, text)) : []);
	fill(who, token ? [
		h('span', { class: 'role' }, getRole()),
		h('button', { type: 'button', class: 'link-button', id: 'sign-out',
		    onclick: () => { clearSession(); go('#/login'); } }, 'Sign out'),
	] : []);
}

function route() {
	const { path, query } = current();
	const found = ROUTES.map(([re, page, auth]) => [path.match(re), page, auth])
	    .find(([m]) => m);

	if (leave) {
		leave();
		leave = null;
	}
	if (!found) {
		window.location.replace('#/runs');
		return;
	}
	const [m, page, auth] = found;
	if (auth && !getToken()) {
		const next = window.location.hash || '#/runs';
		window.location.replace(`#/login?next=${encodeURIComponent(next)}`);
		return;
	}

	renderNav(path);
	main.replaceChildren();
	try {
		leave = page.render(main, { params: m.slice(1).map(decodeURIComponent), query, go }) || null;
	} catch (err) {
		// A fragment no page can read (a stray "%" in it, say).
		fill(main, heading('This page cannot be shown'), errorBox(err),
		    h('p', null, h('a', { href: '#/runs' }, 'Go to the runs')));
	}
	const title = main.querySelector('h1');
	const first = main.querySelector('[data-autofocus]') || title;
	document.title = title ? `${title.textContent} · GitTinkerer` : 'GitTinkerer';
	if (first)
		first.focus({ preventScroll: true });
}

// A token the service refuses ends the session, whatever page asked.
window.addEventListener('gt:unauthorized', (e) => {
	clearSession();
	if (current().path === '/login')
		return;	// another request of the same page got there first
	sessionStorage.setItem('gittinkerer.notice', e.detail.message);
	go(`#/login?next=${encodeURIComponent(window.location.hash)}`);
});

// Whether the token is an admin's is known only by trying an admin route.
async function refreshRole() {
	const token = getToken();
	let role = null;

	if (!token)
		return;
	try {
		await api('GET', '/api/admin/paused');
		role = 'admin';
	} catch (err) {
		if (err.status === 403)
			role = 'operator';
	}
	// Unless the tab signed out or in again meanwhile.
	if (role && getToken() === token) {
		saveSession(token, role);
		renderNav(current().path);
	}
}

document.getElementById('skip').addEventListener('click', (e) => {
	e.preventDefault();
	(main.querySelector('h1') || main).focus();
});
window.addEventListener('hashchange', route);
route();
refreshRole();
