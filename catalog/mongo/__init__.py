"""Lesson 2b: the denormalized read model of the catalog, one MongoDB document per product.

Why and how: ``docs/lessons/2b-denormalize.md``."""
