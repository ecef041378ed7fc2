"""The website's search, as a reader uses it, offline: type a term into the search box, press Enter,
and follow the results to the chapter that teaches it.

Sphinx's search runs in the browser on the index the build writes (``searchindex.js``); nothing is
fetched from another host. Each term must bring up its chapter as the first chapter among the results,
and the result's link must open that chapter.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import open_page

# term -> the chapter that teaches it (the term is in its title or in a section title there)
EXPECTED = {
    "Nesterov": "chapters/06_nesterov",
    "bias correction": "chapters/09_adam",
    "AdamW": "chapters/11_after_adam",
}


def chapter_links(page) -> list[str]:
    """The pages the results link to, in their order, without suffix or anchor, each once."""
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.href)")
    pages = []
    for href in hrefs:
        path = href.split("#")[0].split("?")[0]
        page_name = path.split("/", 3)[-1].removesuffix(".html")
        if page_name not in pages:
            pages.append(page_name)
    return pages


@pytest.mark.parametrize("term", EXPECTED)
def test_search_finds_the_chapter(term, browser_context, site_url):
    opened = open_page(browser_context, site_url, "intro.html")
    page = opened.page
    try:
        # The theme's search box: the button in the header opens it (as Ctrl+K does).
        page.locator("button.search-button, .search-button-field").first.click()
        box = page.locator("form.bd-search input[name=q]:visible").first
        box.fill(term)
        box.press("Enter")
        page.wait_for_url("**/search.html?*")
        summary = page.locator("#search-results .search-summary")
        expect(summary).to_contain_text("found", timeout=30_000)
        found = chapter_links(page)
        expected = EXPECTED[term]
        chapters = [name for name in found if name.startswith("chapters/")]
        assert chapters and chapters[0] == expected, (
            f"search for {term!r}: the first chapter found is {chapters[:1]}, expected {expected} "
            f"(all results: {found})")
        page.locator(f"#search-results ul.search li a[href*='{expected}.html']").first.click()
        page.wait_for_load_state("load")
        assert page.url.split("#")[0].split("?")[0].endswith(f"{expected}.html"), page.url
        assert not opened.external, f"the search fetched from another host: {opened.external}"
        assert not opened.errors, f"console errors while searching: {opened.errors}"
    finally:
        page.close()
