"""Tests of the fake arXiv, LLM and GitHub servers, driven by the real clients.

They also pin down how the real clients react to each fault: the project's arXiv client
(digest_cli.fetch.client), the openai SDK, and plain httpx2 requests for the raw answers.
No test here is timed: waits go through a fake clock, and where a real timeout is the
subject, the server's delay is many times the client's limit.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import re
import socket
import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import httpx2
import openai
import pytest

from digest_cli.errors import FetchError
from digest_cli.fetch.client import ArxivClient, Search
from tests.fakes import FakeArxiv, FakeGitHub, FakeLLM
from tests.fakes.arxiv_server import render_error_feed
from tests.fakes.fixtures import (
    GITHUB_TOKEN,
    LLM_API_KEY,
    shared_arxiv_fixture,
)
from tests.fakes.github_server import ACTIONS_FORBIDDEN
from tests.fakes.llm_server import (
    DEFAULT_CHINESE_TEXT,
    PREAMBLE,
    english_responder,
    headings_responder,
    injection_responder,
    preamble_responder,
    sequence_responder,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
UTC = timezone.utc


# ----------------------------------------------------------------------------- arXiv
NOW = datetime(2026, 1, 28, 1, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic time that moves only when the client sleeps; notes every sleep."""

    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def arxiv_client(arxiv_server, site, settings_for):
    """`arxiv_client(page_size=100, retries=0, **settings)`: the project's client on the
    fake, with a fake clock (`.fake_clock`) and a response cache of its own."""
    made = itertools.count()

    def make(page_size: int = 100, retries: int = 0, **overrides) -> ArxivClient:
        settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                                arxiv_page_size=page_size, arxiv_retries=retries,
                                cache_dir=f"cache{next(made)}", **overrides)
        clock = FakeClock()
        client = ArxivClient(settings, now=NOW, sleep=clock.sleep, clock=lambda: clock.now)
        client.fake_clock = clock
        return client
    return make


def _ids(results) -> list[str]:
    return [r.short_id for r in results]


def _raw(server: FakeArxiv, timeout: float = 5.0, **params) -> httpx2.Response:
    return httpx2.get(server.query_url, params=params, timeout=timeout)


def _seed_audio_papers(server: FakeArxiv) -> None:
    for day in range(20, 27):  # 2601.00020 .. 2601.00026, one a day at 09:00 UTC
        cats = ["eess.AS", "cs.SD"] if day % 2 else ["cs.SD"]
        server.add_paper(id=f"2601.000{day}", categories=cats,
                         published=datetime(2026, 1, day, 9, 0, tzinfo=UTC), title=f"Paper {day}")
    server.add_paper(id="2601.00099", categories=["cs.CL"],
                     published=datetime(2026, 1, 22, 9, 0, tzinfo=UTC), title="Off topic")


def test_arxiv_client_filters_sorts_and_pages(arxiv_server, arxiv_client):
    _seed_audio_papers(arxiv_server)
    search = Search(
        query="(cat:cs.SD OR cat:eess.AS) AND submittedDate:[202601210000 TO 202601250900]")

    got = list(arxiv_client(page_size=2).results(search))

    assert _ids(got) == ["2601.00025v1", "2601.00024v1", "2601.00023v1", "2601.00022v1",
                         "2601.00021v1"]
    # max_results=None: pages of page_size until offset >= totalResults, no extra request.
    reqs = arxiv_server.query_requests
    assert [(r.query["start"], r.query["max_results"]) for r in reqs] == [
        ("0", "2"), ("2", "2"), ("4", "2")]
    assert reqs[0].query["sortBy"] == "submittedDate"
    assert reqs[0].query["sortOrder"] == "descending"
    assert reqs[0].headers["user-agent"].startswith("digest/")
    paper = got[0]
    assert paper.categories == ["eess.AS", "cs.SD"] and paper.primary_category == "eess.AS"
    assert paper.pdf_url == "https://arxiv.org/pdf/2601.00025v1"
    assert paper.abs_url == "https://arxiv.org/abs/2601.00025v1"
    assert paper.published == datetime(2026, 1, 25, 9, 0, tzinfo=UTC)


