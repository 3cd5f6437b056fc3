"""The seam's vocabulary is one list on both sides: the effect kinds, host error kinds and
audit outcomes the engine declares (component/src/seam.rs) are those the host mirrors
(django_mcp.seam) and the effects the host can carry out (django_mcp.effects)."""

import re
from pathlib import Path

from django_mcp.effects import EffectError, EffectRunner
from django_mcp.seam import AuditOutcome, EffectKind, HostErrorKind

SEAM_RS = (Path(__file__).resolve().parents[2] / "component" / "src" / "seam.rs").read_text()


def rust_enum(name):
    """The body of `pub enum <name> { … }` in seam.rs."""
    return re.search(rf"pub enum {name}(?:<'a>)? \{{(.*?)\n\}}", SEAM_RS, re.S).group(1)


def snake(variant):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", variant).lower()


def variants(body):
    return re.findall(r"^    ([A-Z][A-Za-z]+)\b", body, re.M)


def test_effect_kinds_are_the_engines_and_each_has_a_handler():
    kinds = set(re.findall(r'#\[serde\(rename = "([a-z_.]+)"\)\]', rust_enum("Effect")))
    assert kinds == {kind.value for kind in EffectKind}
    assert set(EffectRunner(caller=None, registry=None).handlers) == set(EffectKind)


def test_host_error_kinds_and_audit_outcomes_are_the_engines():
    errors = {snake(v) for v in variants(rust_enum("HostErrorKind")) if v != "Unknown"}
    assert errors == {kind.value for kind in HostErrorKind}
    assert {snake(v) for v in variants(rust_enum("AuditOutcome"))} == {outcome.value for outcome in AuditOutcome}


def test_an_effect_error_of_a_kind_the_engine_does_not_know_is_refused_at_once():
    assert EffectError("validation", "bad").to_json()["error"]["kind"] == "validation"
    try:
        EffectError("melted")
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown host error kind was accepted")
