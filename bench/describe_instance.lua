-- wrk script: every request is a DescribeInstance of the same instance, signed-looking like an SDK's.
-- Usage: wrk ... -s describe_instance.lua URL -- INSTANCE_ID
-- The Authorization header carries only a credential scope (nothing checks the signature): moto's server
-- picks the service from it, Parley reads the account and region from it. done() prints the same
-- "BENCH {...}" line as create_participant.lua.

local instance = ""
local headers = {
  ["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/connect/aws4_request, "
    .. "SignedHeaders=host;x-amz-date, Signature=0000",
  ["X-Amz-Date"] = "20240101T000000Z",
}

function init(args)
  instance = args[1]
end

function request()
  return wrk.format("GET", "/instance/" .. instance, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,'
      .. '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"ids_used":0,"exhausted":0,'
      .. '"busiest_thread_sent":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    summary.requests))
end
