-- wrk script of bench/ingest.py: POST /api/events with a fresh batch per request.
-- Every event gets a unique id and the current time; every request comes from another
-- client address (X-Forwarded-For, trusted by uvicorn from 127.0.0.1 as from a load
-- balancer), so the per-client rate limit sees many visitors, as in production.
-- Environment: BENCH_EVENTS (events per batch), BENCH_ORIGIN, BENCH_TAG.

local events_per_batch = tonumber(os.getenv("BENCH_EVENTS") or "1")
local origin = os.getenv("BENCH_ORIGIN") or "http://127.0.0.1:8000"
local counter = 0
-- BENCH_TAG: a number of the run's own, so that two runs at once never share an id.
local thread_tag = tonumber(os.getenv("BENCH_TAG") or "") or (os.time() % 0x10000000)
local types = {"pageview", "click", "scroll", "engagement", "custom"}

local user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
  .. "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

function request()
  counter = counter + 1
  local now = os.time() * 1000
  local parts = {}
  for i = 1, events_per_batch do
    parts[i] = string.format(
      '{"id":"%08x%08x","type":"%s","ts":%d,"url":"%s/p/%d?utm_source=bench&q=%d","ref":null,"props":{"n":%d}}',
      thread_tag, counter * 128 + i, types[(i % #types) + 1], now, origin, counter % 50, i, i)
  end
  local body = '{"site":"demo","visitor":null,"events":[' .. table.concat(parts, ",") .. ']}'
  local ip = counter % 65536
  local headers = {
    ["Content-Type"] = "text/plain",
    ["Origin"] = origin,
    ["User-Agent"] = user_agent,
    ["X-Forwarded-For"] = string.format("10.%d.%d.1", math.floor(ip / 256), ip % 256),
  }
  return wrk.format("POST", "/api/events", headers, body)
end
