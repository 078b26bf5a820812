// api.js: the service's API as the dashboard calls it.
//
// The token lives in this tab's session storage and goes out as a bearer
// token (spec/api.md, Authentication).  Every refusal becomes an ApiError
// carrying the contract's code and message, which the pages show as they
// are; a token refused mid-session sends the tab back to the sign-in page.

const TOKEN_KEY = 'gittinkerer.token';
const ROLE_KEY = 'gittinkerer.role';

export class ApiError extends Error {
	constructor(status, code, message, details, requestId) {
		super(message);
		this.name = 'ApiError';
		this.status = status;		// 0 when no answer came
		this.code = code;		// the contract's code, or our own
		this.details = details || [];	// validation_failed only
		this.requestId = requestId || null;
	}
}

export function getToken() {
	return sessionStorage.getItem(TOKEN_KEY);
}

export function getRole() {
	return sessionStorage.getItem(ROLE_KEY) || 'operator';
}

export function saveSession(token, role) {
	sessionStorage.setItem(TOKEN_KEY, token);
	sessionStorage.setItem(ROLE_KEY, role);
}

export function clearSession() {
	sessionStorage.removeItem(TOKEN_KEY);
	sessionStorage.removeItem(ROLE_KEY);
}

// The error an answer carries: the contract's body when there is one, else
// a sentence made from the status (a proxy's HTML page, say).
async function errorOf(res) {
	const requestId = res.headers.get('X-Request-Id');
	let body = null;

	try {
		body = await res.json();
	} catch {
		// Not JSON: described below.
	}
	const e = body && body.error;
	if (e && typeof e.code === 'string' && typeof e.message === 'string')
		return new ApiError(res.status, e.code, e.message, e.details, requestId);
	const status = [res.status, res.statusText].filter(Boolean).join(' ');
	return new ApiError(res.status, `http_${res.status}`,
	    `The service answered ${status} without an error message it could read.`,
	    null, requestId);
}

// Calls the API.  Options: body (sent as JSON), token (instead of the
// session's), idempotencyKey, signal, and as: 'json' (default), 'text'
// or 'blob'.  Returns the answer, null for a 204; throws ApiError.
export async function api(method, path, opts = {}) {
	const token = opts.token !== undefined ? opts.token : getToken();
	const headers = { Accept: 'application/json' };
	let res;

	if (token)
		headers.Authorization = `Bearer ${token}`;
	if (opts.body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (opts.idempotencyKey)
		headers['Idempotency-Key'] = opts.idempotencyKey;
	try {
		res = await fetch(path, {
			method, headers, signal: opts.signal, cache: 'no-store',
			credentials: 'omit', redirect: 'error',
			body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
		});
	} catch (err) {
		if (err.name === 'AbortError')
			throw err;
		throw new ApiError(0, 'network',
		    'The service could not be reached; check the connection, then retry.');
	}

	if (!res.ok) {
		const err = await errorOf(res);
		// A refused token anywhere but the sign-in check ends the session.
		if (res.status === 401 && opts.token === undefined)
			window.dispatchEvent(new CustomEvent('gt:unauthorized', { detail: err }));
		throw err;
	}
	if (res.status === 204)
		return null;
	if (opts.as === 'text')
		return res.text();
	if (opts.as === 'blob')
		return res.blob();
	try {
		return await res.json();
	} catch {
		throw new ApiError(res.status, 'bad_answer',
		    'The service answered with a body that is not the JSON expected; reload the page, then retry.',
		    null, res.headers.get('X-Request-Id'));
	}
}

// A query string of the members that are set.
export function query(params) {
	const q = new URLSearchParams();

	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== '')
			q.set(k, String(v));
	const str = q.toString();
	return str ? `?${str}` : '';
}

export const runPath = (id) => `/api/runs/${encodeURIComponent(id)}`;