def test_arxiv_date_range_is_inclusive_to_the_minute_and_sorts_ascending(arxiv_server,
                                                                        arxiv_client):
    arxiv_server.add_paper(id="2601.10001", published=datetime(2026, 1, 20, 0, 0, tzinfo=UTC))
    arxiv_server.add_paper(id="2601.10002", published=datetime(2026, 1, 28, 8, 50, 59, tzinfo=UTC),
                           updated=datetime(2026, 1, 29, tzinfo=UTC))
    arxiv_server.add_paper(id="2601.10003", published=datetime(2026, 1, 28, 8, 51, tzinfo=UTC))
    arxiv_server.add_paper(id="2601.10004", published=datetime(2026, 1, 19, 23, 59, tzinfo=UTC))
    q = "cat:cs.SD AND submittedDate:[202601200000 TO 202601280850] AND abs:ignored"
    asc = list(arxiv_client().results(Search(query=q, sort_by="lastUpdatedDate",
                                             sort_order="ascending")))
    assert _ids(asc) == ["2601.10001v1", "2601.10002v1"]


def test_arxiv_max_results_slices_but_requests_full_pages(arxiv_server, arxiv_client):
    _seed_audio_papers(arxiv_server)
    got = list(arxiv_client(page_size=100).results(Search(query="cat:cs.SD", max_results=3)))
    assert len(got) == 3
    # Like arxiv.py: always page_size results asked for, then sliced locally.
    assert [r.query["max_results"] for r in arxiv_server.query_requests] == ["100"]


def test_arxiv_id_list_and_empty_result(arxiv_server, arxiv_client):
    arxiv_server.add_paper(id="2601.19786", version=2, title="Target", authors=["Li Hua"],
                           categories=["eess.AS", "cs.SD"], doi="10.1000/xyz",
                           comment="5 pages", journal_ref="ICASSP 2026")
    got = list(arxiv_client().results(Search(id_list=("2601.19786",))))
    assert _ids(got) == ["2601.19786v2"]
    r = got[0]
    assert (r.title, r.doi, r.comment, r.journal_ref) == ("Target", "10.1000/xyz", "5 pages",
                                                          "ICASSP 2026")
    assert r.authors == ["Li Hua"]
    older = list(arxiv_client().results(Search(id_list=("2601.19786v1",))))
    assert _ids(older) == ["2601.19786v1"]
    assert older[0].pdf_url == "https://arxiv.org/pdf/2601.19786v1"

    # Nothing matches: HTTP 200, totalResults 0, no <entry>; the client yields nothing.
    resp = _raw(arxiv_server, search_query="cat:astro-ph.CO")
    assert resp.status_code == 200
    root = ET.fromstring(resp.content)
    assert root.find("opensearch:totalResults", NS).text == "0"
    assert root.findall("atom:entry", NS) == []
    assert list(arxiv_client().results(Search(query="cat:astro-ph.CO"))) == []


def test_arxiv_feed_has_the_real_current_format(arxiv_server):
    """Same namespaces, header and entry element order as a recorded real answer."""
    real = ET.parse(shared_arxiv_fixture("api_query_all-testing_2026-04-12.xml")).getroot()
    arxiv_server.add_paper(id="2601.19786", title="Speech & <Audio>",
                           authors=["Ada", {"name": "Bo", "affiliation": ["MIT"]}],
                           categories=["eess.AS", "cs.SD"], comment="c", journal_ref="j",
                           doi="10.1/abc")
    body = _raw(arxiv_server, id_list="2601.19786").content
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns:opensearch=")
    fake = ET.fromstring(body)

    def header_tags(root):
        return [c.tag for c in root if c.tag != f"{{{NS['atom']}}}entry"]

    def entry_tags(entry):
        return [c.tag for c in entry]

    assert header_tags(fake) == header_tags(real)
    real_full = next(e for e in real.findall("atom:entry", NS)
                     if e.find("arxiv:journal_ref", NS) is not None
                     and e.find("arxiv:doi", NS) is not None
                     and e.find("arxiv:comment", NS) is not None)
    squash = lambda tags: [t for i, t in enumerate(tags) if i == 0 or tags[i - 1] != t]  # noqa: E731
    assert squash(entry_tags(fake.find("atom:entry", NS))) == squash(entry_tags(real_full))
    entry = fake.find("atom:entry", NS)
    assert entry.find("atom:id", NS).text == "http://arxiv.org/abs/2601.19786v1"
    assert entry.find("atom:title", NS).text == "Speech & <Audio>"
    authors = entry.findall("atom:author", NS)
    assert [a.find("atom:name", NS).text for a in authors] == ["Ada", "Bo"]
    assert authors[0].find("arxiv:affiliation", NS) is None
    assert authors[1].find("arxiv:affiliation", NS).text == "MIT"


