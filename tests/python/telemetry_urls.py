"""The demo's URLs with the Prometheus metrics view mounted, as a project would mount it."""

from django.urls import path

import django_mcp.metrics
from demo_project.urls import urlpatterns as demo_urlpatterns

urlpatterns = [*demo_urlpatterns, path("metrics/", django_mcp.metrics.view)]
