"""Provider profiles load: the five are available, the schema is valid, a minimal profile takes
OpenAI's defaults, and a bad or self-contradicting profile gets a clear error naming file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from _profiles import PROVIDERS

from schemas import SCHEMA_FILE, ProfileError, available_profiles, load_profile


# -- loading -----------------------------------------------------------------------------------------
def test_the_five_profiles_are_available() -> None:
    assert set(PROVIDERS) <= set(available_profiles())
    assert "profile.schema" not in available_profiles()


@pytest.mark.parametrize("name", PROVIDERS)
def test_profile_loads_and_names_itself(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.base_path.startswith("/")
    assert profile.docs, "a profile lists the documents it is built from"
    assert profile.declares("chat")


def test_load_by_path_equals_load_by_name(tmp_path: Path) -> None:
    copy = tmp_path / "karta.yaml"
    copy.write_text((SCHEMA_FILE.parent / "karta.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(str(copy)) == load_profile("karta")


def test_the_schema_is_a_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8")))


# -- bad profiles: a clear error naming the file and the field ----------------------------------------
GOOD = """
provider: demo
docs: [demo.txt]
base_path: /v1
endpoints:
  chat: /chat/completions
"""


def _write(tmp_path: Path, text: str, name: str = "demo.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_a_minimal_profile_loads_with_openai_defaults(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, GOOD))
    assert profile.model_rule == "required"
    assert profile.streaming_supported
    assert profile.expected_status("unknown-model") == 404
    assert profile.expectation("chat.response.object") is None


@pytest.mark.parametrize(
    ("extra", "field", "why"),
    [
        ("model: sometimes\n", "model", "sometimes"),
        (
            "expectations:\n  chat.response.object: {expected: deviation, cite: 'demo.txt:1 \"x\"'}\n",
            "expectations.[chat.response.object]",
            "observed",
        ),
        (
            "expectations:\n  chat.response.object: {expected: deviation, observed: x, cite: 'demo.txt line 1'}\n",
            "expectations.[chat.response.object].cite",
            "does not match",
        ),
        (
            "expectations:\n  chat.response.object: {expected: maybe, observed: x, cite: 'demo.txt:1 \"x\"'}\n",
            "expectations.[chat.response.object].expected",
            "maybe",
        ),
        ("error_matrix:\n  teapot: {status: 418, basis: convention, note: x}\n", "error_matrix", "teapot"),
        ("error_matrix:\n  no-credit: {status: 402, basis: documented}\n", "error_matrix.no-credit", "cite"),
        ("streaming: {supported: contradicted}\n", "streaming", "claims"),
        ("endpoint: {chat: /x}\n", "(top level)", "endpoint"),
        ("endpoints:\n  chat: chat/completions\n", "endpoints.chat", "chat/completions"),
    ],
)
def test_a_bad_profile_names_file_and_field(tmp_path: Path, extra: str, field: str, why: str) -> None:
    text = (
        GOOD.replace("endpoints:\n  chat: /chat/completions\n", "") if extra.startswith("endpoints") else GOOD
    )
    with pytest.raises(ProfileError) as err:
        load_profile(_write(tmp_path, text + extra))
    message = str(err.value)
    assert message.startswith("demo.yaml: ")
    assert f"{field}: " in message
    assert why in message


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("absent_endpoints:\n  chat: {reason: gone}\n", "also in endpoints"),
        (
            "expectations:\n  clients.python-sdk.parse:\n"
            "    {expected: deviation, observed: x, endpoints: [models], cite: 'demo.txt:1 \"x\"'}\n",
            "not in endpoints",
        ),
        (
            "statuses:\n  402: {meaning: budget, cite: 'demo.txt:1 \"x\"', conditions: [no-credit]}\n"
            "error_matrix:\n  no-credit: {status: 429, basis: convention, note: x}\n",
            "statuses.402.conditions",
        ),
        ("notes: [{text: x, cite: 'other.txt:1 \"x\"'}]\n", "not listed in docs"),
    ],
)
def test_a_profile_that_contradicts_itself_is_refused(tmp_path: Path, extra: str, why: str) -> None:
    with pytest.raises(ProfileError, match=why):
        load_profile(_write(tmp_path, GOOD + extra))


def test_not_yaml_and_not_a_mapping_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"demo\.yaml: not valid YAML"):
        load_profile(_write(tmp_path, "provider: [demo\n"))
    with pytest.raises(ProfileError, match="a profile is a mapping"):
        load_profile(_write(tmp_path, "- demo\n"))
    with pytest.raises(ProfileError, match=r"available: .*openai"):
        load_profile("no-such-provider")


def test_a_built_in_profile_must_name_itself_after_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import schemas._profile_loader as profiles_module

    monkeypatch.setattr(profiles_module, "PROFILES_DIR", tmp_path)
    _write(tmp_path, GOOD, name="other.yaml")
    with pytest.raises(ProfileError, match="provider: 'demo' must match the file name 'other'"):
        profiles_module.load_profile("other")