def test_arxiv_400_error_feed_matches_the_recorded_one(arxiv_server):
    recorded = json.loads(shared_arxiv_fixture("api_error400_id-abc_2026-04-12.json").read_text())
    resp = _raw(arxiv_server, search_query="", id_list="abc")
    assert resp.status_code == 400
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert stamp.sub("T", resp.text) == stamp.sub("T", recorded["body"])
    # Same body on demand:
    ts = datetime(2026, 4, 12, 22, 59, 6, tzinfo=UTC)
    assert render_error_feed("incorrect id format for abc", ts) == recorded["body"]


def test_arxiv_400_is_not_retried_and_carries_the_message(arxiv_server, arxiv_client):
    client = arxiv_client(retries=2)
    with pytest.raises(FetchError, match=r"HTTP 400: incorrect id format for abc") as info:
        list(client.results(Search(id_list=("abc",))))
    assert info.value.status == 400
    assert len(arxiv_server.query_requests) == 1  # arxiv.py retried even a 400; no more


def test_arxiv_429_with_retry_after_then_recovers(arxiv_server, arxiv_client):
    _seed_audio_papers(arxiv_server)
    arxiv_server.fail_next(status=429, retry_after="2")
    raw = _raw(arxiv_server, search_query="cat:cs.SD")
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "2"

    arxiv_server.fail_next(status=429, retry_after="2")
    client = arxiv_client(retries=1)
    assert len(list(client.results(Search(query="cat:cs.SD")))) == 7
    assert client.fake_clock.sleeps == [2.0]  # as long as arXiv asked (arxiv.py ignored it)


@pytest.mark.parametrize("status", [500, 503])
def test_arxiv_5xx_exhausts_retries(arxiv_server, arxiv_client, status):
    arxiv_server.add_paper()
    arxiv_server.fail_next(status=status, times=2)
    with pytest.raises(FetchError) as info:
        list(arxiv_client(retries=1).results(Search(query="cat:cs.SD")))
    assert (info.value.status, info.value.retries) == (status, 1)
    assert arxiv_server.pending_faults == 0
    assert len(list(arxiv_client().results(Search(query="cat:cs.SD")))) == 1


def test_arxiv_empty_later_page_is_retried(arxiv_server, arxiv_client):
    _seed_audio_papers(arxiv_server)
    search = Search(query="cat:cs.SD")
    arxiv_server.ok_next()
    arxiv_server.empty_page_next(times=2)
    with pytest.raises(FetchError, match="empty page after 1 retries"):
        list(arxiv_client(page_size=3, retries=1).results(search))
    # One empty page is absorbed by a retry.
    arxiv_server.ok_next()
    arxiv_server.empty_page_next()
    assert len(list(arxiv_client(page_size=3, retries=1).results(search))) == 7


def test_arxiv_empty_first_page_is_silently_empty(arxiv_server, arxiv_client):
    _seed_audio_papers(arxiv_server)
    arxiv_server.empty_page_next()
    assert list(arxiv_client(retries=3).results(Search(query="cat:cs.SD"))) == []
    assert len(arxiv_server.query_requests) == 1  # no retry, no error


def test_arxiv_malformed_xml(arxiv_server, arxiv_client):
    for i in range(3):
        arxiv_server.add_paper(summary="word " * 200, title=f"T{i}")
    arxiv_server.malformed_next(keep_fraction=0.2)
    raw = _raw(arxiv_server, search_query="cat:cs.SD")
    assert raw.status_code == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(raw.content)
    # arxiv.py parsed with lxml recover=True: a cut first page gave no results and no
    # error. Read strictly, it is retried, then reported.
    arxiv_server.malformed_next(keep_fraction=0.2)
    assert len(list(arxiv_client(retries=1).results(Search(query="cat:cs.SD")))) == 3
    arxiv_server.malformed_next(keep_fraction=0.2)
    with pytest.raises(FetchError, match="malformed XML"):
        list(arxiv_client().results(Search(query="cat:cs.SD")))


