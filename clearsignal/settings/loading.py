"""Reading the settings: the TOML file, then the environment; errors name field and source."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clearsignal.settings.model import ENV_PREFIX, Settings

__all__ = ["DEFAULT_CONFIG_FILE", "SettingsError", "load_settings"]

DEFAULT_CONFIG_FILE = Path("clearsignal.toml")


class SettingsError(Exception):
    """Settings that cannot be used; the message names the field, its source and what is expected."""


def _config_path(path: Path | None) -> Path | None:
    """The file to read: asked for (then it must exist), or ./clearsignal.toml if present."""
    if path is not None:
        return path
    from_env = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(
            f"Settings file {path} does not exist. Create it (see docs/configuration.md) "
            f"or unset {ENV_PREFIX}CONFIG to run with the built-in demo site."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"Settings file {path} is not valid TOML: {exc}. Fix the syntax at that position; "
            "docs/configuration.md shows a complete example."
        ) from None


def _env_source(loc: tuple[int | str, ...]) -> str | None:
    """The environment variable that set the field at loc (or one of its parents), if any."""
    present = {k.upper() for k in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part).upper() for part in loc[:depth])
        if name in present:
            return name
    return None


_SECRET_FIELDS = ("secret", "password", "token", "dsn")
"""Fields whose value an error never repeats: it may be a secret, or hold one (a DSN's
password). Those errors say what is wrong without it."""


def _shown(loc: tuple[int | str, ...], got: object) -> str:
    if isinstance(got, dict | list):
        return ""
    if any(part in str(name).lower() for name in loc for part in _SECRET_FIELDS):
        return " (the value is not repeated here: it may hold a secret)"
    return f" (got {got!r})"


def _explain(error: ValidationError, path: Path | None) -> str:
    parts = []
    for item in error.errors():
        loc = tuple(item["loc"])
        field = ".".join(str(p) for p in loc) or "(settings)"
        env_var = _env_source(loc)
        if env_var:
            source = f"environment variable {env_var}"
        else:
            source = f"file {path}" if path is not None else "built-in defaults"
        parts.append(
            f"field '{field}' from {source}: {item['msg']}{_shown(loc, item.get('input'))}"
        )
    return (
        "Invalid ClearSignal settings: "
        + "; ".join(parts)
        + ". Correct the value and start again; every setting is described in docs/configuration.md."
    )


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from the TOML file (if any) and the environment; raise SettingsError."""
    config_path = _config_path(path)
    values: dict[str, Any] = _read_toml(config_path) if config_path is not None else {}
    if config_path is not None:
        # Demo mode (the demo shop, its unauthenticated "run jobs now", demo accounts) is
        # the quick start's: a deployment with a settings file asks for it explicitly.
        values.setdefault("demo", False)
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, config_path)) from None
