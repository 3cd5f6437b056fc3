"""The demo project's settings, with the floor views routed beside the MCP endpoint."""

import os

from demo_project.settings import *  # noqa: F401,F403

ROOT_URLCONF = "floor_urls"

# Audit lines go to a file, as in a deployment, not to the terminal running the bench.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "audit": {"class": "logging.FileHandler", "filename": os.path.join(os.environ["DEMO_MEDIA"] + "-audit.log")}
    },
    "loggers": {"django_mcp": {"handlers": ["audit"], "level": "INFO", "propagate": False}},
}
