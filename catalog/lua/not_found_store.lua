-- KEYS: slug key, the products table's generation key. ARGV: the generation read before
-- the look-up, TTL seconds. Not if a product was written since: it may be this one.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'missing:' .. ARGV[1], 'EX', ARGV[2])
return 1
