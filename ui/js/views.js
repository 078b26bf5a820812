// views.js: pieces the pages share.

import { h } from './dom.js';
import { dateTime, ago } from './format.js';

export const FINISHED = ['succeeded', 'failed', 'cancelled'];
export const STATUSES = ['queued', 'running', ...FINISHED];

// The status as a word in a coloured badge: the colour is never the only
// sign.
export function badge(status) {
	return h('span', { class: ['badge', `status-${status}`] }, status);
}

// An API error as the contract gives it: its message first, then its code,
// the fields at fault and the request id to look for in the logs.
export function errorBox(err, lead) {
	const details = (err.details || []).filter((d) => d && d.field);

	return h('div', { class: 'error-box', role: 'alert' },
	    lead ? h('p', { class: 'error-lead' }, lead) : null,
	    h('p', { class: 'error-message' }, err.message || String(err)),
	    details.length ? h('ul', { class: 'error-details' },
		details.map((d) => h('li', null, h('code', null, d.field), ' ', d.message))) : null,
	    h('p', { class: 'error-meta' },
		err.status ? `${err.status} ` : '',
		err.code ? h('code', null, err.code) : null,
		err.requestId ? ` · request ${err.requestId}` : ''));
}

// A time, local, with its UTC form and age in the title.
export function time(iso) {
	if (!iso)
		return h('span', { class: 'muted' }, '–');
	return h('time', { datetime: iso, title: `${iso} (${ago(iso)})` }, dateTime(iso));
}

// A page's heading, focused after navigation so that a screen reader and a
// keyboard start from it.
export function heading(text, ...extra) {
	return h('h1', { tabindex: '-1', class: 'page-title' }, text, ...extra);
}

// A polite live line for "saved", "updated at", and such.
export function statusLine(cls) {
	return h('p', { class: ['status-line', cls], role: 'status' });
}
