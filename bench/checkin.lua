-- wrk script of bench.bench_checkin: each request a check-in of a different voter.
--   wrk -t T -c C -d D -s bench/checkin.lua URL -- FILE T
-- FILE has one "STATION TOKEN REG_NO" line per voter; thread i of T takes lines i, i+T, ...
-- On done, one JSON line: requests, seconds, 201s, other statuses, p50 and p99 (ms).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  queue, created, other, wrapped = {}, 0, 0, 0
  local i = 0
  for line in io.lines(path) do
    if i % count == id then
      local station, token, reg_no = line:match("(%S+) (%S+) (%S+)")
      queue[#queue + 1] = wrk.format("POST", "/api/v1/stations/" .. station .. "/checkins", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
      }, '{"reg_no": "' .. reg_no .. '"}')
    end
    i = i + 1
  end
  nxt = 0
end

function request()
  nxt = nxt + 1
  if nxt > #queue then
    nxt, wrapped = 1, 1 -- out of fresh voters: the statuses will show it
  end
  return queue[nxt]
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o, w = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    o = o + thread:get("other")
    w = w + thread:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.4f, "created": %d, "other": %d, "wrapped": %d, ' ..
    '"socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, c, o, w,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
