"""Lesson 2: writes go to the primary, reads to the replicas, and a client reads its own writes
(``docs/lessons/2-replicate.md``)."""
