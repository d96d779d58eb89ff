"""The local cluster tool: the whole scaleshop topology on one machine, one command.

``python -m deploy up`` runs what production runs, from the machine's own binaries and
with project-owned data and ports, touching none of the machine's own services:

* PostgreSQL primary (127.0.0.1:25432) and a streaming replica made with
  ``pg_basebackup -R -X stream`` (:25433, optional apply delay for lag tests);
* Redis for sessions (:26380, persistent, ``noeviction``, 256 MB), a Redis cache (:26379,
  ``allkeys-lru``, nothing on disk) and a Redis for the Dramatiq broker (:26381,
  persistent, ``noeviction``);
* N identical gunicorn clones of one release (:8001..), after the release phase
  (``migrate``, ``collectstatic``) has run once;
* Dramatiq workers (``worker-1``..) and the outbox relay (``outbox-relay``), with the
  clones' environment;
* nginx (:8000) balancing over the clones, serving static, media and prerendered pages.

supervisord runs each process in the foreground as one program (files under
``RUN_DIR/programs``, logs under ``RUN_DIR/logs``). RUN_DIR is ``$RUN_DIR``, else
``<checkout>/.run`` when we are not root (every process runs as us) or the postgres and
nginx users can traverse every parent directory, else ``/var/lib/scaleshop-<hash>`` with
``.run`` symlinked to it (deploy/paths.py). App processes read their addresses from
``RUN_DIR/cluster.env``; `up` saves the ports (``SHOP_*_PORT``) in ``RUN_DIR/cluster.json``
for every later command. PostgreSQL trusts every loopback connection: this is a local,
loopback-only cluster, never a shared host.

Commands: ``up``, ``down [--purge]``, ``status [--wait S]``, ``status-json``, ``url``,
``run-dir``, ``rollout`` (drain, restart, verify one clone at a time: zero failed
requests), ``restart-clone NAME``, ``replica-delay S`` and ``stop``/``start NAME``. The
commands that change the cluster take a lock (``RUN_DIR/deploy.lock``), one at a time.
The package uses only the standard library and supervisor, never Django or app code: it
drives the cluster through processes, files and HTTP.
"""
