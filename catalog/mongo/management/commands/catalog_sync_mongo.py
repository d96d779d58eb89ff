"""`manage.py catalog_sync_mongo [--check]`: rebuild the Mongo read model, or report drift."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.mongo.sync import documents_drift, documents_sync, product_count


class Command(BaseCommand):
    help = "Rebuild every product document of the Mongo read model from PostgreSQL."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; report documents missing, extra or older than PostgreSQL",
        )
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, check: bool, batch_size: int, verbosity: int, **options) -> None:
        if settings.CATALOG_READ_MODEL != "mongo":
            raise CommandError("CATALOG_READ_MODEL is not mongo: there is no read model to sync")
        with tqdm(
            total=product_count(), unit="product", disable=verbosity == 0, file=self.stderr
        ) as bar:
            if not check:
                written = documents_sync(batch_size=batch_size, progress=bar.update)
                bar.close()
                self.stdout.write(f"{written} documents written")
                return
            drift = documents_drift(batch_size=batch_size, progress=bar.update)
        for kind in ("missing", "extra", "older"):
            ids = getattr(drift, kind)
            shown = ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
            self.stdout.write(f"{kind}: {len(ids)}" + (f" (products {shown})" if ids else ""))
        if drift.total:
            raise CommandError(f"drift: {drift.total} documents disagree with PostgreSQL")
        self.stdout.write("no drift")
