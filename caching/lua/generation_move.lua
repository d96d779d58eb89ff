-- KEYS: generation keys (of tables: one hash tag). ARGV: LSN. Keeps the highest LSN
-- (announcements may cross).
local lsn = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  if lsn > tonumber(redis.call('GET', key) or '0') then redis.call('SET', key, ARGV[1]) end
end
return 1
