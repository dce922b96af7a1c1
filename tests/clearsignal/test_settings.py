from __future__ import annotations

from pathlib import Path

import pytest

from clearsignal.purposes import Purpose
from clearsignal.settings import SettingsError, load_settings

SHOP = """
data_dir = "{data_dir}"

[store]
database = "shop_analytics"

[[sites]]
id = "shop"
allowed_origins = ["https://shop.example"]
retention_days = {retention}
k_anonymity = 12
query_allowlist = ["utm_*", "ref"]

[sites.notice]
uri = "https://shop.example/privacy"
version = "2026-03"
text = "We count visits."
"""


def write(tmp_path: Path, retention: object = 90) -> Path:
    path = tmp_path / "clearsignal.toml"
    path.write_text(SHOP.format(data_dir=tmp_path / "d", retention=retention))
    return path


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CLEARSIGNAL_CONFIG", "CLEARSIGNAL_DATA_DIR", "CLEARSIGNAL_STORE__DSN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_without_a_file_the_demo_site_runs_on_the_embedded_engine(tmp_path: Path) -> None:
    settings = load_settings()
    assert [site.id for site in settings.sites] == ["demo"]
    demo = settings.site("demo")
    assert demo is not None
    assert demo.allowed_origins == ["http://127.0.0.1:8000", "http://localhost:8000"]
    assert settings.dsn == f"chdb://{tmp_path / 'data' / 'clickhouse'}"
    assert {p.id for p in demo.purposes} == set(Purpose)


def test_a_file_configures_sites_store_and_data_dir(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path))
    shop = settings.site("shop")
    assert shop is not None
    assert shop.retention_days == 90
    assert shop.k_anonymity == 12
    assert shop.query_allowlist == ["utm_*", "ref"]
    assert settings.store.database == "shop_analytics"
    assert settings.spool_dir == tmp_path / "d" / "spool"
    assert settings.log_key_path == tmp_path / "d" / "keys" / "log.key"


def test_clearsignal_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path)
    assert load_settings().site("shop") is not None


def test_environment_variables_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARSIGNAL_STORE__DSN", "http://default:@127.0.0.1:8123/other")
    settings = load_settings(write(tmp_path))
    assert settings.dsn == "http://default:@127.0.0.1:8123/other"
    assert settings.store.database == "shop_analytics"


def test_a_bad_value_in_the_file_names_the_field_the_file_and_the_expectation(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, retention=0)
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "sites.0.retention_days" in message
    assert str(path) in message
    assert "greater than or equal to 1" in message
    assert "\n" not in message


def test_a_bad_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARSIGNAL_STORE__DSN", "postgres://nope")
    with pytest.raises(
        SettingsError, match=r"CLEARSIGNAL_STORE__DSN.*chdb://, http:// or https://"
    ):
        load_settings()


def test_an_unknown_key_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('data_dri = "x"\n')
    with pytest.raises(SettingsError, match=r"field 'data_dri'.*Extra inputs are not permitted"):
        load_settings(path)


def test_a_file_that_is_not_toml_says_where_it_breaks(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[sites]\nid = 1\n")
    with pytest.raises(SettingsError, match=r"broken.toml is not valid TOML.*line 1"):
        load_settings(path)


def test_a_missing_file_that_was_asked_for_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_site_ids_must_be_unique(tmp_path: Path) -> None:
    site = SHOP[SHOP.index("[[sites]]") :].format(retention=30)
    path = tmp_path / "twice.toml"
    path.write_text(site + "\n" + site)
    with pytest.raises(SettingsError, match="site ids must be unique"):
        load_settings(path)


def test_a_funnel_names_each_step_once(tmp_path: Path) -> None:
    site = SHOP[SHOP.index("[[sites]]") :].format(retention=30)
    path = tmp_path / "funnel.toml"
    funnel = 'k_anonymity = 12\nfunnel = ["cart", "shipping", "cart", "purchase"]'
    path.write_text(site.replace("k_anonymity = 12", funnel))
    with pytest.raises(SettingsError, match="each step may be in the funnel once"):
        load_settings(path)


def test_an_error_never_repeats_a_secret_or_a_dsns_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path)
    config.write_text(
        config.read_text()
        + '[sites.webhook]\nurl = "https://hooks.example/in"\nsecret = "short-but-secret-hook"\n'
    )
    with pytest.raises(SettingsError) as webhook:
        load_settings(config)
    assert "sites.0.webhook.secret" in str(webhook.value)
    assert "short-but-secret-hook" not in str(webhook.value)
    monkeypatch.setenv("CLEARSIGNAL_STORE__DSN", "ftp://analyst:hunter2-of-the-store@db:21/x")
    with pytest.raises(SettingsError) as dsn:
        load_settings(write(tmp_path))
    assert "store.dsn" in str(dsn.value)
    assert "hunter2-of-the-store" not in str(dsn.value)
    monkeypatch.delenv("CLEARSIGNAL_STORE__DSN")
    monkeypatch.setenv("CLEARSIGNAL_SERVER__METRICS_TOKEN", "tiny-token-value")
    with pytest.raises(SettingsError) as token:
        load_settings(write(tmp_path))
    assert "tiny-token-value" not in str(token.value)


def test_demo_mode_is_the_quick_starts_and_a_settings_file_asks_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on main: a file naming one site `shop` and no accounts still ran the demo,
    whose first start creates `owner` and `officer` and logs their passwords."""
    from collector.admin.demo_accounts import create_demo_accounts

    monkeypatch.delenv("CLEARSIGNAL_DEMO", raising=False)
    assert load_settings().demo is True  # make run: no file
    from_file = load_settings(write(tmp_path))
    assert from_file.demo is False
    assert create_demo_accounts(from_file) == {}
    assert not (from_file.data_dir / "admin").exists() or not any(
        (from_file.data_dir / "admin").iterdir()
    )
    asked = tmp_path / "asked.toml"
    asked.write_text("demo = true\n" + write(tmp_path).read_text())
    assert load_settings(asked).demo is True
    monkeypatch.setenv("CLEARSIGNAL_DEMO", "true")
    assert load_settings(write(tmp_path)).demo is True
