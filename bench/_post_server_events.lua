-- wrk script of bench/server_events.py: POST /api/server-events?site=demo with an NDJSON
-- batch of server events per request, each with a unique id, for customers bench-c0 ...
-- bench-c<N-1> in turn (the bench links them to consenting visitors first). The batch is
-- built once; each request only puts its own number into the ids (one gsub in C), so wrk
-- spends little of the machine's two cores on making requests.
-- Environment: BENCH_EVENTS (events per batch), BENCH_KEY (an API key of the site),
-- BENCH_CUSTOMERS (N), BENCH_TAG (a number of the run's own), BENCH_AT (RFC 3339 time).

local events_per_batch = tonumber(os.getenv("BENCH_EVENTS") or "500")
local key = os.getenv("BENCH_KEY") or ""
local customers = tonumber(os.getenv("BENCH_CUSTOMERS") or "1000")
local tag = tonumber(os.getenv("BENCH_TAG") or "") or (os.time() % 0x10000000)
local at = os.getenv("BENCH_AT") or "2026-12-06T10:00:00Z"
local counter = 0
local template = nil

local function build()
  local lines = {}
  for i = 1, events_per_batch do
    local customer = math.random(0, customers - 1)
    if i % 5 == 0 then
      lines[i] = string.format(
        '{"id":"b%x-@N@-%d","customer":"bench-c%d","at":"%s","kind":"contact",'
        .. '"action":"opened","ticket":"T%d","channel":"email","topic":"delivery"}',
        tag, i, customer, at, i)
    else
      lines[i] = string.format(
        '{"id":"b%x-@N@-%d","customer":"bench-c%d","at":"%s","kind":"order",'
        .. '"action":"placed","order":"O%d","value":42.5,"currency":"EUR","items":2}',
        tag, i, customer, at, i)
    end
  end
  return table.concat(lines, "\n")
end

local headers = {
  ["Content-Type"] = "application/x-ndjson",
  ["Authorization"] = "Bearer " .. key,
}

function request()
  counter = counter + 1
  template = template or build()
  local body = template:gsub("@N@", string.format("%x", counter))
  return wrk.format("POST", "/api/server-events?site=demo", headers, body)
end
