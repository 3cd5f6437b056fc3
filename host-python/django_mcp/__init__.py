"""Expose a Django project's admin, views and DRF APIs as Model Context Protocol tools."""

__version__ = "0.1.0"
