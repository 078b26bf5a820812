// The sign-in page: a token, checked against the service before it is
// kept, and the role it has.

import { api, clearSession, saveSession, ApiError } from '../api.js';
import { h, field } from '../dom.js';
import { errorBox, heading } from '../views.js';

// Only the dashboard's own pages may follow a sign-in.
function nextPage(query) {
	const next = query.get('next') || '';
	return /^#\/[A-Za-z0-9/_?=&%.-]*$/.test(next) && !next.startsWith('#/login') ? next : '#/runs';
}

export function render(main, { query, go }) {
	const notice = sessionStorage.getItem('gittinkerer.notice');
	const input = h('input', {
		type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false',
		required: true, 'data-autofocus': true,
	});
	const button = h('button', { type: 'submit' }, 'Sign in');
	const out = h('div', { class: 'login-out' });
	const form = h('form', { class: 'card login', novalidate: true },
	    field('Token', input, 'An operator or admin token. It is kept in this tab only (session storage) and sent as a bearer token.'),
	    h('div', { class: 'actions' }, button),
	    out);

	sessionStorage.removeItem('gittinkerer.notice');
	if (notice)
		out.append(errorBox(new ApiError(401, 'unauthorized', notice), 'The service refused the token this tab had; sign in again.'));

	form.addEventListener('submit', async (e) => {
		const token = input.value.trim();
		let role = 'operator';

		e.preventDefault();
		out.replaceChildren();
		if (!token) {
			out.append(errorBox(new ApiError(0, 'missing_token', 'Paste a token first.')));
			input.focus();
			return;
		}
		button.disabled = true;
		button.textContent = 'Checking…';
		try {
			await api('GET', '/api/runs?limit=1', { token });
			try {
				await api('GET', '/api/admin/paused', { token });
				role = 'admin';
			} catch (err) {
				if (err.status !== 403)
					throw err;
			}
			saveSession(token, role);
			go(nextPage(query));
		} catch (err) {
			clearSession();
			out.append(errorBox(err, err.status === 401 ? 'This token was refused.' : 'The token could not be checked.'));
			input.select();
			input.focus();
		} finally {
			button.disabled = false;
			button.textContent = 'Sign in';
		}
	});

	main.append(heading('Sign in'), form);
}
