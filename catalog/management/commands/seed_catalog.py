from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.models import Product
from catalog.seeding import catalog_clear, catalog_seed


class Command(BaseCommand):
    help = "Add realistic demo products, prices, texts, pictures and reviews."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--reviews-per-product", type=int, default=8)
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same catalog.")
        parser.add_argument("--reset", action="store_true", help="Delete the catalog first.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when products exist."
        )

    def handle(self, *args, **options) -> None:
        if options["products"] < 0 or options["reviews_per_product"] < 0:
            raise CommandError("--products and --reviews-per-product must not be negative.")
        if options["reset"]:
            catalog_clear()
        elif options["if_empty"] and Product.objects.exists():
            self.stdout.write("Catalog already has products; nothing to do.")
            return
        with tqdm(
            total=options["products"], unit="product", disable=options["verbosity"] == 0
        ) as bar:
            made = catalog_seed(
                products=options["products"],
                reviews_per_product=options["reviews_per_product"],
                seed=options["seed"],
                progress=bar.update,
            )
        self.stdout.write(self.style.SUCCESS(f"Added {made} products."))
