#!/usr/bin/env python
"""manage.py for the third-party admin test project (run from tests/python/thirdparty)."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    # `thirdparty` lives in tests/python; the demo's `demo_project` and `library` in demo/.
    sys.path[:0] = [str(HERE.parent), str(HERE.parents[2] / "demo")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdparty.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
