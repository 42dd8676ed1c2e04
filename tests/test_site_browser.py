"""The built site in a real browser (headless Chromium over the DevTools protocol): math
is typeset, search finds papers in Chinese and English, the contents lead to the papers,
and a day page fits a 390 px phone. Skipped only without jekyll or chromium."""

from __future__ import annotations

import json
import time

import pytest

from tests.site_kit import EN_WORD, MATH_DAY, ZH_TERM, ZH_WORD


def open_day(browser, built_site, day=MATH_DAY, fragment: str = "") -> None:
    browser.width(1200)
    browser.goto(f"{built_site.url}{built_site.post_path(day)[len(built_site.base_path):]}"
                 f"{fragment}")


def test_inline_and_display_math_is_typeset(browser, built_site):
    open_day(browser, built_site)
    # math in view (or about to be) loads MathJax
    browser.evaluate("document.querySelector('#arxiv-2601-20002').scrollIntoView()")
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


def search(browser, built_site, query: str, **filters: str) -> list[str]:
    """The result links of the search page for `query` (and topic/month filters)."""
    from urllib.parse import urlencode

    browser.width(1200)
    browser.goto(f"{built_site.url}/search/?{urlencode(dict(q=query, **filters))}")
    browser.wait_for("document.documentElement.getAttribute('data-search-ready') === '1'", 30)
    return browser.evaluate("[...document.querySelectorAll('.search-result-link')]"
                            ".map(a => a.getAttribute('href'))")


def paper(built_site, pid: str) -> str:
    return built_site.paper_path(pid)


def test_search_finds_a_paper_by_a_chinese_word(browser, built_site):
    links = search(browser, built_site, ZH_WORD)
    assert links == [paper(built_site, "2601.20002")]
    # titled by the paper's Chinese title, one result per paper
    assert browser.evaluate("document.querySelector('.search-result-link').textContent") \
        == "第 2 篇：音频离散化"
    assert browser.evaluate("document.querySelector('.search-result-en').textContent") \
        .startswith(EN_WORD)


def test_search_finds_a_paper_by_an_english_word(browser, built_site):
    links = search(browser, built_site, EN_WORD)
    assert links[:1] == [paper(built_site, "2601.20002")]
    assert browser.evaluate("document.getElementById('search-q').value") == EN_WORD


@pytest.mark.parametrize("query", ["2601.20003", "arXiv:2601.20003v1", "2601.19109"])
def test_search_by_arxiv_id_puts_its_paper_first(browser, built_site, query):
    links = search(browser, built_site, query)
    wanted = query.split(":")[-1].split("v")[0]
    assert links[:1] == [paper(built_site, wanted)]


def test_every_matching_paper_can_be_shown(browser, built_site):
    """Papers with 我们 (more than ten of the sample day): 10 at a time, then more."""
    having = {paper(built_site, p.parent.name) for p in built_site.site.glob("papers/*/index.html")
              if "我们" in p.read_text(encoding="utf-8").split('paper-body"')[1]}
    assert len(having) > 10
    assert len(search(browser, built_site, "我们")) == 10
    assert browser.evaluate("document.getElementById('search-status').textContent") == \
        f"找到 {len(having)} 篇论文"
    shown = "document.querySelectorAll('.search-result-link').length"
    while browser.evaluate("!document.getElementById('search-more').hidden"):
        before = browser.evaluate(shown)
        browser.evaluate("document.getElementById('search-more').click()")
        browser.wait_for(f"{shown} > {before}")
    links = browser.evaluate("[...document.querySelectorAll('.search-result-link')]"
                             ".map(a => a.getAttribute('href'))")
    assert sorted(links) == sorted(having)


def test_a_part_of_an_id_still_finds_by_prefix(browser, built_site):
    assert paper(built_site, "2601.19109") in search(browser, built_site, "2601.1910")


@pytest.mark.parametrize("query", [ZH_TERM, f'"{ZH_TERM}"'])
def test_a_chinese_term_matches_as_a_term(browser, built_site, query):
    """声码器 finds the papers that have it (ours and one of the sample day), not the one
    with 声学 and 滤波器."""
    having = {paper(built_site, p.parent.name) for p in built_site.site.glob("papers/*/index.html")
              if ZH_TERM in p.read_text(encoding="utf-8")}
    assert paper(built_site, "2601.20001") in having and len(having) >= 2
    links = search(browser, built_site, query)
    assert set(links) == having and len(links) == len(having)
    assert paper(built_site, "2601.20004") not in links


def test_search_filters_by_topic_and_month(browser, built_site):
    everything = search(browser, built_site, "音频")
    music = search(browser, built_site, "音频", topic="音乐")
    assert music == [paper(built_site, "2601.20002"), paper(built_site, "2601.20004")] or \
        sorted(music) == sorted([paper(built_site, "2601.20002"), paper(built_site, "2601.20004")])
    assert set(music) < set(everything)
    assert set(search(browser, built_site, "音频", month="2026-01")) == set(everything)
    assert browser.evaluate("[...document.querySelectorAll('#search-month option')]"
                            ".map(o => o.value)") == ["", "2026-01"]
    assert search(browser, built_site, "音频", month="2025-12") == []  # a month with none
    assert browser.evaluate("document.getElementById('search-status').textContent") \
        .startswith("没有")


