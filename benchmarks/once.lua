-- wrk's script for benchmarks/campaign.py: every request of the file is sent exactly once (each
-- thread takes every Nth line), then the thread stops. A connection with nothing left to send
-- asks for a GET the POST-only route refuses with 405, which is not counted. gunicorn's sync
-- workers close each connection after answering, and a request caught by a closing connection is
-- never answered: once everything is sent, a thread also stops after enough fillers went by.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local thread_count = tonumber(args[2])
  requests, total, sent, answered, fillers, codes = {}, 0, 0, 0, 0, {}
  local number = 0
  for line in io.lines(args[1]) do
    if number % thread_count == id - 1 then
      local target, content_type, name, value, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      total = total + 1
      requests[total] = wrk.format("POST", target,
        { ["Content-Type"] = content_type, [name] = value }, body)
      filler = wrk.format("GET", target)
    end
    number = number + 1
  end
end

function request()
  if sent < total then
    sent = sent + 1
    return requests[sent]
  end
  return filler
end

function response(status)
  if status == 405 then
    fillers = fillers + 1
    if fillers >= 200 then wrk.thread:stop() end
    return
  end
  answered = answered + 1
  if status < 200 or status > 299 then codes[status] = (codes[status] or 0) + 1 end
  if answered >= total then wrk.thread:stop() end
end

function done(summary, latency)
  local counts, non_2xx, answered_all = {}, {}, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("codes")) do counts[code] = (counts[code] or 0) + count end
    answered_all = answered_all + thread:get("answered")
  end
  for code, count in pairs(counts) do non_2xx[#non_2xx + 1] = string.format('"%d": %d', code, count) end
  local e = summary.errors
  io.write(string.format('BENCH-RESULT {"answered": %d, "seconds": %f, "non_2xx": {%s}, '
    .. '"socket_errors": %d}\n', answered_all, summary.duration / 1e6,
    table.concat(non_2xx, ", "), e.connect + e.read + e.write + e.timeout))
end
