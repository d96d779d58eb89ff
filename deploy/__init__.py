"""The local cluster tool: the whole scaleshop topology on one machine (`python -m deploy up`),
under supervisord, from the machine's binaries, with data and ports of its own. It uses
only the standard library and supervisor, never Django: processes, files and HTTP.
"""
