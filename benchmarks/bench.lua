-- wrk's script for benchmarks/bench.py. Each thread takes every Nth line of the request file
-- (so threads never send the same request), builds its requests once and cycles through them;
-- done() prints one JSON line the bench parses.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local thread_count = tonumber(args[2])
  requests, total, index, sent, codes = {}, 0, 0, 0, {}
  local number = 0
  for line in io.lines(args[1]) do
    if number % thread_count == id - 1 then
      local target, content_type, name, value, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      total = total + 1
      requests[total] = wrk.format("POST", target,
        { ["Content-Type"] = content_type, [name] = value }, body)
    end
    number = number + 1
  end
end

function request()
  index = index % total + 1
  sent = sent + 1
  return requests[index]
end

function response(status)
  if status < 200 or status > 299 then codes[status] = (codes[status] or 0) + 1 end
end

function done(summary, latency)
  local counts, non_2xx, repeated = {}, {}, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("codes")) do counts[code] = (counts[code] or 0) + count end
    repeated = repeated + math.max(0, thread:get("sent") - thread:get("total"))
  end
  for code, count in pairs(counts) do non_2xx[#non_2xx + 1] = string.format('"%d": %d', code, count) end
  local e = summary.errors
  io.write(string.format('BENCH-RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, '
    .. '"p99_ms": %f, "non_2xx": {%s}, "socket_errors": %d, "repeated": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, table.concat(non_2xx, ", "),
    e.connect + e.read + e.write + e.timeout, repeated))
end
