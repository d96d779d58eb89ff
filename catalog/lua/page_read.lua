-- The whole warm hit in one round trip: find the product, read its page and rendering,
-- count the hit.
-- KEYS: slug key, stats hash, the products table's generation key.
-- ARGV: page hash key prefix, page field, rendering field, hit counter, not-found counter.
-- Returns false (a miss), {"missing"} (a not-found answer still valid), or
-- {page, rendering or false}.
local product = redis.call('GET', KEYS[1])
if not product then return false end
if string.sub(product, 1, 8) == 'missing:' then
  -- Valid until the next write to the products table moves its generation.
  if redis.call('GET', KEYS[3]) ~= string.sub(product, 9) then return false end
  redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
  return {'missing'}
end
local found = redis.call('HMGET', ARGV[1] .. product, ARGV[2], ARGV[3])
if not found[1] then return false end
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
return found
