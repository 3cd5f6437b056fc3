"""A view's HttpResponse as the JSON result of a view tool: `{status, headers, body}`.

The body is what an agent can use: JSON parsed, HTML reduced to its readable text, other
text as text, binary content as a note of its size. Text is cut at BODY_LIMIT characters
(and a streamed body read no further than BODY_LIMIT bytes), so a large page or file never
floods the reply.
"""

import json
from html.parser import HTMLParser

from asgiref.sync import async_to_sync

BODY_LIMIT = 20_000

#: Headers worth reporting; cookies (Set-Cookie) and the like stay with the host.
SHOWN_HEADERS = ("Content-Type", "Location", "Allow", "Content-Disposition", "Content-Language",
                 "Content-Length", "Cache-Control", "ETag", "Last-Modified", "Retry-After")

_TEXT_TYPES = {"application/xml", "application/javascript", "application/x-www-form-urlencoded",
               "application/csv", "application/yaml", "application/x-yaml"}


def describe(response):
    data, complete = _content(response)
    headers = {name: response[name] for name in SHOWN_HEADERS if response.has_header(name)}
    return {"status": response.status_code, "headers": headers, "body": _body(response, data, complete)}


def _content(response):
    """(bytes, complete): the whole content, or a stream's first BODY_LIMIT bytes."""
    if not response.streaming:
        return response.content, True
    chunks = async_to_sync(_read_async)(response) if response.is_async else _read(response.streaming_content)
    data = b"".join(chunks)
    return data[:BODY_LIMIT], len(data) <= BODY_LIMIT


def _read(stream):
    chunks, size = [], 0
    for chunk in stream:
        chunks.append(chunk)
        size += len(chunk)
        if size > BODY_LIMIT:
            break
    return chunks


async def _read_async(response):
    chunks, size = [], 0
    async for chunk in response.streaming_content:
        chunks.append(chunk)
        size += len(chunk)
        if size > BODY_LIMIT:
            break
    return chunks


def _body(response, data, complete):
    if not data:
        return None
    media_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        if complete:
            try:
                return json.loads(data.decode(response.charset or "utf-8"))
            except ValueError:
                pass  # not JSON after all: shown as the text it is
        return _cut(data.decode(response.charset or "utf-8", errors="replace"), complete)
    if media_type in ("text/html", "application/xhtml+xml"):
        return _cut(html_text(data.decode(response.charset or "utf-8", errors="replace")), complete)
    if media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith("+xml"):
        return _cut(data.decode(response.charset or "utf-8", errors="replace"), complete)
    size = f"{len(data)} bytes" if complete else _streamed_size(response)
    return f"[binary content: {size} of {media_type or 'an unknown type'}]"


def _streamed_size(response):
    length = response.get("Content-Length")
    return f"{length} bytes" if length and length.isdigit() else f"more than {BODY_LIMIT} bytes"


def _cut(text, complete=True):
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT] + f"\n[… cut at {BODY_LIMIT} of {len(text)} characters]"
    if not complete:
        return text + f"\n[… cut: the body is longer than {BODY_LIMIT} bytes]"
    return text


def html_text(html):
    """The text a reader sees on an HTML page: no tags, scripts or styles; a line per block;
    runs of spaces and blank lines collapsed."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _TextParser(HTMLParser):
    HIDDEN = {"script", "style", "template", "noscript"}
    BLOCKS = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
              "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
              "li", "main", "nav", "ol", "p", "pre", "section", "table", "title", "tr", "ul"}
    CELLS = {"td", "th"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in self.CELLS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)
