"""The seam's vocabulary is one list on both sides: the effect kinds, host error kinds and
audit outcomes the engine declares (component/src/seam.rs) are those the host mirrors
(django_mcp.seam) and the effects the host can carry out (django_mcp.effects); so are the
refusals the engine words for the host (component/src/protocol/errors.rs)."""

import json
import re
from pathlib import Path

from django_mcp import server
from django_mcp.effects import EffectError, EffectRunner
from django_mcp.engine import CompiledEngine, EngineInstance
from django_mcp.seam import AuditOutcome, CredentialStatus, EffectKind, HostErrorKind, RefusalKind

SRC = Path(__file__).resolve().parents[2] / "component" / "src"
SEAM_RS = (SRC / "seam.rs").read_text()
ERRORS_RS = (SRC / "protocol" / "errors.rs").read_text()


def rust_enum(name, source=SEAM_RS):
    """The body of `pub enum <name> { … }` in seam.rs (or `source`)."""
    return re.search(rf"pub enum {name}(?:<'a>)? \{{(.*?)\n\}}", source, re.S).group(1)


def snake(variant):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", variant).lower()


def variants(body):
    return re.findall(r"^    ([A-Z][A-Za-z0-9]+)\b", body, re.M)


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


def test_refusals_and_credential_statuses_are_the_engines():
    assert {snake(v) for v in variants(rust_enum("Refusal", ERRORS_RS))} == {kind.value for kind in RefusalKind}
    statuses = {snake(v) for v in variants(rust_enum("CredentialStatus", ERRORS_RS))}
    assert statuses == {status.value for status in CredentialStatus}


def test_the_hosts_one_fallback_is_the_engines_internal_refusal_byte_for_byte():
    # Without an engine instance to word it, the host answers an engine failure itself.
    refuser = EngineInstance(CompiledEngine())  # refusals need no catalogue
    for message_id in (7, "a", None):
        message = json.dumps({"jsonrpc": "2.0", "id": message_id, "method": "tools/call"})
        step = {"refuse": {"kind": "internal", "correlation_id": "c-1"}, "message": message}
        done = refuser.step_json(json.dumps(step))["done"]
        assert done["reply"] == server.internal_error_reply("c-1", message_id).encode()
