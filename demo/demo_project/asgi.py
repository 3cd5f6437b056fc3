import os

from django.core.asgi import get_asgi_application

import django_mcp.asgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")

# An MCP body over its cap is refused before Django's handler reads it.
application = django_mcp.asgi.guard(get_asgi_application())
