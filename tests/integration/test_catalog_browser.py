"""The catalog's HTML page in a real browser: Debian's headless Chromium, driven
through Debian's chromedriver (both installed by the Makefile), loading the page
from a ``file://`` URL with no network (issue 17, point 4)."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from minari_namespaces.catalog.pages import write_catalog
from tests.support.catalog_tree import DOOR_NAME, catalog_of, example_tree

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: A browser that asks nothing of the network on its own (updates, sync, QUIC probes).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,1250",
)
#: Where the lead looks at the page.
SHARED_SCREENSHOT = Path("/tmp/catalog-screenshot.png")


def _processes_using(marker: str) -> list[int]:
    """The processes whose command line mentions ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile, or not ours to read
        if marker.encode() in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium with its own profile, gone after the test."""
    profile = tmp_path / "profile"
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Every request the page makes shows in the performance log.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # Given both paths, selenium never runs Selenium Manager (which would download a
    # browser); chromedriver and the browser it starts share one new process group.
    service = Service(
        executable_path=CHROMEDRIVER,
        log_output=str(tmp_path / "chromedriver.log"),
        popen_kw={"start_new_session": True},
    )
    driver = webdriver.Chrome(options=options, service=service)
    group = service.process.pid
    try:
        yield driver
    finally:
        driver.quit()
        # quit() ends the browser; a helper process it left behind goes with the group.
        if _processes_using(str(profile)):
            os.killpg(group, signal.SIGKILL)
    assert _processes_using(str(profile)) == []


def shown_names(driver: webdriver.Chrome, selector: str) -> list[str]:
    """The names of the entries matching ``selector`` that a person can see."""
    return [
        element.find_element(By.CSS_SELECTOR, ".name").text
        for element in driver.find_elements(By.CSS_SELECTOR, selector)
        if element.is_displayed()
    ]


def namespace(driver: webdriver.Chrome, ns: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'details.ns[data-id="{ns}"]')


def log(driver: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    """The entries of the browser's ``kind`` log since the last call."""
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries  # (selenium leaves get_log unannotated)


def search(driver: webdriver.Chrome, text: str) -> None:
    """Type ``text`` into the search box over what it holds, as a person would (clear()
    sets the value without the input event a person's typing fires)."""
    box = driver.find_element(By.ID, "search")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE, *text)


def test_the_page_browses_and_filters_the_tree_offline_and_runs_no_stored_string(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    out = tmp_path / "pages"
    write_catalog(catalog_of(example_tree(tmp_path / "store")), out)
    browser.get((out / "index.html").as_uri())

    assert browser.title == "Minari datasets"
    assert shown_names(browser, "details.ns") == ["D4RL"]
    assert shown_names(browser, "li.ds") == []

    namespace(browser, "D4RL").find_element(By.CSS_SELECTOR, "summary").click()
    assert shown_names(browser, "details.ns") == ["D4RL", DOOR_NAME, "Door-x", "Pen"]
    namespace(browser, "D4RL/door").find_element(By.CSS_SELECTOR, "summary").click()
    assert shown_names(browser, "li.ds") == ["expert-v2", "human-v1", "human-v2"]
    counts = namespace(browser, "D4RL/door").find_elements(By.CSS_SELECTOR, "li.ds .counts")
    assert [element.text for element in counts] == [
        "counts unknown · 50 B",
        "25 episodes · 6,729 steps · 175 B",
        "25 episodes · 6,729 steps · 67 B",
    ]

    search(browser, "PLAY")
    assert shown_names(browser, "details.ns") == ["D4RL", "Door-x"]
    assert shown_names(browser, "li.ds") == ["play-v0"]
    assert browser.find_element(By.ID, "status").text == "2 matches"  # Door-x says "Play."
    browser.save_screenshot(str(tmp_path / "filtered.png"))

    search(browser, "cloned")
    assert shown_names(browser, "li.ds") == ["cloned-v1"]
    assert browser.find_element(By.CSS_SELECTOR, "li.ds .error").is_displayed()

    search(browser, "")
    assert shown_names(browser, "details.ns") == ["D4RL", DOOR_NAME, "Door-x", "Pen"]
    assert shown_names(browser, "li.ds") == ["expert-v2", "human-v1", "human-v2"]
    assert browser.find_element(By.ID, "status").text == (
        "4 namespaces · 5 datasets · 50 episodes · 13,458 steps"
    )

    browser.find_element(By.ID, "expand").click()
    assert len(shown_names(browser, "li.ds")) == 5
    screenshot = tmp_path / "catalog.png"
    assert browser.save_screenshot(str(screenshot))
    shutil.copyfile(screenshot, SHARED_SCREENSHOT)

    # Nothing stored ran or became an element: no alert, one script (the page's own),
    # no image, and the hostile description shown as text.
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is what raises
    assert browser.execute_script("return document.scripts.length") == 1
    assert browser.execute_script("return document.images.length") == 0
    assert browser.execute_script("return document.querySelectorAll('b, a').length") == 0
    human = [e for e in browser.find_elements(By.CSS_SELECTOR, "li.ds") if "human-v1" in e.text]
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in human[0].text

    # Offline: the page asked for itself and nothing else, and nothing at all went to
    # the network (the browser's own new-tab page loads chrome:// resources first);
    # nothing was refused by the page's policy either.
    sent = [
        message["params"]
        for entry in log(browser, "performance")
        for message in [json.loads(entry["message"])["message"]]
        if message["method"] == "Network.requestWillBeSent"
    ]
    page = (out / "index.html").as_uri()
    assert [p["request"]["url"] for p in sent if p["documentURL"] == page] == [page]
    assert {p["request"]["url"].split(":", 1)[0] for p in sent} <= {"file", "data", "chrome"}
    assert [entry for entry in log(browser, "browser") if entry["level"] == "SEVERE"] == []
