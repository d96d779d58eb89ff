"""Lesson 3: cached objects and cached queries that are never stale after a commit
(``docs/lessons/3-cache.md``)."""
