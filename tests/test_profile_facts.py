"""What each provider profile says: its error matrix, the documented facts claim by claim, and the
verdicts that follow from them."""

from __future__ import annotations

import pytest
from _profiles import PROVIDERS

from schemas import CONDITIONS, DEFAULT_STATUSES, Expectation, Profile, load_profile


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return {name: load_profile(name) for name in PROVIDERS}


# -- the error matrix --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROVIDERS)
def test_the_error_matrix_covers_every_condition(name: str) -> None:
    assert set(load_profile(name).error_matrix) == set(CONDITIONS)


def test_the_openai_matrix_is_the_default(profiles: dict[str, Profile]) -> None:
    openai = profiles["openai"]
    assert {c: r.status for c, r in openai.error_matrix.items()} == DEFAULT_STATUSES
    assert openai.status_deviations() == {}
    assert openai.status_rule("rate-limited").basis == "documented"
    undocumented_by_openai = [c for c, r in openai.error_matrix.items() if r.basis == "convention"]
    assert all(openai.error_matrix[c].note for c in undocumented_by_openai)


def test_expected_status_rules(profiles: dict[str, Profile]) -> None:
    carpathian, karta, inferbase = profiles["carpathian"], profiles["karta"], profiles["inferbase"]
    assert carpathian.expected_status("no-credit") == 402  # documented
    assert carpathian.expected_status("malformed-json") == 400  # undocumented: OpenAI's applies
    assert carpathian.status_rule("malformed-json").basis == "undocumented"
    assert carpathian.expected_status("unknown-model") is None  # not applicable: the key decides
    assert karta.expected_status("invalid-param") == 422  # inferred from its status list
    assert karta.status_rule("invalid-param").basis == "inferred"
    assert inferbase.expected_status("revoked-key") == 403
    assert inferbase.expected_status("no-key", "chat") == 401
    assert inferbase.expected_status("no-key", "models") is None  # models needs no key
    assert inferbase.status_rule("revoked-key", "health").basis == "not-applicable"
    assert inferbase.status_rule("no-key", "health").cite == inferbase.endpoint("health").cite
    assert inferbase.expected_status("teapot") is None
    with pytest.raises(KeyError, match="unknown error-matrix condition"):
        inferbase.status_rule("teapot")


# -- the documented facts (issue 4), claim by claim -----------------------------------------------------
def test_openai_is_the_strict_default(profiles: dict[str, Profile]) -> None:
    openai = profiles["openai"]
    assert openai.endpoints == {
        "chat": "/chat/completions",
        "completions": "/completions",
        "embeddings": "/embeddings",
        "models": "/models",
        "model": "/models/{model}",
        "responses": "/responses",
    }
    assert not openai.declares("health")  # our extension, not OpenAI's
    assert (openai.model_rule, openai.key_prefix, openai.base_path) == ("required", "sk-", "/v1")
    assert openai.expectations == {} and openai.extensions == () and openai.absent_endpoints == {}
    assert openai.streaming.framing == "openai" and openai.streaming_supported


def test_carrot_facts(profiles: dict[str, Profile]) -> None:
    carrot = profiles["carrot"]
    assert carrot.base_path == "/v1" and carrot.key_prefix == "sk-" and carrot.model_rule == "required"
    assert set(carrot.endpoints) == {"chat", "completions", "embeddings"}
    assert set(carrot.absent_endpoints) == {"models", "model", "responses"}
    assert carrot.model_case_sensitive is True
    assert carrot.headers["X-Carrot-Trace"]["value"] == "true"
    assert {code: row.conditions for code, row in carrot.statuses.items()} == {
        401: ("no-key", "bad-key"),
        404: ("unknown-model",),
        502: ("cold-start",),
    }
    assert carrot.expectations == {}


def test_carpathian_facts(profiles: dict[str, Profile]) -> None:
    carpathian = profiles["carpathian"]
    assert carpathian.base_path == "/ai/v1" and carpathian.key_prefix == "cai_"
    assert (carpathian.model_rule, carpathian.model_default_name) == ("bound", "default")
    assert set(carpathian.base_path_aliases) == {"/ai", "/ai/v1/chat/completions"}
    assert set(carpathian.endpoint("chat").aliases) == {
        "/ai/chat/completions",
        "/ai/chat",
        "/ai/v1",
        "/ai/v1/completions",
    }
    assert set(carpathian.endpoints) == {"chat", "models"}
    assert carpathian.streaming_contradicted and carpathian.streaming_supported  # tested, not skipped
    assert {c.says for c in carpathian.streaming.claims} == {"supported", "unsupported"}
    assert {c.cite.split(":")[0] for c in carpathian.streaming.claims} == set(carpathian.docs)
    assert carpathian.rate_limit_per_minute == 60 and carpathian.limits["configurable"] is True
    assert {code: carpathian.statuses[code].conditions for code in (402, 403, 429)} == {
        402: ("no-credit",),
        403: ("ip-blocked", "account-disabled"),
        429: ("rate-limited",),
    }
    assert carpathian.expected_status("revoked-key") == 401


