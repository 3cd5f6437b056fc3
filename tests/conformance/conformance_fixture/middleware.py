"""Give requests without credentials the key in CONFORMANCE_KEY, so the suite's clients go
through the real authentication path as a real user."""

import os


class ConformanceKey:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = f"Bearer {os.environ['CONFORMANCE_KEY']}"

    def __call__(self, request):
        request.META.setdefault("HTTP_AUTHORIZATION", self.header)
        return self.get_response(request)
