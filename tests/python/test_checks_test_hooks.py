"""`DJANGO_MCP_TEST_HOOKS` answers `debug/*` before authentication: a system check refuses it
outside a test run (a process that is neither pytest nor `manage.py test`), unless the
deployment silences that check explicitly (a test fixture serving in a subprocess)."""

import json
import os
import subprocess
import sys

from django.core import checks

from servers import DEMO

CHECK = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "demo_project.settings"
from django.conf import settings
django.setup()
settings.DJANGO_MCP_TEST_HOOKS = {hooks}
settings.SILENCED_SYSTEM_CHECKS = {silenced}
from django.core import checks
print(__import__("json").dumps([e.id for e in checks.run_checks()
                              if e.id.startswith("django_mcp.") and not e.is_silenced()]))
"""


def check_ids_outside_tests(hooks, silenced=()):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(DEMO), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(hooks=hooks, silenced=list(silenced))],
        cwd=DEMO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_test_hooks_outside_a_test_run_are_a_check_error():
    assert "django_mcp.E021" in check_ids_outside_tests(True)


def test_test_hooks_off_or_silenced_pass_the_checks():
    assert check_ids_outside_tests(False) == []
    assert check_ids_outside_tests(True, ["django_mcp.E021"]) == []


def test_test_hooks_inside_a_test_run_pass_the_checks(settings):
    settings.DJANGO_MCP_TEST_HOOKS = True
    assert "django_mcp.E021" not in [e.id for e in checks.run_checks()]
