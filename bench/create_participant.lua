-- wrk script: every request is a CreateParticipant on a chat no other request touches, with a ClientToken of
-- its own (as boto3 sends one on every call).
-- Usage: wrk ... -s create_participant.lua URL -- IDS_FILE INSTANCE_ID THREADS
-- Thread i sends the contact ids on lines i+1, i+1+THREADS, ... of IDS_FILE. wrk threads share no state, so
-- each has its own share (bench/run.py sizes the pool from the busiest thread of its calibration run). When
-- a share runs out, its thread sends to /bench-exhausted instead, which Parley answers 404: running out
-- can never pass unnoticed. done() prints one JSON line starting with "BENCH " for bench/run.py; its
-- "non2xx" is wrk's count of responses with status >= 400, the figure of wrk's "Non-2xx or 3xx" line.

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local ids = {}
local instance = ""
local i = 0
used = 0 -- ids sent so far by this thread
exhausted = 0 -- requests sent after this thread's share ran out
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  local path, count = args[1], tonumber(args[3])
  instance = args[2]
  local n = 0
  for line in io.lines(path) do
    if n % count == tid and #line > 0 then
      table.insert(ids, line)
    end
    n = n + 1
  end
end

function request()
  i = i + 1
  local id = ids[i]
  if id == nil then
    exhausted = exhausted + 1
    return wrk.format("POST", "/bench-exhausted", headers, "{}")
  end
  used = i
  local body = '{"InstanceId":"' .. instance .. '","ContactId":"' .. id .. '","ClientToken":"bench-' .. id
    .. '","ParticipantDetails":{"ParticipantRole":"CUSTOM_BOT","DisplayName":"bot"}}'
  return wrk.format("POST", "/contact/create-participant", headers, body)
end

function done(summary, latency, requests)
  local used_total, exhausted_total, busiest = 0, 0, 0
  for _, t in ipairs(threads) do
    local sent = (t:get("used") or 0) + (t:get("exhausted") or 0)
    used_total = used_total + (t:get("used") or 0)
    exhausted_total = exhausted_total + (t:get("exhausted") or 0)
    busiest = math.max(busiest, sent)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,'
      .. '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"ids_used":%d,"exhausted":%d,'
      .. '"busiest_thread_sent":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    used_total, exhausted_total, busiest))
end
