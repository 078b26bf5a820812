// format.js: how times, durations, sizes and rates are written.
//
// Times are shown in the browser's time zone, the UTC original in the
// element's title; the analytics days are UTC days, as the API counts them.

const pad = (n) => String(n).padStart(2, '0');

// "2026-12-04 08:23:11" in local time, or "" for null.
export function dateTime(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return iso;
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
	    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "08:23:11" in local time.
export function clock(d) {
	return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "just now", "5 min ago", "3 h ago", "2 days ago".
export function ago(iso, now = Date.now()) {
	const s = Math.round((now - new Date(iso).getTime()) / 1000);

	if (!Number.isFinite(s))
		return '';
	if (s < 10)
		return 'just now';
	if (s < 60)
		return `${s} s ago`;
	if (s < 3600)
		return `${Math.floor(s / 60)} min ago`;
	if (s < 86400)
		return `${Math.floor(s / 3600)} h ago`;
	const days = Math.floor(s / 86400);
	return days === 1 ? '1 day ago' : `${days} days ago`;
}

// A duration in seconds: "480 ms", "3.2 s", "4 min 05 s", "2 h 03 min";
// "–" for null.
export function duration(sec) {
	if (sec === null || sec === undefined || !Number.isFinite(sec))
		return '–';
	if (sec < 1)
		return `${Math.round(sec * 1000)} ms`;
	if (sec < 60)
		return `${sec < 10 ? sec.toFixed(1) : Math.round(sec)} s`;
	if (sec < 3600)
		return `${Math.floor(sec / 60)} min ${pad(Math.round(sec % 60) % 60)} s`;
	return `${Math.floor(sec / 3600)} h ${pad(Math.floor((sec % 3600) / 60))} min`;
}

// Seconds between two times, or null when either is missing.
export function between(fromIso, toIso) {
	if (!fromIso || !toIso)
		return null;
	return (new Date(toIso).getTime() - new Date(fromIso).getTime()) / 1000;
}

export function bytes(n) {
	if (n < 1024)
		return `${n} B`;
	if (n < 1024 * 1024)
		return `${(n / 1024).toFixed(1)} KiB`;
	return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// 0.8696 → "87.0 %"; null → "–".
export function percent(rate) {
	return rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)} %`;
}

// "issue #12", "pull request #7".
export function target(t) {
	return `${t.type === 'pull_request' ? 'pull request' : 'issue'} #${t.number}`;
}

// The target's page on GitHub.
export function targetUrl(repo, t) {
	const kind = t.type === 'pull_request' ? 'pull' : 'issues';
	return `https://github.com/${repo}/${kind}/${t.number}`;
}
