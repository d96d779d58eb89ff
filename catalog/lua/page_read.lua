-- The whole warm hit in one round trip: find the product, read its page and rendering.
-- KEYS: slug key, the products table's generation key.
-- ARGV: page hash key prefix, page field, rendering field.
-- Returns false (a miss), {"missing"} (a not-found answer still valid), or
-- {page, rendering or false}.
local product = redis.call('GET', KEYS[1])
if not product then return false end
if string.sub(product, 1, 8) == 'missing:' then
  -- Valid until the next write to the products table moves its generation.
  if redis.call('GET', KEYS[2]) ~= string.sub(product, 9) then return false end
  return {'missing'}
end
local found = redis.call('HMGET', ARGV[1] .. product, ARGV[2], ARGV[3])
if not found[1] then return false end
return found
