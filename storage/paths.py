"""Where the store and the user's config live."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "copydesk"


def default_db_path() -> Path:
    """``$COPYDESK_DB``, else ``<user data dir>/copydesk/copydesk.json``."""
    env = os.environ.get("COPYDESK_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs  # here: a command given --db needs neither it nor importlib.resources

    return Path(platformdirs.user_data_dir(APP_NAME)) / "copydesk.json"


def config_dir() -> Path:
    env = os.environ.get("COPYDESK_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def samples_dir() -> Path:
    """The five sample seeds shipped as package data of ``seeds``."""
    from importlib import resources

    return Path(str(resources.files("seeds") / "samples"))
