-- wrk script: POST a unique TLS report per request to /tlsrpt (application/tlsrpt+json).
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
local counter = 0
function request()
  counter = counter + 1
  local id = string.format("wrk-%d-%d-%d", tid, counter, os.time())
  local body = '{"organization-name":"Load Test","date-range":{"start-datetime":"2026-03-01T00:00:00Z",'
    .. '"end-datetime":"2026-03-01T23:59:59Z"},"contact-info":"load@example.net","report-id":"' .. id
    .. '","policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com","mx-host":["mx.example.com"]},'
    .. '"summary":{"total-successful-session-count":10,"total-failure-session-count":1},'
    .. '"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"203.0.113.9",'
    .. '"receiving-mx-hostname":"mx.example.com","failed-session-count":1}]}]}'
  return wrk.format("POST", "/tlsrpt", {["Content-Type"] = "application/tlsrpt+json"}, body)
end
