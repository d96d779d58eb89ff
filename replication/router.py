"""Primary/replica database router (seed lesson 2, path 1).

Why and how: ``docs/lessons/2-replicate.md``."""

from django.db import connections

from replication.databases import PRIMARY
from replication.routing import current_scope


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        scope = current_scope()
        if scope is None:
            return PRIMARY
        return scope.alias_for_read()

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Every alias holds the same data, so objects read anywhere may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