def test_karta_facts(profiles: dict[str, Profile]) -> None:
    karta = profiles["karta"]
    assert karta.base_path == "/v1/projects/{project_ref}" and karta.base_path_params == ("project_ref",)
    assert karta.model_rule == "optional" and karta.key_prefix == "kt_live_"
    assert karta.streaming.framing == "karta-events" and karta.streaming.event == "chunk"
    assert set(karta.statuses) == {200, 401, 402, 403, 404, 409, 422}
    assert karta.expectation("chat.response.object").observed == '"text_completion"'
    assert karta.expectation("chat.usage.present") is not None


def test_inferbase_facts(profiles: dict[str, Profile]) -> None:
    inferbase = profiles["inferbase"]
    assert inferbase.base_path == "/api/v1/inference" and inferbase.key_prefix == "inf_"
    assert set(inferbase.endpoints) == {
        "chat",
        "models",
        "health",
        "keys",
        "key",
        "credits",
        "credit_transactions",
        "usage",
    }
    assert set(inferbase.public_endpoints) == {"models", "health"}
    assert inferbase.endpoint("keys").methods == ("POST", "GET")
    assert inferbase.endpoint("key").methods == ("DELETE",)
    assert {"minimum": 0, "maximum": 2, "default": 1.0}.items() <= inferbase.parameters["temperature"].items()
    assert {code: row.conditions for code, row in inferbase.statuses.items()}[403] == (
        "revoked-key",
        "account-disabled",
    )
    assert inferbase.expected_status("cold-start") == 502


# -- verdicts ------------------------------------------------------------------------------------------
def test_verdict_logic(profiles: dict[str, Profile]) -> None:
    karta, inferbase, carrot = profiles["karta"], profiles["inferbase"], profiles["carrot"]
    assert karta.verdict("chat.response.id", True) == "pass"
    assert karta.verdict("chat.response.id", False) == "fail"
    assert karta.verdict("chat.response.object", False) == "deviation"
    assert karta.verdict("chat.response.object", True) == "drift"  # the documented deviation did not happen
    assert profiles["carpathian"].verdict("models.list.contains-model", False) == "not-applicable"
    assert profiles["carpathian"].verdict("models.list.contains-model", True) == "not-applicable"
    # an entry for one endpoint does not reach another
    assert inferbase.verdict("clients.python-sdk.parse", False, endpoint="models") == "deviation"
    assert inferbase.verdict("clients.python-sdk.parse", False, endpoint="chat") == "fail"
    assert inferbase.verdict("clients.python-sdk.parse", False) == "fail"
    # what follows from the profile's other data
    assert carrot.verdict("models.list.schema", False, endpoint="models") == "not-applicable"
    assert inferbase.verdict("errors.status.no-key", False, endpoint="models") == "not-applicable"
    assert inferbase.verdict("errors.status.no-key", False, endpoint="chat") == "fail"
    assert profiles["carpathian"].verdict("errors.status.unknown-model", False) == "not-applicable"
    # shape deviations describe successful answers, not the error matrix's
    assert karta.verdict("clients.python-sdk.parse", True, "chat") == "drift"
    assert karta.verdict("clients.python-sdk.parse", True, "chat", error_response=True) == "pass"
    assert karta.verdict("clients.python-sdk.parse", False, "chat", error_response=True) == "fail"
    exp = inferbase.expectation("errors.status.no-key", "health")
    assert isinstance(exp, Expectation) and exp.cite and "needs no API key" in (exp.reason or "")


def test_an_entry_scoped_to_a_request_applies_only_to_such_requests(profiles: dict[str, Profile]) -> None:
    """Karta's stream has no usage chunk: a deviation only where the request asked for one."""
    karta = profiles["karta"]
    asked = {"stream": True, "stream_options": {"include_usage": True}}
    assert karta.verdict("stream.usage.final-chunk", False, "chat", request=asked) == "deviation"
    assert karta.verdict("stream.usage.final-chunk", True, "chat", request=asked) == "drift"
    assert karta.verdict("stream.usage.final-chunk", True, "chat", request={"stream": True}) == "pass"
    assert karta.verdict("stream.usage.final-chunk", False, "chat", request={}) == "fail"
    assert karta.verdict("stream.usage.final-chunk", False, "chat") == "deviation"  # request not known
    assert karta.expectation("stream.usage.final-chunk", "chat", request={"stream": True}) is None


def test_status_deviations_are_what_the_openai_run_reports(profiles: dict[str, Profile]) -> None:
    assert {c: r.status for c, r in profiles["karta"].status_deviations().items()} == {
        "malformed-json": 422,
        "invalid-param": 422,
        "no-credit": 402,
    }
    assert {c: r.status for c, r in profiles["inferbase"].status_deviations().items()} == {
        "no-credit": 402,
        "revoked-key": 403,
        "cold-start": 502,
    }
    assert all(rule.cite for p in profiles.values() for rule in p.status_deviations().values())


def test_a_failure_where_the_docs_are_silent_is_undocumented_not_a_failure() -> None:
    karta, openai = load_profile("karta"), load_profile("openai")
    assert karta.silent_on("tools.choice.none") and not karta.silent_on("chat.response.object")
    assert karta.verdict("tools.choice.none", False, "chat") == "undocumented"
    assert karta.verdict("tools.choice.none", True, "chat") == "pass"
    assert openai.verdict("tools.choice.none", False, "chat") == "fail"