def _luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fore, back) -> float:
    high, low = sorted((_luminance(fore), _luminance(back)), reverse=True)
    return (high + 0.05) / (low + 0.05)


COLOURS = """(() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const back = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
      if (!/rgba\\(0, 0, 0, 0\\)|transparent/.test(c)) { return rgb(c); } } return [255, 255, 255]; };
  return [...document.querySelectorAll('#search-results *, #search-status, .search-page-form label, .search-page-form input')]
    .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) || e.tagName === 'INPUT')
    .map(e => [e.tagName + '.' + e.className, rgb(getComputedStyle(e).color), back(e)]);
})()"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_search_results_are_readable_in_both_colour_schemes(browser, built_site, scheme):
    browser.send("Emulation.setEmulatedMedia",
                 features=[{"name": "prefers-color-scheme", "value": scheme}])
    try:
        assert search(browser, built_site, "音频")
        colours = browser.evaluate(COLOURS)
    finally:
        browser.send("Emulation.setEmulatedMedia", features=[])
    assert len(colours) >= 8
    low = [(name, round(contrast(f, b), 2)) for name, f, b in colours if contrast(f, b) < 4.5]
    assert low == []


def test_the_search_input_is_labelled(browser, built_site):
    search(browser, built_site, "")
    labels = browser.evaluate("[...document.querySelectorAll('input[type=search]')]"
                              ".map(i => i.labels.length ? i.labels[0].textContent : '')")
    assert labels and all(labels), labels
    names = browser.evaluate("[...document.querySelectorAll('nav')]"
                             ".map(n => n.getAttribute('aria-label'))")
    assert len(names) == len(set(names))


def test_a_paper_page_shows_the_translation_beside_the_abstract(browser, built_site):
    browser.width(1280)
    browser.goto(f"{built_site.url}/papers/2601.20002/")
    zh = browser.evaluate("document.querySelector('.paper-zh').getBoundingClientRect().toJSON()")
    en = browser.evaluate("document.querySelector('.paper-en').getBoundingClientRect().toJSON()")
    assert abs(zh["top"] - en["top"]) < 2 and zh["right"] <= en["left"]
    browser.width(390)
    browser.goto(f"{built_site.url}/papers/2601.20002/")
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    below = browser.evaluate("document.querySelector('.paper-en').getBoundingClientRect().top > "
                             "document.querySelector('.paper-zh').getBoundingClientRect().bottom - 1")
    assert below


def test_math_in_a_closed_analysis_loads_mathjax_only_when_opened(browser, built_site):
    browser.width(1200)
    browser.goto(f"{built_site.url}/papers/2601.20004/")
    time.sleep(1.0)  # time enough for an eager loader to have asked for MathJax
    requested = "performance.getEntriesByType('resource').some(r => /tex-chtml/.test(r.name))"
    assert browser.evaluate(requested) is False
    assert browser.evaluate("!window.MathJax.startup")
    browser.evaluate("document.querySelector('details.analysis').open = true")
    browser.wait_for("window.MathJax && MathJax.startup && MathJax.startup.promise && "
                     "MathJax.startup.promise.then(() => true)")
    assert browser.evaluate("document.querySelectorAll('details mjx-container').length") >= 1
    assert browser.evaluate(requested) is True


def test_the_floating_contents_button_covers_no_text_at_390_px(browser, built_site):
    browser.width(390)
    browser.goto(f"{built_site.url}{built_site.post_path(MATH_DAY)[len(built_site.base_path):]}")
    if browser.evaluate("CSS.supports('animation-timeline: scroll()')"):
        # at the top, over the contents, it is not shown at all
        assert browser.evaluate("getComputedStyle(document.querySelector('.to-contents'))"
                                ".visibility") == "hidden"
    browser.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    browser.wait_for("Math.ceil(scrollY + innerHeight) >= document.documentElement.scrollHeight")
    browser.wait_for("getComputedStyle(document.querySelector('.to-contents')).visibility"
                     " === 'visible'")
    covered = browser.evaluate("""(() => {
      const b = document.querySelector('.to-contents').getBoundingClientRect();
      const hits = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        if (!n.textContent.trim() || n.parentElement.closest('.to-contents, .visually-hidden')) continue;
        const range = document.createRange(); range.selectNodeContents(n);
        for (const r of range.getClientRects()) {
          if (r.width && r.right > b.left && r.left < b.right && r.bottom > b.top && r.top < b.bottom)
            hits.push(n.textContent.trim().slice(0, 30));
        }
      }
      return hits;
    })()""")
    assert covered == []


def test_contents_links_land_on_their_papers(browser, built_site):
    open_day(browser, built_site)
    links = browser.evaluate("[...document.querySelectorAll('#contents + ul a')]"
                             ".map(a => a.getAttribute('href'))"
                             ".filter(h => h.startsWith('#'))")  # not the topic links
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
