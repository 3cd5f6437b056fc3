from demo_project.urls import urlpatterns as demo
from django.urls import include, path

urlpatterns = [*demo, path("", include("django_mcp.oauth_urls"))]
