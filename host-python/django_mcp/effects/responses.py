"""A view's HttpResponse as the JSON result of a view tool: `{status, headers, body}`.

The body is what an agent can use: JSON parsed, HTML reduced to its readable text, other
text as text, binary content as a note of its size. Text, and the text of JSON, is cut at
BODY_LIMIT characters (and a streamed body read no further than BODY_LIMIT bytes), so a large
page or file never floods the reply nor the engine; a cut body is marked `truncated`.

JSON is masked before anything is shown of it (`masked_json`): the value of every key the
engine names in the effect (`masked`: the names of redacted fields), at any depth. The view's
code may have read any model, so only the key's name is known: every key of that name is
masked (docs/security.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable
from html.parser import HTMLParser
from typing import Any

from asgiref.sync import async_to_sync
from django.http.response import HttpResponseBase

from django_mcp.values import MASK

BODY_LIMIT = 20_000

#: Headers worth reporting; cookies (Set-Cookie) and the like stay with the host.
SHOWN_HEADERS = (
    "Content-Type",
    "Location",
    "Allow",
    "Content-Disposition",
    "Content-Language",
    "Content-Length",
    "Cache-Control",
    "ETag",
    "Last-Modified",
    "Retry-After",
)

_TEXT_TYPES = {
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/csv",
    "application/yaml",
    "application/x-yaml",
}


def describe(response: HttpResponseBase, masked: Collection[str]) -> dict[str, Any]:
    """`{status, headers, body}`, the JSON of the body with the keys in `masked` masked."""
    data, complete = _content(response)
    headers = {name: response[name] for name in SHOWN_HEADERS if response.has_header(name)}
    body, truncated = _body(response, data, complete, frozenset(masked))
    result: dict[str, Any] = {"status": response.status_code, "headers": headers, "body": body}
    if truncated:
        result["truncated"] = True
    return result


def masked_json(value: Any, masked: Collection[str], convert: Callable[[Any], Any] | None = None) -> Any:
    """`value` with the value of every object key in `masked` (the engine's) masked as the
    admin masks a field, at any depth. `convert` turns what is not JSON yet (a DRF Response's
    decimals, querysets…) into what it will be written as, so that it is walked too; what it
    cannot convert is left for the encoder to refuse."""
    keys = frozenset(masked)

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: MASK if key in keys else walk(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(inner) for inner in item]
        if convert is None or item is None or isinstance(item, (str, int, float)):
            return item
        try:
            return walk(convert(item))
        except TypeError:
            return item

    return walk(value)


def _content(response: HttpResponseBase) -> tuple[bytes, bool]:
    """(bytes, complete): the whole content, or a stream's first BODY_LIMIT bytes."""
    if not response.streaming:
        return response.content, True
    chunks = async_to_sync(_read_async)(response) if response.is_async else _read(response.streaming_content)
    data = b"".join(chunks)
    return data[:BODY_LIMIT], len(data) <= BODY_LIMIT


def _read(stream: Iterable[bytes]) -> list[bytes]:
    chunks: list[bytes] = []
    size = 0
    for chunk in stream:
        chunks.append(chunk)
        size += len(chunk)
        if size > BODY_LIMIT:
            break
    return chunks


async def _read_async(response: HttpResponseBase) -> list[bytes]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.streaming_content:
        chunks.append(chunk)
        size += len(chunk)
        if size > BODY_LIMIT:
            break
    return chunks


def _body(response: HttpResponseBase, data: bytes, complete: bool, masked: frozenset[str]) -> tuple[Any, bool]:
    """(the body as shown, whether it was cut)."""
    if not data:
        return None, False
    media_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return _json_body(response, data, complete, masked)
    if media_type in ("text/html", "application/xhtml+xml"):
        return _cut(html_text(data.decode(response.charset or "utf-8", errors="replace")), complete)
    if media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith("+xml"):
        return _cut(data.decode(response.charset or "utf-8", errors="replace"), complete)
    size = f"{len(data)} bytes" if complete else _streamed_size(response)
    return f"[binary content: {size} of {media_type or 'an unknown type'}]", False


def _json_body(response: HttpResponseBase, data: bytes, complete: bool, masked: frozenset[str]) -> tuple[Any, bool]:
    """A JSON body parsed and masked; when its text is longer than BODY_LIMIT characters,
    that text cut as other text is. A body that cannot be parsed (a stream read only in part,
    or not JSON after all) cannot be masked: it fails closed, withheld when a key in `masked`
    appears in it, else shown as its text."""
    text = data.decode(response.charset or "utf-8", errors="replace")
    if complete:
        try:
            value = masked_json(json.loads(data.decode(response.charset or "utf-8")), masked)
        except ValueError:
            pass  # not JSON after all: shown as the text it is
        else:
            shown = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            return (value, False) if len(shown) <= BODY_LIMIT else _cut(shown)
    keys = "|".join(re.escape(key) for key in sorted(masked))
    if re.search(rf'"(?:{keys})"\s*:', text):
        return "[a JSON body cut short or not valid JSON, with a key that names a redacted field: not shown]", True
    return _cut(text, complete)


def _streamed_size(response: HttpResponseBase) -> str:
    length = response.get("Content-Length")
    return f"{length} bytes" if length and length.isdigit() else f"more than {BODY_LIMIT} bytes"


def _cut(text: str, complete: bool = True) -> tuple[str, bool]:
    """(text, whether it was cut): at most BODY_LIMIT characters, a cut said at its end."""
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT] + f"\n[… cut at {BODY_LIMIT} of {len(text)} characters]", True
    if not complete:
        return text + f"\n[… cut: the body is longer than {BODY_LIMIT} bytes]", True
    return text, False


def html_text(html: str) -> str:
    """The text a reader sees on an HTML page: no tags, scripts or styles; a line per block;
    runs of spaces and blank lines collapsed."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _TextParser(HTMLParser):
    HIDDEN = {"script", "style", "template", "noscript"}
    BLOCKS = {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "title",
        "tr",
        "ul",
    }
    CELLS = {"td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in self.CELLS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)
