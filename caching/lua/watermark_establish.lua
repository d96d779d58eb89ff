-- KEYS: the watermark. ARGV: the value the reader found ("" for none), the primary's LSN
-- read after that. Set only if nothing was announced in between: that write may be later.
if (redis.call('GET', KEYS[1]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
