-- t/bench/routes.lua: the requests wrk sends for t/bench/routes.sh, chosen
-- by the environment:
--
--   BENCH_TOKEN     a bearer token, sent when set
--   BENCH_THREADS   wrk's -t, so that threads share the work out
--   BENCH_IDS       a file of run ids, one a line: GET /api/runs/<id>, each
--                   thread walking its own slice in order
--   BENCH_POST      when set: POST /api/runs, a new target number and
--                   requester at each request
--   BENCH_WEBHOOK   a file of "delivery signature body" lines (made by
--                   routes_webhook.py): POST /api/github/webhook, each
--                   thread sending its own lines in turn
--   BENCH_RATE      when set: requests a second for the whole run, spread
--                   evenly over time (see delay() below)
--
-- Otherwise wrk's own URL is asked for.  done() prints one line,
-- "RESULT rps p50_ms p99_ms requests bad wrapped", bad counting socket
-- errors and answers outside 2xx/3xx, wrapped the times a thread came to
-- the end of its ids or bodies and began again.

local threads = {}

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

local mode = "plain"
local token, items, n, next_item, counter, nthreads, interval, next_send
wrapped = 0

local function read_lines(path, keep)
	local out, i = {}, 0

	for line in io.lines(path) do
		if keep(i) then
			out[#out + 1] = line
		end
		i = i + 1
	end
	return out
end

function init(args)
	token = os.getenv("BENCH_TOKEN")
	nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
	local rate = tonumber(os.getenv("BENCH_RATE") or "")
	if rate and rate > 0 then
		interval = 1000 * nthreads / rate	-- ms between a thread's sends
	end
	counter = 0
	if os.getenv("BENCH_IDS") then
		mode = "ids"
		items = read_lines(os.getenv("BENCH_IDS"),
		    function(i) return i % nthreads == tid end)
	elseif os.getenv("BENCH_WEBHOOK") then
		mode = "webhook"
		items = read_lines(os.getenv("BENCH_WEBHOOK"),
		    function(i) return i % nthreads == tid end)
	elseif os.getenv("BENCH_POST") then
		mode = "post"
	end
	n = items and #items or 0
	next_item = 1
end

local function take()
	local item = items[next_item]

	next_item = next_item + 1
	if next_item > n then
		next_item = 1
		wrapped = wrapped + 1
	end
	return item
end

local function auth(headers)
	if token then
		headers["Authorization"] = "Bearer " .. token
	end
	return headers
end

function request()
	if mode == "ids" then
		return wrk.format("GET", "/api/runs/" .. take(), auth({}))
	elseif mode == "post" then
		-- Target numbers: a range of 100 000 000 per thread.
		counter = counter + 1
		local body = string.format('{"repo":"bench-post/repo-%d",' ..
		    '"target":{"type":"issue","number":%d},' ..
		    '"instruction":"benchmark run","requested_by":"bench-%d-%d"}',
		    counter % 100, tid * 100000000 + counter, tid, counter)
		return wrk.format("POST", "/api/runs",
		    auth({["Content-Type"] = "application/json"}), body)
	elseif mode == "webhook" then
		local delivery, sig, body =
		    take():match("^(%S+) (%S+) (.*)$")
		return wrk.format("POST", "/api/github/webhook", {
			["Content-Type"] = "application/json",
			["X-GitHub-Event"] = "issue_comment",
			["X-GitHub-Delivery"] = delivery,
			["X-Hub-Signature-256"] = sig,
		}, body)
	end
	return wrk.format(nil, nil, auth({}))
end

-- Pacing.  wrk asks delay() how long a connection waits before each of
-- its requests, the first included.  A fixed wait would keep connections
-- that started together in step, sending bursts as large as their number
-- with silence between, and a connection's rate would fall as answers
-- slow down.  Instead each thread hands out send times one interval
-- apart, on the clock: a connection that is ready waits for the next
-- free one.  A thread that falls behind (every connection busy) resumes
-- from now rather than sending the missed ones in a burst.
if os.getenv("BENCH_RATE") then
	local ffi = require("ffi")
	ffi.cdef[[
	typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
	int clock_gettime(int clock, bench_timespec *ts);
	]]
	local ts = ffi.new("bench_timespec")
	local CLOCK_MONOTONIC = 1

	local function now_ms()
		ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
		return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
	end

	function delay()
		local t = now_ms()

		if next_send == nil or next_send < t then
			next_send = t
		end
		local wait = next_send - t
		next_send = next_send + interval
		return math.floor(wait)
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	local bad = e.connect + e.read + e.write + e.status + e.timeout
	local w = 0

	for _, thread in ipairs(threads) do
		w = w + (thread:get("wrapped") or 0)
	end
	io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    summary.requests, bad, w))
end
