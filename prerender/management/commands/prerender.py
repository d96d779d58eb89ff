"""``manage.py prerender``: build every catalog page and publish the build at once."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from prerender import store
from prerender.build import processes_default, site_build


class Command(BaseCommand):
    help = "Render every catalog page into a new build and publish it (one atomic swap)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes", type=int, default=0, help="Rendering processes (default: one per CPU)."
        )
        parser.add_argument(
            "--if-unpublished", action="store_true", help="Only if no build is published yet."
        )

    def handle(self, *args, **options) -> None:
        if options["if_unpublished"] and store.current_build() is not None:
            self.stdout.write("prerender: a build is published already; nothing to do")
            return
        processes = options["processes"] or processes_default()
        quiet = options["verbosity"] == 0 or not sys.stderr.isatty()
        with tqdm(total=0, unit="page", disable=quiet, file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            figures = site_build(processes=processes, progress=progress)
        if figures is None:
            self.stdout.write("prerender: another build is running on this directory; skipped")
            return
        self.stdout.write(
            f"prerender: published {figures.name}: {figures.pages} pages in "
            f"{figures.seconds:.1f} s ({figures.pages_per_second:.0f} pages/s, "
            f"{figures.bytes / 1e6:.1f} MB with .gz, {figures.processes} processes)"
        )
