"""Write the facts the host gathers from the third-party test project (its admins, views
and DRF views) to tests/oracle/thirdparty-facts.json, for the engine's validator oracle
(component/tests/validator_oracle.rs). Run it again when that project changes:

    .venv/bin/python tests/oracle/dump_facts.py
"""

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main():
    sys.path[:0] = [str(ROOT / "tests" / "python"), str(ROOT / "demo")]
    workdir = tempfile.mkdtemp(prefix="django-mcp-oracle-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="fixtures.thirdparty.settings",
        DEMO_DB=f"{workdir}/db.sqlite3",
        DEMO_MEDIA=f"{workdir}/media",
        DEMO_DEBUG="0",
        DEMO_MCP_DISCOVERY="off",
    )
    import django

    django.setup()
    from django_mcp.facts import gather

    facts, _registry = gather()
    (HERE / "thirdparty-facts.json").write_text(json.dumps(json.loads(facts), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
