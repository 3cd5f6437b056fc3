from django.apps import AppConfig


class ThirdPartyConfig(AppConfig):
    name = "thirdparty"
    default_auto_field = "django.db.models.BigAutoField"
