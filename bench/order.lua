-- wrk script: POSTs unique Kaleyra order callbacks (a fresh wamid per
-- request, two INR items, campaign refs), authenticated with the secret in
-- the environment variable BENCH_SECRET.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  run = os.getenv("BENCH_RUN") or tostring(os.time())
  wrk.method = "POST"
  wrk.path = "/v1/callbacks/kaleyra"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Callback-Secret"] = os.getenv("BENCH_SECRET") or ""
  template = [[{"meta_object":{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"919800000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Bench Buyer"},"wa_id":"9199000%05d"}],"messages":[{"context":{"from":"919800000001","id":"wamid.BENCHCATALOG0000000001"},"from":"9199000%05d","id":"wamid.BENCH.%s.%d.%d","timestamp":"1767225600","type":"order","order":{"catalog_id":"1234567890123456","text":"Please deliver after 6pm","product_items":[{"product_retailer_id":"SKU-SHIRT-M","quantity":2,"item_price":1600,"currency":"INR"},{"product_retailer_id":"SKU-PANT-32","quantity":1,"item_price":2000.50,"currency":"INR"}]}}]},"field":"messages"},"extra_info":{"media_url":"","ref":"cart-campaign-0001","ref1":"summer-sale","ref2":"segment-b","reply_to":"00000000-0000-4000-8000-000000000001","trace_id":"00000000-0000-4000-8000-00000000aaa1","waba_id":"200000000000001"}}]]
end

function request()
  n = n + 1
  local cust = n % 50000
  wrk.body = string.format(template, cust, cust, run, tid, n)
  return wrk.format()
end
