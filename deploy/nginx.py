"""nginx, the load balancer: rendering its config and reloading it without dropping requests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path

from .errors import NotHealthyError
from .files import fill_template, write_if_changed
from .paths import Layout
from .proc import AS_ROOT, child_pids, run
from .supervisord import Supervisor, is_running
from .tools import Tools
from .topology import HOST, Topology

TEMPLATE = Path(__file__).with_name("nginx") / "nginx.conf.tmpl"
# nginx's own error pages (413, 429): each one's <main> in errors/, in one page template,
# served from RUN_DIR/nginx/_errors/ (readable by nginx's workers wherever the checkout is).
ERROR_PAGE = Path(__file__).with_name("nginx") / "error.html.tmpl"
ERROR_PAGES = Path(__file__).with_name("nginx") / "errors"
HEADING = re.compile(r"<h1>(.*)</h1>")
MIME_TYPES = Path("/etc/nginx/mime.types")
WORKER_USER = "www-data"  # must be able to read RUN_DIR/static, media and prerendered


def render_nginx_conf(
    layout: Layout,
    topology: Topology,
    *,
    drained: Iterable[str] = (),
    as_root: bool = AS_ROOT,
    mime_types: Path = MIME_TYPES,
) -> str:
    """nginx.conf for ``topology``; clones named in ``drained`` are marked ``down``."""
    drained = set(drained)
    servers = "\n".join(
        f"        server {HOST}:{topology.clone_port(name)} max_fails=2 fail_timeout=3s"
        f"{' down' if name in drained else ''};  # {name}"
        for name in topology.clone_names
    )
    return fill_template(
        TEMPLATE,
        {
            "user_directive": f"user {WORKER_USER};"
            if as_root
            else "# (not root: workers run as us)",
            "mime_types": f"include {mime_types};" if mime_types.exists() else "",
            "nginx_dir": str(layout.nginx_dir),
            "logs": str(layout.logs),
            "upstream_servers": servers,
            "lb_host": HOST,
            "lb_port": str(topology.ports.lb),
            "static_root": str(layout.static_root),
            "media_root": str(layout.media_root),
            "prerender_root": str(layout.prerender_root),
        },
    )


def write_config(
    layout: Layout, topology: Topology, tools: Tools, drained: Iterable[str] = ()
) -> bool:
    """Render, write and syntax-check nginx.conf; True if it changed."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (layout.nginx_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    (layout.nginx_dir / "_errors").mkdir(exist_ok=True)
    for main in ERROR_PAGES.glob("*.html"):
        text = main.read_text().strip()
        title = HEADING.search(text)
        values = {"main": text, "title": title.group(1) if title else "Scaleshop"}
        write_if_changed(
            layout.nginx_dir / "_errors" / main.name, fill_template(ERROR_PAGE, values)
        )
    conf = layout.nginx_conf
    changed = write_if_changed(conf, render_nginx_conf(layout, topology, drained=drained))
    if changed:
        options = ["-p", str(layout.nginx_dir), "-c", str(conf), "-e", "stderr"]
        command = [str(tools.nginx), "-t", "-q", *options]
        run(command, what=f"nginx -t ({conf})")
    return changed


def reload_and_wait(supervisor: Supervisor, timeout: float = 75.0) -> None:
    """SIGHUP nginx and wait until every pre-reload worker has finished and exited: then no
    request uses the old upstream list (how `rollout` drains a clone). Bounded by
    ``timeout`` (above proxy_read_timeout, the longest an old worker can be busy)."""
    info = supervisor.processes().get("nginx")
    if info is None or info.pid is None or not is_running(info):
        raise NotHealthyError("nginx is not running; cannot reload it")
    old = child_pids(info.pid)
    supervisor.signal("nginx", "HUP")
    deadline = time.monotonic() + timeout
    while old & child_pids(info.pid):
        if time.monotonic() > deadline:
            raise NotHealthyError(
                f"old nginx workers {sorted(old)} still busy after {timeout:.0f}s"
            )
        time.sleep(0.05)
