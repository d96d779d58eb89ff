"""The storefront's reads through the caches: the product page as a cached object
(``caching.objects``), with its HTML beside it; the listings as cached queries."""
