"""The HTML export in a real headless Chromium (Debian's chromium + chromedriver, via selenium):
open the index from file://, search, sort, open a chat, switch branches, take a screenshot."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from claude_backup.fakeapi import FakeClaudeServer
from conftest import Fake, chat_files, make_model, run_cli, sync

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
        "--window-size=1200,900",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chrome-profile", ignore_errors=True)


def visible_rows(driver: WebDriver) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    return [r.find_element(By.CSS_SELECTOR, "a").text for r in rows if r.is_displayed()]


def visible_messages(driver: WebDriver) -> list[str]:
    found = driver.find_elements(By.CSS_SELECTOR, "article.msg")
    return [a.get_attribute("data-id") or "" for a in found if a.is_displayed()]


def test_html_export_in_a_browser(tmp_path: Path, browser: WebDriver) -> None:
    model = make_model(chats=6)
    org = model.accounts[0].orgs[0]
    target = model.add_chat(org, "Violin lessons", turns=3)
    model.edit_branch(target.uuid)
    model.retry(target.uuid)
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        assert sync(Fake(model, server), archive).returncode == 0
    site = tmp_path / "site"
    result = run_cli("export", str(site), "--archive", str(archive), base_url="http://127.0.0.1:9")
    assert result.returncode == 0, result.stderr
    stored = json.loads(chat_files(archive)[target.uuid].read_text())
    leaf = stored["current_leaf_message_uuid"]

    browser.get((site / "index.html").as_uri())
    assert len(visible_rows(browser)) == 7
    word = target.messages[0].content[0]["text"].split()[0].rstrip(".")
    box = browser.find_element(By.ID, "q")
    box.send_keys("Violin lessons")
    assert visible_rows(browser) == ["Violin lessons"]
    box.clear()
    box.send_keys(word.upper())  # case-insensitive, over message text
    rows = visible_rows(browser)
    assert "Violin lessons" in rows
    assert browser.find_elements(By.CSS_SELECTOR, "tr:not([hidden]) .snippet mark")
    box.clear()
    box.send_keys("zzzz-nothing")
    assert visible_rows(browser) == []
    box.clear()
    box.send_keys(" ")
    browser.find_element(By.CSS_SELECTOR, 'th[data-sort="title"]').click()
    titles = visible_rows(browser)
    assert titles == sorted(titles, key=str.casefold)

    browser.find_element(By.LINK_TEXT, "Violin lessons").click()
    assert browser.title == "Violin lessons"
    shown = visible_messages(browser)
    assert shown[-1] == leaf  # opens on the current branch
    select = Select(browser.find_element(By.ID, "branch"))
    assert len(select.options) == 3 and select.first_selected_option.get_attribute("value") == leaf
    other = next(
        o.get_attribute("value") for o in select.options if o.get_attribute("value") != leaf
    )
    select.select_by_value(other or "")
    switched = visible_messages(browser)
    assert switched[-1] == other and switched != shown
    assert len(switched) < len(stored["chat_messages"])  # one branch shown, not all
    # The retry arrows at the last reply lead back to the current branch's sibling.
    browser.find_element(By.ID, "branch")
    Select(browser.find_element(By.ID, "branch")).select_by_value(leaf)
    last = browser.find_element(By.ID, f"m-{leaf}")
    assert last.find_element(By.CSS_SELECTOR, ".pos").text == "2 / 2"
    last.find_element(By.CSS_SELECTOR, 'button[data-step="prev"]').click()
    assert visible_messages(browser)[-1] != leaf
    assert browser.get_log("browser") == []  # no script errors

    shot = tmp_path / "chat.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_index_fits_1280_px_with_a_long_title_and_chat_pages_show_images(
    tmp_path: Path, browser: WebDriver
) -> None:
    """A title with no spaces must not push the other columns off screen (issue 19); an
    uploaded image the archive holds is shown on its chat's page."""
    model = make_model(chats=3)
    org = model.accounts[0].orgs[0]
    model.add_chat(org, "x" * 300, turns=1)
    model.add_chat(org, "https://example.org/" + "very-long-path-segment" * 12, turns=1)
    pictured = model.add_chat(org, "Whiteboard photo", turns=1)
    model.attach_upload(pictured.uuid, "image", "whiteboard.png")
    archive, site = tmp_path / "archive", tmp_path / "site"
    with FakeClaudeServer(model) as server:
        assert sync(Fake(model, server), archive).returncode == 0
    assert run_cli("export", str(site), "-a", str(archive), base_url="http://x").returncode == 0
    for width in (1280, 2600):
        browser.set_window_size(width, 900)
        browser.get((site / "index.html").as_uri())
        inner = browser.execute_script("return window.innerWidth")
        right = browser.execute_script(
            "return document.querySelector('th[data-sort=updated]').getBoundingClientRect().right"
        )
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        browser.save_screenshot(str(tmp_path / f"index-{width}.png"))
        assert right <= inner and scroll <= inner, (width, right, scroll, inner)
    browser.get((site / "chats" / f"{pictured.uuid}.html").as_uri())
    image = browser.find_element(By.CSS_SELECTOR, ".uploads img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
    assert image.get_attribute("alt") == "whiteboard.png"
