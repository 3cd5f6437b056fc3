from django.apps import AppConfig


class DjangoMcpConfig(AppConfig):
    name = "django_mcp"
    label = "django_mcp"
    verbose_name = "MCP"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core.signals import request_started, setting_changed

        from django_mcp import checks, correlation, routing  # noqa: F401  (registers checks)

        correlation.install_record_factory()
        _install_authorization_server()
        request_started.connect(routing.accept_slashless_endpoint, dispatch_uid="django_mcp.slashless")

        def on_setting_changed(setting, **kwargs):
            # The URLconf and MIDDLEWARE (LoginRequiredMiddleware) shape the views' facts.
            if setting.startswith("DJANGO_MCP_") or setting in (
                "INSTALLED_APPS",
                "AUTH_USER_MODEL",
                "ROOT_URLCONF",
                "MIDDLEWARE",
            ):
                from django_mcp import server  # the engine's host, imported by the first request

                server.reset()

        setting_changed.connect(on_setting_changed, weak=False, dispatch_uid="django_mcp.settings")


def _install_authorization_server():
    """DJANGO_MCP_OAUTH["server"]: django-oauth-toolkit gets its settings for MCP (oauth_server).
    Nothing imports the toolkit otherwise; without it the system checks say what is missing."""
    from django.apps import apps

    from django_mcp import oauth

    if oauth.server_mode() and apps.is_installed("oauth2_provider"):
        from django_mcp import oauth_server

        oauth_server.install()