def test_arxiv_reset_is_retried_as_a_broken_connection(arxiv_server, arxiv_client):
    arxiv_server.add_paper()
    arxiv_server.reset_next()
    with pytest.raises(httpx2.TransportError):
        _raw(arxiv_server, search_query="cat:cs.SD")
    arxiv_server.reset_next()
    assert len(list(arxiv_client(retries=1).results(Search(query="cat:cs.SD")))) == 1
    arxiv_server.reset_next()
    with pytest.raises(FetchError, match=r"connection broken \(\w+\) after 0 retries"):
        list(arxiv_client().results(Search(query="cat:cs.SD")))


def test_arxiv_delay_and_trickle_end_at_the_clients_deadline(arxiv_server, arxiv_client):
    # A real timeout is the subject: the server waits or trickles for 100 times the limit.
    arxiv_server.add_paper()
    arxiv_server.delay_next(20.0)
    with pytest.raises(httpx2.ReadTimeout):
        _raw(arxiv_server, search_query="cat:cs.SD", timeout=0.2)
    arxiv_server.delay_next(20.0)
    with pytest.raises(FetchError, match=r"no answer within 0.2 s after 0 retries"):
        list(arxiv_client(arxiv_timeout=0.2).results(Search(query="cat:cs.SD")))
    arxiv_server.trickle_next(pause=0.01)  # a byte each 10 ms: about 20 s for the page
    with pytest.raises(FetchError, match=r"no answer within 0.2 s after 0 retries"):
        list(arxiv_client(arxiv_timeout=0.2).results(Search(query="cat:cs.SD")))


def test_arxiv_serve_file_replays_recorded_answers(arxiv_server, arxiv_client):
    arxiv_server.serve_file(shared_arxiv_fixture("api_query_all-testing_2026-04-12.xml"))
    got = list(arxiv_client().results(Search(query="all:testing", max_results=5)))
    assert _ids(got)[0] == "2202.12139v1" and len(got) == 5
    assert got[0].journal_ref.startswith("Artificial Intelligence in Software Testing")
    arxiv_server.serve_file(shared_arxiv_fixture("api_error400_id-abc_2026-04-12.json"))
    with pytest.raises(FetchError) as info:
        list(arxiv_client().results(Search(id_list=("abc",))))
    assert info.value.status == 400


# ----------------------------------------------------------------------------- LLM
def _llm(server: FakeLLM, **kw) -> openai.OpenAI:
    kw.setdefault("api_key", LLM_API_KEY)
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5)
    return openai.OpenAI(base_url=server.base_url, **kw)


def _ask(client: openai.OpenAI, text: str = "请翻译：Speech enhancement.", **kw):
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "system", "content": "你是翻译。"},
                                       {"role": "user", "content": text}], **kw)


def test_llm_normal_answer(llm_server):
    resp = _ask(_llm(llm_server))
    assert resp.object == "chat.completion" and resp.id.startswith("chatcmpl-")
    assert resp.model == "gpt-4o-mini" and resp.created > 0
    assert resp.choices[0].message.content == DEFAULT_CHINESE_TEXT
    assert resp.choices[0].finish_reason == "stop"
    u = resp.usage
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens and u.completion_tokens > 0
    req = llm_server.requests[-1]
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == f"Bearer {LLM_API_KEY}"
    assert req.json["messages"][1]["content"] == "请翻译：Speech enhancement."
    assert llm_server.calls == llm_server.completed == 1
    assert [m.id for m in _llm(llm_server).models.list().data]


def test_llm_max_tokens_truncates_with_finish_reason_length(llm_server):
    resp = _ask(_llm(llm_server), max_tokens=5)
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.content == DEFAULT_CHINESE_TEXT[:5]


