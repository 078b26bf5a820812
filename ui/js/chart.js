// chart.js: the per-day chart of succeeded and failed runs, drawn as SVG.
//
// One stacked bar a day (succeeded below, failed above), a y axis with
// round steps, and day labels thinned to fit.  Each bar's <title> gives
// the day's figures; the analytics page also lists them in a table, for
// readers who do not see the chart.

import { s } from './dom.js';

const H = 240;
const PAD = { top: 12, right: 8, bottom: 30, left: 40 };

// A round step giving about four lines up to max.
function step(max) {
	const raw = Math.max(1, max) / 4;
	const mag = 10 ** Math.floor(Math.log10(raw));
	const norm = raw / mag;
	const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
	return Math.max(1, nice * mag);
}

// "2026-11-04" → "11-04": the year is in the table below the chart.
function dayLabel(date) {
	return date.slice(5);
}

// width: the chart's width in pixels, so that its text keeps its size
// whatever the screen (the SVG scales with the page afterwards).
export function perDayChart(days, width) {
	const W = Math.round(Math.max(300, Math.min(1100, width || 720)));
	const max = Math.max(0, ...days.map((d) => d.succeeded + d.failed));
	const inc = step(max);
	const top = Math.max(inc, Math.ceil(max / inc) * inc);
	const plotW = W - PAD.left - PAD.right;
	const plotH = H - PAD.top - PAD.bottom;
	const slot = plotW / Math.max(1, days.length);
	const barW = Math.max(1, Math.min(28, slot * 0.7));
	const y = (v) => PAD.top + plotH - (v / top) * plotH;
	const every = Math.ceil(days.length / Math.max(2, Math.floor(plotW / 48)));
	const svg = s('svg', {
		viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
		'aria-label': `Succeeded and failed runs per day, ${days.length} days: ` +
		    `${days.reduce((a, d) => a + d.succeeded, 0)} succeeded, ${days.reduce((a, d) => a + d.failed, 0)} failed.`,
	});

	for (let v = 0; v <= top; v += inc) {
		svg.append(
		    s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'grid' }),
		    s('text', { x: PAD.left - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
	}
	days.forEach((d, i) => {
		const x = PAD.left + i * slot + (slot - barW) / 2;
		const g = s('g', { class: 'day' },
		    s('title', null, `${d.date}: ${d.succeeded} succeeded, ${d.failed} failed, ${d.total} in all`));

		if (d.succeeded > 0)
			g.append(s('rect', { x, width: barW, y: y(d.succeeded), height: y(0) - y(d.succeeded), class: 'bar-succeeded' }));
		if (d.failed > 0)
			g.append(s('rect', { x, width: barW, y: y(d.succeeded + d.failed), height: y(d.succeeded) - y(d.succeeded + d.failed), class: 'bar-failed' }));
		// A bar the height of the plot, for the title to show on hover.
		g.append(s('rect', { x: PAD.left + i * slot, width: slot, y: PAD.top, height: plotH, class: 'hit' }));
		svg.append(g);
		if (i % every === 0)
			svg.append(s('text', { x: x + barW / 2, y: H - PAD.bottom + 16, class: 'tick', 'text-anchor': 'middle' }, dayLabel(d.date)));
	});
	return svg;
}
