"""Open a local HTML file in Debian's headless Chromium through Selenium and Debian's
``chromium-driver`` (matched to the browser; nothing is downloaded), and return what a
reader would see: the page's text, the browser console's errors, a screenshot.

Chromium starts with no network side-traffic (no QUIC, no background networking, no
component updates, no sync), a fresh empty user-data-dir, and ``--no-sandbox`` (tests
run as root). ``unavailable()`` says precisely why a test must skip.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
)


@dataclass
class PageView:
    title: str
    text: str
    console: list[dict[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # network URLs the page asked for
    shown: dict[str, tuple[bool, int]] = field(
        default_factory=dict
    )  # id -> (visible, top)

    @property
    def console_errors(self) -> list[dict[str, str]]:
        return [e for e in self.console if e.get("level") == "SEVERE"]


def unavailable() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return (
                f"{path} missing: apt-get install {package} (scripts/bootstrap.sh does)"
            )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def open_page(html: Path, screenshot: Path, ids: tuple[str, ...] = ()) -> PageView:
    """Load ``html``, keep a screenshot, return the page view (and, for each element
    id in ``ids``, whether it is displayed and where its top edge is)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cniscrub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability(
        "goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(html.resolve().as_uri())
        body = driver.find_element("tag name", "body")
        view = PageView(
            title=driver.title,
            text=body.text,
            console=driver.get_log("browser"),
            requests=_requests(driver.get_log("performance")),
        )
        for element_id in ids:
            found = driver.find_elements("id", element_id)
            if found:
                view.shown[element_id] = (
                    found[0].is_displayed(),
                    found[0].location["y"],
                )
        driver.get_screenshot_as_file(str(screenshot))
        return view
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _requests(entries: list[dict[str, object]]) -> list[str]:
    import json

    urls = []
    for entry in entries:
        message = json.loads(str(entry["message"]))["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp"):
                urls.append(url)
    return urls
