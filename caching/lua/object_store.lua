-- KEYS: written-LSN key, object hash (one owner's: one hash tag). ARGV: the written LSN
-- seen before the build ("" for none), the pickled object, TTL seconds, object field.
-- Stored only if no write to the owner was announced while it was built.
local written = redis.call('GET', KEYS[1]) or ''
if written ~= ARGV[1] then return 0 end
-- Renderings belong to the object they were made from: a new object starts without any.
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, #ARGV[4] + 1) == ARGV[4] .. ':' then redis.call('HDEL', KEYS[2], field) end
end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
