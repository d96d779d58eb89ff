"""Lesson 2b: the denormalized read model of the catalog, one MongoDB document per product.

PostgreSQL stays the source of truth; the documents are a projection of it, rebuilt by a
job after every committed change (``subscriptions`` → ``actors`` → ``projection``) and
read behind the same interface as the SQL path (``catalog.read_model``). Switched on by
``CATALOG_READ_MODEL=mongo``; plain pymongo, no ORM. The reasoning:
``docs/lessons/2b-denormalize.md``.
"""
