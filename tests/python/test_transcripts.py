"""The engine alone (no Django): every shared transcript replays byte for byte from Python.
The Rust (tests/rust-host) and JavaScript (tests/js-host) hosts replay the same files."""

from pathlib import Path

import pytest

from django_mcp.engine import CompiledEngine, EngineInstance
from django_mcp.transcript import Mismatch, replay

TRANSCRIPTS = sorted((Path(__file__).resolve().parents[1] / "transcripts").glob("*.transcript"))


@pytest.fixture(scope="module")
def compiled():
    return CompiledEngine()


def test_there_are_transcripts_to_replay():
    assert len(TRANSCRIPTS) >= 6


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_replays_exactly(compiled, path):
    assert replay(path, lambda: EngineInstance(compiled)) > 0


def test_a_changed_reply_byte_is_caught(compiled, tmp_path):
    original = Path(TRANSCRIPTS[0])
    (tmp_path / "facts").symlink_to(original.parent / "facts")
    text = original.read_text()
    changed = tmp_path / original.name
    changed.write_text(text.replace('"jsonrpc":"2.0"', '"jsonrpc":"2.1"', 1))
    with pytest.raises(Mismatch, match="differs at byte"):
        replay(changed, lambda: EngineInstance(compiled))
