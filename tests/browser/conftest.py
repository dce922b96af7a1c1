"""Browser tests: the built snippet in headless Debian chromium, against the real collector.

Once per session: the snippet is built into a temporary directory (``npm run build``);
the collector runs as a subprocess (tests/browser/server.py: ``create_app`` plus the
snippet routes and the HTML fixtures) on a free loopback port, with a data directory
of its own and the loopback ClickHouse HTTP endpoint of tests/conftest.py as its store
(a database of its own); chromium is launched once. The browser reaches the collector
as ``http://shop.test:PORT`` (a host resolver rule): a site origin that is not local,
so the snippet sends without ``data-allow-localhost``. The ``demo`` site (and the strict
``strictshop``) allow that origin.

Each test gets a fresh browser context (empty storage, no cookies) and a ``Visit``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregator.store.client import open_store
from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    RETURNING_VISITOR,
    SERVER,
    SITE_HOST,
    USER_AGENT,
    Collector,
    Visit,
    free_port,
    on_request,
    on_response,
    site_settings,
)
from tests.js_snippet.snippet_build import TOOLS_MISSING, build_snippet, install_build_tools
from tests.support.clickhouse_http import ClickHouseHttpServer

playwright_sync = pytest.importorskip("playwright.sync_api")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def snippet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if TOOLS_MISSING:
        pytest.skip(TOOLS_MISSING)
    install_build_tools()
    directory = tmp_path_factory.mktemp("snippet-dist")
    build_snippet(directory)
    return directory


@pytest.fixture(scope="session")
def collector(
    tmp_path_factory: pytest.TempPathFactory,
    clickhouse_http: ClickHouseHttpServer,
    snippet_dir: Path,
) -> Iterator[Collector]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("collector-data")
    database = f"browser_{uuid.uuid4().hex[:12]}"
    origin = f"http://{SITE_HOST}:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLEARSIGNAL_")}
    env.update(
        CLEARSIGNAL_DATA_DIR=str(data_dir),
        CLEARSIGNAL_STORE__DSN=clickhouse_http.url,
        CLEARSIGNAL_STORE__DATABASE=database,
        CLEARSIGNAL_SITES=json.dumps(
            [
                site_settings("demo", origin),
                site_settings("strictshop", origin, strict=True),
                # /admin's dashboard, over a simulated history of its own
                site_settings("adminshop", origin) | {"name": "Example shop", "k_anonymity": 5},
            ]
        ),
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    log_path = data_dir / "collector.log"
    command = [sys.executable, str(SERVER), "--port", str(port), "--snippet-dir", str(snippet_dir)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    store = open_store(clickhouse_http.url, database)
    running = Collector(port, process, log_path, store, env, data_dir)
    try:
        running.wait_until_up()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()


@pytest.fixture(scope="session")
def browser(collector: Collector) -> Iterator[Any]:
    """Headless chromium. It takes the test shop (plain HTTP) for a secure origin, as a
    site served over HTTPS is: browsers give WebCrypto, which /me checks the log with,
    only to secure pages."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium")
    playwright = playwright_sync.sync_playwright().start()
    secure = f"--unsafely-treat-insecure-origin-as-secure={collector.origin}"
    try:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, secure]
        )
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


def note_console_error(visit: Visit, message: Any) -> None:
    if message.type == "error":
        visit.console_errors.append(message.text)


@pytest.fixture
def make_visit(browser: Any, collector: Collector) -> Iterator[Callable[..., Visit]]:
    """Opens a fresh context; ``init_script`` runs before each page's own scripts, other
    keyword arguments go to ``browser.new_context``."""
    contexts = []

    def make(init_script: str | None = None, **options: Any) -> Visit:
        context = browser.new_context(user_agent=USER_AGENT, **options)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        visit = Visit(collector, context, context.new_page())
        context.on("request", lambda request: on_request(visit, request))
        context.on("response", lambda response: on_response(visit, response))
        visit.page.on(
            "console",
            lambda message: (
                message.text.startswith("[clearsignal]") and visit.debug.append(message.text)
            ),
        )
        visit.page.on("pageerror", lambda error: visit.errors.append(str(error)))
        visit.page.on("console", lambda message: note_console_error(visit, message))
        return visit

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def visit(make_visit: Callable[..., Visit]) -> Iterator[Visit]:
    """A first visit: nothing stored in the browser."""
    opened = make_visit()
    yield opened
    assert opened.errors == [], "the page threw"


@pytest.fixture
def returning(make_visit: Callable[..., Visit]) -> Iterator[Visit]:
    """A visit whose browser already holds an id, so interaction events are sent."""
    opened = make_visit(init_script=RETURNING_VISITOR)
    yield opened
    assert opened.errors == [], "the page threw"