def test_llm_stream(llm_server):
    chunks = list(_ask(_llm(llm_server), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == DEFAULT_CHINESE_TEXT


def test_llm_429_is_retried_by_the_sdk(llm_server):
    llm_server.fail_next(429, retry_after="0.01")
    resp = _ask(_llm(llm_server, max_retries=2))
    assert resp.choices[0].message.content == DEFAULT_CHINESE_TEXT
    assert llm_server.calls == 2

    llm_server.fail_next(429, retry_after="0.01", times=3)
    with pytest.raises(openai.RateLimitError) as info:
        _ask(_llm(llm_server, max_retries=2))
    err = info.value
    assert err.status_code == 429 and err.code == "rate_limit_exceeded"
    assert err.response.headers["retry-after"] == "0.01"
    assert set(err.response.json()["error"]) == {"message", "type", "param", "code"}


def test_llm_401(llm_server):
    with pytest.raises(openai.AuthenticationError) as info:
        _ask(_llm(llm_server, api_key="sk-wrong-key-123456789"))
    assert info.value.status_code == 401
    body = info.value.response.json()
    assert body["error"]["code"] == "invalid_api_key" and body["error"]["param"] is None
    assert "sk-wrong" not in body["error"]["message"]  # the key is masked, as OpenAI does
    raw = httpx2.post(llm_server.base_url + "/chat/completions", json={"model": "m"}, timeout=5)
    assert raw.status_code == 401
    assert raw.json()["error"]["message"].startswith("You didn't provide an API key")


def test_llm_500_and_hang(llm_server):
    llm_server.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        _ask(_llm(llm_server))
    llm_server.hang_next(30)  # a real timeout is the subject: 150 times the client's
    with pytest.raises(openai.APITimeoutError):
        _ask(_llm(llm_server, timeout=0.2))


def test_llm_broken_json(llm_server):
    # A 200 with a truncated JSON body escapes the SDK as a bare JSONDecodeError.
    llm_server.broken_json_next()
    with pytest.raises(json.JSONDecodeError):
        _ask(_llm(llm_server, max_retries=2))
    assert llm_server.calls == 1
    # Cut mid-body (Content-Length not reached): a connection error, which the SDK retries.
    llm_server.broken_json_next(cut_connection=True)
    assert _ask(_llm(llm_server, max_retries=1)).choices[0].message.content == DEFAULT_CHINESE_TEXT
    llm_server.broken_json_next(cut_connection=True)
    with pytest.raises(openai.APIConnectionError):
        _ask(_llm(llm_server))


def test_llm_serves_concurrent_requests_in_parallel():
    # The responder only returns once 5 calls are inside it at the same time.
    barrier = threading.Barrier(5, timeout=30)  # only reached when the calls are parallel

    def responder(req):
        barrier.wait()
        return "并发"

    with FakeLLM(latency=0.05, responder=responder) as server:
        client = _llm(server, api_key="anything")
        with cf.ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda i: _ask(client, f"q{i}"), range(5)))
    assert [a.choices[0].message.content for a in answers] == ["并发"] * 5
    assert server.max_concurrency_seen == 5 and server.calls == server.completed == 5


def test_llm_content_fault_responders(llm_server):
    llm_server.responder = sequence_responder(
        english_responder, preamble_responder(), headings_responder(), injection_responder(),
        lambda req: "回声：" + req["messages"][-1]["content"])
    client = _llm(llm_server)
    english, preamble, headings, injected, echo = (
        _ask(client).choices[0].message.content for _ in range(5))
    assert not re.search(r"[\u4e00-\u9fff]", english)
    assert preamble.startswith(PREAMBLE)
    assert re.search(r"^## 1\)", headings, re.M)
    assert "忽略之前的所有指令" in injected
    assert echo == "回声：请翻译：Speech enhancement."


def test_llm_random_faults_are_reproducible():
    def pattern(seed: int) -> list[int]:
        with FakeLLM() as server, httpx2.Client(base_url=server.base_url) as http:
            server.random_faults(0.5, kinds=("429", "500"), seed=seed)
            return [http.post("/chat/completions", json={
                "model": "m", "messages": [{"role": "user", "content": "x"}]}).status_code
                for _ in range(12)]
    first = pattern(7)
    assert first == pattern(7)
    assert {200, 429, 500} <= set(first)


def test_stop_is_prompt_with_a_request_hanging():
    server = FakeLLM().start()
    port = server.port
    server.hang_next(30)
    with pytest.raises(httpx2.ReadTimeout):
        httpx2.post(server.base_url + "/chat/completions", timeout=0.2,
                    json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    stopping = threading.Thread(target=server.stop)
    stopping.start()
    stopping.join(timeout=15)  # half the hang: only a stop that does not wait it out ends
    assert not stopping.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5)


