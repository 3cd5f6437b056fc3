"""Expose a Django project's admin, views and DRF APIs as Model Context Protocol tools."""

__version__ = "2.0.0"
