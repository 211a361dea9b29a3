-- wrk script for bench/run.py: each request is the next line of a jobs file.
--
-- Environment:
--   BENCH_JOBS     the jobs file, one request per line: METHOD <tab> PATH <tab> JSON body,
--                  then any headers, each as <tab> Name: value
--   BENCH_THREADS  wrk's -t (thread i of n takes lines i, i+n, i+2n, ...)
--   BENCH_MODE     "repeat": wrap around (the bare endpoint keeps no state);
--                  "timed" (default): each line once, a thread stops when its share runs out;
--                  "finite": each line once, one line per connection (a storm): every
--                  response counted, and once all are answered wrk is told to finish.
-- No line is sent twice unless repeating: a pending login and a one-time code work once.
-- When a thread is done it prints "BENCH-DONE"; bench/run.py then interrupts wrk, so the
-- duration wrk reports is the phase's own. done() prints one "BENCH {json}" line.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local mode = os.getenv("BENCH_MODE") or "timed"
local jobs = {}
local next_job = 1
local finished = false
primed = false
answered = 0
statuses = ""
local status_counts = {}

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local i = 0
  for line in io.lines(os.getenv("BENCH_JOBS")) do
    if i % n == id then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        table.insert(fields, field)
      end
      local method, path, body = fields[1], fields[2], fields[3] or ""
      local headers = {}
      for k = 4, #fields do
        local name, value = fields[k]:match("^([^:]+):%s*(.*)$")
        if name then
          headers[name] = value
        end
      end
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      table.insert(jobs, wrk.format(method, path, headers, body))
    end
    i = i + 1
  end
  idle = wrk.format("GET", "/healthz")
end

local function finish()
  if not finished then
    finished = true
    io.write("BENCH-DONE\n")
    io.flush()
  end
end

function request()
  if id == nil or not primed then
    -- wrk calls request() once to check the script, in the main state and again in each
    -- thread, and discards the answer: no job may be spent there.
    primed = id ~= nil
    return wrk.format("GET", "/healthz")
  end
  local job = jobs[next_job]
  if job == nil then
    if mode == "repeat" then
      next_job = 1
      job = jobs[1]
    else
      -- Out of distinct requests. In "finite" mode delay() keeps this one from being
      -- sent; in "timed" mode the thread stops and it is never answered.
      finish()
      if mode == "timed" then
        wrk.thread:stop()
      end
      return idle
    end
  end
  next_job = next_job + 1
  return job
end

if mode == "finite" then
  function delay()
    -- Connections whose share is spent wait (a minute) instead of sending more.
    if next_job > #jobs then
      return 60000
    end
    return 0
  end

  function response(status, headers, body)
    answered = answered + 1
    status_counts[status] = (status_counts[status] or 0) + 1
    local parts = {}
    for code, count in pairs(status_counts) do
      table.insert(parts, string.format('"%d": %d', code, count))
    end
    statuses = table.concat(parts, ", ")
    if answered >= #jobs then
      finish()
    end
  end
end

function done(summary, latency, requests)
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    local name = string.gsub(tostring(q), "%.", "_")
    table.insert(p, string.format('"p%s_us": %d', name, latency:percentile(q)))
  end
  local answered_all, status_parts = 0, {}
  for _, thread in ipairs(threads) do
    answered_all = answered_all + (thread:get("answered") or 0)
    local s = thread:get("statuses")
    if s and s ~= "" then
      table.insert(status_parts, "{" .. s .. "}")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"duration_us": %d, "requests": %d, "bytes": %d, "non_2xx": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"latency_mean_us": %.1f, "latency_max_us": %d, "answered": %d, "statuses": [%s], %s}\n',
    summary.duration, summary.requests, summary.bytes, e.status, e.connect, e.read,
    e.write, e.timeout, latency.mean, latency.max, answered_all,
    table.concat(status_parts, ", "), table.concat(p, ", ")))
end
