"""``manage.py bench_product_rename``: rename a product as the admin does (one ORM save),
for `make bench`'s re-render figure; prints the old name and the commit's time as JSON."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product


class Command(BaseCommand):
    help = "Rename a product (--append TEXT or --name NAME); print its old name and commit time."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        names = parser.add_mutually_exclusive_group(required=True)
        names.add_argument("--append", help="text added to the name, after a space")
        names.add_argument("--name", help="the new name")

    def handle(self, *args, slug, append, name, **options):
        product = Product.objects.filter(slug=slug).first()
        if product is None:
            raise CommandError(f"no product with the slug {slug!r}")
        previous = product.name
        product.name = f"{previous} {append}" if append else name
        product.save()  # committed here; its listeners (caches, re-render) run on commit
        self.stdout.write(json.dumps({"previous": previous, "committed_at": time.time()}))
