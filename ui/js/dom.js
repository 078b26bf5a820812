// dom.js: building the page without HTML strings.
//
// The dashboard never assigns markup (innerHTML and its kind): every node
// is made here, and text always goes in as text.  Besides keeping a run's
// instruction or log from being read as HTML, this lets the policy demand
// Trusted Types with no policy at all (doc/ui.md).

const SVG_NS = 'http://www.w3.org/2000/svg';

// Appends children: strings and numbers become text, arrays are
// flattened, null, undefined and false are left out.
function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
	return el;
}

// Sets what props holds: "class", "on<event>" (a function), and any other
// key as an attribute (true: present and empty; false, null: absent).
function setProps(el, props) {
	for (const [k, v] of Object.entries(props || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	return el;
}

// h('a', {href: '#/runs'}, 'Runs'): an HTML element.
export function h(tag, props, ...children) {
	return append(setProps(document.createElement(tag), props), children);
}

// s('rect', {x: 0, ...}): an SVG element.
export function s(tag, props, ...children) {
	return append(setProps(document.createElementNS(SVG_NS, tag), props), children);
}

// Replaces an element's children.
export function fill(el, ...children) {
	el.replaceChildren();
	return append(el, children);
}

// An id unique in the page, for label-for and aria-describedby pairs.
let serial = 0;
export function uid(prefix) {
	serial += 1;
	return `${prefix}-${serial}`;
}

// A labelled form field: the label, the control and an empty message line
// that a refusal naming this field fills (showFieldErrors below).
export function field(label, control, hint) {
	const id = control.id || uid('f');
	const msgId = `${id}-msg`;
	const hintId = hint ? `${id}-hint` : null;

	control.id = id;
	control.setAttribute('aria-describedby', [hintId, msgId].filter(Boolean).join(' '));
	return h('div', { class: 'field' },
	    h('label', { for: id }, label),
	    control,
	    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
	    h('p', { class: 'field-msg', id: msgId }));
}

// Marks the form's fields that a validation_failed answer names (its
// details' "field", which is the control's name) and clears the others.
export function showFieldErrors(form, details) {
	for (const el of form.querySelectorAll('[name]')) {
		const d = (details || []).find((x) => x.field === el.name);
		const msg = document.getElementById(`${el.id}-msg`);

		if (d) {
			el.setAttribute('aria-invalid', 'true');
			if (msg)
				msg.textContent = `${d.field} ${d.message}`;
		} else {
			el.removeAttribute('aria-invalid');
			if (msg)
				msg.textContent = '';
		}
	}
}
