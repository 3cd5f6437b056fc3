"""The third-party project (djoser's users API among its routes) with method_views.py's function
views walked beside it, for test_view_methods.py."""

from thirdparty.settings import *  # noqa: F403

DJANGO_MCP_URLCONFS = ["method_views"]
