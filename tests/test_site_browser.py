"""The built site in a real browser (headless Chromium over the DevTools protocol): math
is typeset, search finds papers in Chinese and English, the contents lead to the papers,
and a day page fits a 390 px phone. Skipped only without jekyll or chromium."""

from __future__ import annotations

import json

from tests.site_kit import EN_WORD, MATH_DAY, ZH_WORD


def open_day(browser, built_site, day=MATH_DAY, fragment: str = "") -> None:
    browser.width(1200)
    browser.goto(f"{built_site.url}{built_site.post_path(day)[len(built_site.base_path):]}"
                 f"{fragment}")


def test_inline_and_display_math_is_typeset(browser, built_site):
    open_day(browser, built_site)
    browser.wait_for("window.MathJax && MathJax.startup && MathJax.startup.promise && "
                     "MathJax.startup.promise.then(() => true)")
    inline = browser.evaluate("document.querySelectorAll('mjx-container:not([display])')"
                              ".length")
    display = browser.evaluate("document.querySelectorAll('mjx-container[display=\"true\"]')"
                               ".length")
    assert inline >= 1 and display >= 1
    text = browser.evaluate("document.querySelector('.post-content').innerText")
    assert "\\mathcal" not in text and "\\arg\\max" not in text and "$$" not in text
    # Served by the site itself, with the ui/safe extension, no error glyphs.
    assert browser.evaluate("document.querySelectorAll('mjx-merror').length") == 0
    scripts = browser.evaluate("[...document.scripts].map(s => s.src).filter(Boolean)")
    assert all(src.startswith(built_site.url + "/assets/mathjax/") for src in scripts), scripts
    # ui/safe at work: \href{javascript:...} and \style in post text make no link or style.
    assert browser.evaluate("document.querySelectorAll('[href^=\"javascript\"]').length") == 0
    assert browser.evaluate("[...document.querySelectorAll('mjx-container [style]')]"
                            ".filter(e => /position/.test(e.getAttribute('style'))).length") == 0
    assert browser.evaluate("!!(MathJax.config.loader.load || []).includes('ui/safe')")


def test_a_day_without_math_loads_no_mathjax(browser, built_site):
    open_day(browser, built_site, day=MATH_DAY.replace(day=28))
    assert browser.evaluate("document.scripts.length") == 0


def search(browser, built_site, query: str) -> list[str]:
    browser.width(1200)
    browser.goto(f"{built_site.url}/search/?q={query}")
    browser.wait_for("document.querySelectorAll('.pagefind-ui__result-link').length > 0", 30)
    return browser.evaluate("[...document.querySelectorAll('.pagefind-ui__result-link')]"
                            ".map(a => a.getAttribute('href'))")


def test_search_finds_a_paper_by_a_chinese_word(browser, built_site):
    links = search(browser, built_site, ZH_WORD)
    assert any(link.endswith("/2026/01/29/arxiv.html#arxiv-2601-20002") for link in links), \
        links


def test_search_finds_a_paper_by_an_english_word(browser, built_site):
    links = search(browser, built_site, EN_WORD)
    assert any(link.endswith("#arxiv-2601-20002") for link in links), links
    assert browser.evaluate("document.querySelector('.pagefind-ui__search-input').value") \
        == EN_WORD


def test_contents_links_land_on_their_papers(browser, built_site):
    open_day(browser, built_site)
    links = browser.evaluate("[...document.querySelectorAll('#contents + ul a')]"
                             ".map(a => a.getAttribute('href'))")
    assert links == [f"#arxiv-2601-2000{n}" for n in range(1, 5)]
    for link in links:
        browser.evaluate(f"document.querySelector('a[href=\"{link}\"]').click()")
        browser.wait_for(f"location.hash === {json.dumps(link)}")
        top = browser.evaluate(f"document.getElementById({json.dumps(link[1:])})"
                               ".getBoundingClientRect().top")
        at_end = browser.evaluate("Math.ceil(scrollY + innerHeight) >= "
                                  "document.documentElement.scrollHeight")
        assert 0 <= top < 40 or (at_end and 0 <= top < 400), (link, top)  # the last ones


def test_a_day_page_fits_a_390_px_phone(browser, built_site):
    browser.width(390)
    browser.goto(f"{built_site.url}{built_site.post_path(MATH_DAY)[len(built_site.base_path):]}")
    assert browser.evaluate("window.innerWidth") == 390
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    wide = browser.evaluate("""[...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > 390.5
                && getComputedStyle(e).position !== 'fixed'
                && !e.closest('mjx-container, pre, table'))
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    assert wide == []
    size = browser.evaluate("parseFloat(getComputedStyle(document.querySelector("
                            "'.post-content p')).fontSize)")
    assert size >= 15


def test_the_skip_link_and_links_without_colour(browser, built_site):
    open_day(browser, built_site)
    assert browser.evaluate("document.querySelector('a.skip-link').getAttribute('href')") \
        == "#main"
    assert browser.evaluate("!!document.getElementById('main')")
    decorations = browser.evaluate("[...document.querySelectorAll('.post-content a')]"
                                   ".map(a => getComputedStyle(a).textDecorationLine)")
    assert decorations and set(decorations) == {"underline"}
