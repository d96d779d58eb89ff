"""Database alias names.

The primary is Django's ``default`` alias; replicas are listed in
``settings.DATABASE_REPLICAS``. A module of its own so that the lowest layers
(``replication.lsn``) can name the primary without importing the router's machinery.
"""

PRIMARY = "default"