# ----------------------------------------------------------------------------- GitHub
def _gh(server: FakeGitHub, token: str = GITHUB_TOKEN, scheme: str = "Bearer") -> httpx2.Client:
    return httpx2.Client(base_url=server.url, timeout=5, headers={
        "Authorization": f"{scheme} {token}", "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28"})


def test_github_repo_and_pull_request_flow(github_server):
    gh = _gh(github_server)
    assert gh.get("/repos/octo/digest").json()["default_branch"] == "main"
    branch = "digest/2026-01-28"
    new = {"title": "Digest 2026-01-28", "head": branch, "base": "main", "body": "草稿"}

    r = gh.post("/repos/octo/digest/pulls", json=new)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]

    github_server.branches.add(branch)
    r = gh.post("/repos/octo/digest/pulls", json=new)
    assert r.status_code == 201
    pr = r.json()
    assert (pr["number"], pr["state"], pr["head"]["ref"], pr["base"]["ref"]) == (1, "open", branch, "main")
    assert pr["html_url"] == "https://github.com/octo/digest/pull/1" and pr["body"] == "草稿"

    r = gh.post("/repos/octo/digest/pulls", json={**new, "head": f"octo:{branch}"})
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"][0] == {"resource": "PullRequest", "code": "custom",
                                 "message": f"A pull request already exists for octo:{branch}."}
    assert body["documentation_url"].startswith("https://docs.github.com/")

    github_server.add_pull("other-branch", title="Other")
    listed = gh.get("/repos/octo/digest/pulls", params={"head": f"octo:{branch}", "state": "open"})
    assert [p["number"] for p in listed.json()] == [1]
    # Like GitHub, a head without "owner:" is ignored: every open PR comes back.
    assert len(gh.get("/repos/octo/digest/pulls", params={"head": branch}).json()) == 2

    r = gh.patch("/repos/octo/digest/pulls/1", json={"title": "Digest (v2)", "body": "新正文"})
    assert r.status_code == 200 and r.json()["title"] == "Digest (v2)"
    r = gh.post("/repos/octo/digest/issues/1/labels", json={"labels": ["digest", "needs-review"]})
    assert r.status_code == 200 and [x["name"] for x in r.json()] == ["digest", "needs-review"]

    assert github_server.labels == {1: ["digest", "needs-review"]}
    assert github_server.pulls[0]["body"] == "新正文"
    assert gh.patch("/repos/octo/digest/pulls/99", json={"title": "x"}).status_code == 404
    req = github_server.requests_to("/repos/octo/digest/pulls", method="POST")[-1]
    assert req.json["head"] == f"octo:{branch}" and req.headers["x-github-api-version"] == "2022-11-28"


def test_github_auth(github_server):
    r = httpx2.get(github_server.url + "/repos/octo/digest", timeout=5)
    assert r.status_code == 401 and r.json()["message"] == "Requires authentication"
    r = _gh(github_server, token="ghp_wrong").get("/repos/octo/digest")
    assert r.status_code == 401 and r.json()["message"] == "Bad credentials"
    assert _gh(github_server, scheme="token").get("/repos/octo/digest").status_code == 200
    assert _gh(github_server).get("/repos/octo/nope").status_code == 404


def test_github_injected_faults(github_server):
    gh = _gh(github_server)
    github_server.branches.add("b")
    github_server.fail_next(r"/pulls$", 403, ACTIONS_FORBIDDEN, method="POST")
    github_server.fail_next(r"^/repos/octo/digest$", 404)
    assert gh.get("/repos/octo/digest/pulls").status_code == 200  # GET not matched
    r = gh.post("/repos/octo/digest/pulls", json={"title": "t", "head": "b", "base": "main"})
    assert r.status_code == 403 and r.json()["message"] == ACTIONS_FORBIDDEN
    r = gh.get("/repos/octo/digest")
    assert r.status_code == 404 and r.json()["message"] == "Not Found"
    github_server.fail_next(".*", 401)
    assert gh.get("/repos/octo/digest").json()["message"] == "Bad credentials"
    assert gh.post("/repos/octo/digest/pulls",
                   json={"title": "t", "head": "b", "base": "main"}).status_code == 201
    assert len(github_server.pulls) == 1 and not github_server.errors
