"""Engine transcripts (tests/transcripts/README.md): record them from a running host, and
replay them against any build of the engine, byte for byte."""

import dataclasses
import json
from pathlib import Path
from typing import Any


class Recorder:
    """Writes what an `EngineInstance` loads and steps, in transcript form."""

    def __init__(self, path: Path, facts_dir: Path, facts_name: str, title: str):
        self.path = Path(path)
        self.facts_dir = Path(facts_dir)
        self.facts_name = facts_name
        self.lines = [f"# {line}".rstrip() for line in title.strip().splitlines()]

    def comment(self, text: str) -> None:
        self.lines += ["", *(f"# {line}".rstrip() for line in text.strip().splitlines())]

    def loaded(self, facts_json: str, ok: bool, text: str) -> None:
        facts = self.facts_dir / self.facts_name
        pretty = json.dumps(json.loads(facts_json), indent=2, ensure_ascii=False) + "\n"
        if facts.exists() and facts.read_text() != pretty:
            raise ValueError(f"{facts} holds other facts; choose another name")
        facts.write_text(pretty)
        self.lines += [f"load {self.facts_name}", ("<= " if ok else "<! ") + text]

    def stepped(self, message: str, output: str | None) -> None:
        self.lines.append(f">> {message}")
        if output is None:
            self.lines.append("!! trap")
        else:
            self.lines += [f"<< {line}" for line in output.split("\n")]

    def save(self) -> None:
        self.path.write_text("\n".join(self.lines) + "\n")


@dataclasses.dataclass
class Item:
    line: int
    kind: str  # load | loaded | refused | step | out | trap
    text: str


def parse(path: Path) -> list[Item]:
    items = []
    for number, raw in enumerate(Path(path).read_text().split("\n"), start=1):
        if not raw or raw.startswith("#"):
            continue
        marker, _, text = raw.partition(" ")
        kind = {"load": "load", "<=": "loaded", "<!": "refused", ">>": "step", "<<": "out", "!!": "trap"}.get(marker)
        if kind is None:
            raise ValueError(f"{path}:{number}: unknown line {raw[:40]!r}")
        items.append(Item(number, kind, text))
    return items


class Mismatch(AssertionError):
    pass


def replay(path: Path, new_instance) -> int:
    """Replay one transcript. `new_instance()` returns an object with `load_text(text) ->
    (ok, text)` and `step_text(text) -> str` that raises on a trap (an `EngineInstance`).
    Returns the number of steps replayed."""
    path = Path(path)
    items = parse(path)
    facts_dir = path.parent / "facts"
    instance: Any = None  # what `new_instance` returns, once a transcript loads facts
    facts, steps, i = None, 0, 0

    def fail(item, expected, actual):
        offset = next((k for k, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
        raise Mismatch(
            f"{path.name}:{item.line}: differs at byte {offset}\n expected: {expected[offset : offset + 120]!r}\n"
            f"   actual: {actual[offset : offset + 120]!r}"
        )

    while i < len(items):
        item = items[i]
        if item.kind == "load":
            facts = (facts_dir / item.text).read_text()
            instance = new_instance()
            ok, text = instance.load_text(facts)
            expect = items[i + 1]
            if (expect.kind == "loaded") != ok or expect.text != text:
                fail(expect, f"{expect.kind} {expect.text}", f"{'loaded' if ok else 'refused'} {text}")
            i += 2
        elif item.kind == "step":
            expected_lines = []
            j = i + 1
            while j < len(items) and items[j].kind in ("out", "trap"):
                expected_lines.append(items[j])
                j += 1
            steps += 1
            try:
                output = instance.step_text(item.text)
            except Exception:
                if expected_lines and expected_lines[0].kind == "trap":
                    instance = new_instance()
                    instance.load_text(facts)
                    i = j
                    continue
                raise
            if expected_lines and expected_lines[0].kind == "trap":
                raise Mismatch(f"{path.name}:{expected_lines[0].line}: expected a trap, got {output[:120]!r}")
            actual = output.split("\n")
            for k, expected in enumerate(expected_lines):
                got = actual[k] if k < len(actual) else ""
                if got != expected.text:
                    fail(expected, expected.text, got)
            if len(actual) > len(expected_lines):
                raise Mismatch(
                    f"{path.name}:{item.line}: unexpected extra output {actual[len(expected_lines)][:120]!r}"
                )
            i = j
        else:
            raise Mismatch(f"{path.name}:{item.line}: {item.kind} line out of place")
    return steps
