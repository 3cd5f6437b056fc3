"""Records the SQL each MCP request runs, so tests can prove a refused call read nothing.

With THIRDPARTY_SQL_LOG set, every POST appends one JSON line to that file:
`{"tool": <params.name>, "arguments": <params.arguments>, "sql": [[statement, params], …]}`.
"""

import json
import os

from django.db import connection


class SQLTrail:
    def __init__(self, get_response):
        self.get_response = get_response
        self.path = os.environ.get("THIRDPARTY_SQL_LOG")

    def __call__(self, request):
        if not self.path or request.method != "POST":
            return self.get_response(request)
        try:
            params = json.loads(request.body).get("params")
        except (ValueError, AttributeError):
            params = None
        if not isinstance(params, dict):
            params = {}
        statements = []

        def record(execute, sql, sql_params, many, context):
            statements.append([sql, repr(sql_params)])
            return execute(sql, sql_params, many, context)

        with connection.execute_wrapper(record):
            response = self.get_response(request)
        entry = {"tool": params.get("name"), "arguments": params.get("arguments"), "sql": statements}
        with open(self.path, "a") as log:
            log.write(json.dumps(entry, default=str) + "\n")
        return response
