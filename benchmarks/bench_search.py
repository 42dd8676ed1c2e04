"""Search by paper: how often the wanted paper is in the first 3 results (issue 21, point 3).

    python benchmarks/bench_search.py [--papers 300] [--seed 21]

Builds two sites (real Jekyll and Pagefind): the shipped day as it is, queried with
phrases of its real Chinese texts that only one paper has (`zh-text`: 3-6 characters of a
translation or 详细解读, five per paper); and a synthetic-but-realistic archive. Each query
set runs in headless Chromium through the search page's own pre-step
(`window.digestSearchQuery`, assets/js/search.js) and Pagefind, and prints the share of
queries whose paper is among the first 3 results, per kind of query and overall; the same
queries given to Pagefind as typed (no pre-step) are printed beside them for comparison.

The archive: the 20 real papers of the shipped day (`data/2026-01-28/`: their abstracts,
translations and 详细解读 keep the length and wording of real ones) spread over days of 20
papers, each given a bilingual title, a summary, topics and an opening sentence made from
pools of real speech-and-audio terms (English and Chinese side by side), so that titles
share words the way an archive's do (many "speech enhancement", "speaker verification",
"扩散模型"...). Queries, for every paper:

* `id`: its arXiv id, as typed (`2601.23001`) or pasted (`arXiv:2601.23001v1`);
* `title`: three consecutive words of its English title, any three;
* `zh`: a phrase of its Chinese title (two neighbouring terms, as a reader types them).

Needs `jekyll` and `chromium` (as the site tests do). Nothing here is a pass/fail test; the
figure is quoted in docs/site.md and docs/performance.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_site import SAMPLE, site_root  # noqa: E402 - beside this script

from digest_cli.records.model import ArxivId, MachineText  # noqa: E402
from digest_cli.records.store import load_day, write_day  # noqa: E402
from digest_cli.records.writer import Writer  # noqa: E402
from digest_cli.site.build import build_site  # noqa: E402
from digest_cli.site.serve import make_server  # noqa: E402

FIRST_DAY = date(2025, 12, 1)
PER_DAY = 20
TOP = 3

# (English, Chinese, topic slug): the terms real titles in cs.SD / eess.AS are made of.
TASKS = [
    ('Speech Enhancement', '语音增强', 'enhancement'),
    ('Speaker Verification', '说话人验证', 'speaker'),
    ('Speaker Diarization', '说话人日志', 'speaker'),
    ('Speech Separation', '语音分离', 'enhancement'),
    ('Text-to-Speech Synthesis', '语音合成', 'tts'),
    ('Neural Vocoding', '声码器', 'tts'),
    ('Automatic Speech Recognition', '自动语音识别', 'asr'),
    ('Keyword Spotting', '关键词检测', 'asr'),
    ('Audio Captioning', '音频描述生成', 'audio-understanding'),
    ('Sound Event Detection', '声音事件检测', 'audio-understanding'),
    ('Music Generation', '音乐生成', 'music'),
    ('Music Transcription', '音乐转录', 'music'),
    ('Audio Deepfake Detection', '音频深度伪造检测', 'spoofing'),
    ('Speech Emotion Recognition', '语音情感识别', 'other'),
    ('Audio Codec Modeling', '音频编解码', 'codec'),
    ('Speech Tokenization', '语音离散化', 'codec'),
    ('Sound Field Reconstruction', '声场重建', 'other'),
    ('Binaural Rendering', '双耳渲染', 'other'),
    ('Voice Conversion', '语音转换', 'tts'),
    ('Singing Voice Synthesis', '歌声合成', 'music'),
    ('Spoken Language Understanding', '口语理解', 'asr'),
    ('Dysarthric Speech Assessment', '构音障碍语音评估', 'other'),
]
METHODS = [
    ('Diffusion Models', '扩散模型'),
    ('Flow Matching', '流匹配'),
    ('State Space Models', '状态空间模型'),
    ('Contrastive Pretraining', '对比预训练'),
    ('Large Language Models', '大语言模型'),
    ('Masked Autoencoders', '掩码自编码器'),
    ('Self-Supervised Representations', '自监督表示'),
    ('Residual Vector Quantization', '残差向量量化'),
    ('Conformer Encoders', 'Conformer 编码器'),
    ('Knowledge Distillation', '知识蒸馏'),
    ('Graph Neural Networks', '图神经网络'),
    ('Hyperbolic Embeddings', '双曲嵌入'),
    ('Physics-Informed Networks', '物理信息神经网络'),
    ('Mixture of Experts', '混合专家'),
    ('Reinforcement Learning', '强化学习'),
    ('Prompt Tuning', '提示微调'),
    ('Variational Inference', '变分推断'),
    ('Gated Attention', '门控注意力'),
]
SETTINGS = [
    ('in Noisy Environments', '噪声环境下的'),
    ('for Low-Resource Languages', '面向低资源语言的'),
    ('with Limited Data', '小样本'),
    ('in Real Time', '实时'),
    ('on Edge Devices', '端侧'),
    ('across Languages', '跨语种'),
    ("for Children's Speech", '儿童语音'),
    ('in Reverberant Rooms', '混响环境下的'),
    ('at Scale', '大规模'),
    ('for Streaming Input', '流式'),
    ('with Visual Cues', '视觉辅助的'),
    ('for Long-Form Audio', '长音频'),
]
NAMES = [
    'Lumen', 'EchoNet', 'TokVoc', 'Sonora', 'MambaSE', 'Harmonia', 'VoxFlow', 'DiarX',
    'Resona', 'Auralis', 'PhonoLM', 'BirdSet', 'CodecLM', 'Timbre', 'WaveQ', 'Prosodia',
]


def bilingual_title(rng: random.Random) -> tuple[str, str, list[str]]:
    """An English title, its Chinese title, topic slugs: `Name: Method for Task Setting`."""
    task_en, task_zh, topic = rng.choice(TASKS)
    method_en, method_zh = rng.choice(METHODS)
    setting_en, setting_zh = rng.choice(SETTINGS)
    name = rng.choice(NAMES) + rng.choice(["", "-2", "++", " v2", "-Lite", "X"])
    shape = rng.randrange(3)
    if shape == 0:
        return (f"{name}: {method_en} for {task_en} {setting_en}",
                f"{name}：基于{method_zh}的{setting_zh}{task_zh}", [topic])
    if shape == 1:
        return (f"Rethinking {task_en} with {method_en} {setting_en}",
                f"重新审视{task_zh}：{setting_zh}{method_zh}方法", [topic])
    return (f"{method_en} Meet {task_en}: {name} {setting_en}",
            f"当{method_zh}遇上{task_zh}：{setting_zh}{name}", [topic])


def archive(settings, papers_wanted: int, seed: int) -> list[tuple[str, str, str]]:
    """Write the synthetic days into `settings` and return (id, English title, Chinese
    title) of every paper."""
    from tests.conftest import make_day

    rng = random.Random(seed)
    real = load_day(settings, SAMPLE).papers
    shutil.rmtree(settings.day_path(SAMPLE))
    made, days = [], []
    for n in range(papers_wanted):
        day = FIRST_DAY + timedelta(days=n // PER_DAY)
        source = real[n % len(real)]
        paper = dataclasses.replace(source, id=ArxivId(f"{day:%y%m}.{20000 + n:05d}", 1),
                                    abs_url="", pdf_url="", failures=[])
        title, title_zh, topics = bilingual_title(rng)
        paper.title = title
        paper.title_zh = MachineText(title_zh, source="full_text")
        claim = f"提出{title_zh.split('：')[-1]}，在公开数据集上取得更好的结果。"
        paper.summary = MachineText(claim, source="full_text")
        paper.topics = MachineText(", ".join(topics), source="full_text")
        opening = f"本文研究{title_zh}。"
        paper.translation = MachineText(opening + (source.translation.text if source.translation
                                                   else ""), source="full_text")
        paper.abstract = f"We study {title}. " + source.abstract
        made.append((paper.id.base, title, title_zh))
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(paper)
    from digest_cli.posts.write import render_days

    for day, papers in days:
        write_day(settings, make_day(papers, day), Writer())
    render_days(settings, [d for d, _ in days], Writer(), force=True)
    return made


def zh_split(title: str) -> list[str]:
    """The terms of a Chinese title as `bilingual_title` joins them."""
    for joint in ("：", "基于", "当", "遇上"):
        title = title.replace(joint, "的")
    return [p for p in title.split("的") if p.strip()]


def _words(title: str) -> list[str]:
    return title.replace(":", " ").split()


def _naming(windows: list[str], titles: list[str], split) -> list[str]:
    """The windows that name at most TOP papers: no more than TOP titles hold all their
    words. A query five other titles share cannot put its paper in the first three except
    by luck, and a reader looking for one paper types what sets it apart."""
    lowered = [set(w.lower() for w in split(t)) for t in titles]
    return [w for w in windows
            if sum(all(x.lower() in t for x in split(w)) for t in lowered) <= TOP]


def queries(made: list[tuple[str, str, str]], seed: int) -> list[tuple[str, str, str]]:
    """(kind, query, wanted id) for every paper: its id; two to four neighbouring words of
    its English title that name it; two neighbouring terms of its Chinese title that name
    it (any such window, chosen at random)."""
    rng = random.Random(seed + 1)
    titles = [t for _, t, _ in made]
    zh_titles = [" ".join(zh_split(t)) for _, _, t in made]
    out = []
    for pid, title, title_zh in made:
        out.append(("id", pid if rng.random() < 0.5 else f"arXiv:{pid}v1", pid))
        words = _words(title)
        naming = []
        for n in (3, 2, 4):  # three words if three name it, else two, else four
            windows = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
            naming = naming or _naming(windows, titles, _words)
        out.append(("title", rng.choice(naming or [" ".join(words)]), pid))
        parts = zh_split(title_zh)
        windows = [" ".join(parts[i:i + 2]) for i in range(len(parts) - 1)] or parts
        naming = _naming(windows, zh_titles, str.split) or [" ".join(parts)]
        out.append(("zh", rng.choice(naming), pid))
    return out


RUN = """(async (items, prepared) => {
  const pf = await import(BUNDLE + 'pagefind.js');
  if (RANKING) { await pf.options({ ranking: RANKING }); }
  const out = [];
  for (const q of items) {
    const s = await pf.search(prepared ? window.digestSearchQuery(q) : q);
    const top = await Promise.all(s.results.slice(0, TOP).map(r => r.data()));
    out.push(top.map(d => d.meta.id));
  }
  return out;
})(ITEMS, PREPARED)"""


def measure(url: str, base: str, items: list[tuple[str, str, str]],
            ranking: str | None = None) -> dict[str, dict]:
    from tests.site_kit import CHROMIUM, chromium

    if CHROMIUM is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    results: dict[str, dict] = {}
    with chromium(CHROMIUM) as browser:
        browser.goto(url + "/search/")
        browser.wait_for("document.documentElement.getAttribute('data-search-ready') === '1'", 60)
        for prepared in (True, False):
            found = []
            for at in range(0, len(items), 100):
                chunk = items[at:at + 100]
                script = (RUN.replace("BUNDLE", json.dumps(base + "/pagefind/"))
                          .replace("TOP", str(TOP)).replace("RANKING", ranking or "null")
                          .replace("ITEMS", json.dumps([q for _, q, _ in chunk],
                                                       ensure_ascii=False))
                          .replace("PREPARED", "true" if prepared else "false"))
                found += browser.evaluate(script)
            per_kind: dict[str, list[int]] = {}
            misses = []
            for (kind, query, wanted), top in zip(items, found, strict=True):
                hit = wanted in top
                per_kind.setdefault(kind, []).append(hit)
                if not hit and prepared:
                    misses.append((kind, query, wanted, top))
            results["pre-step" if prepared else "as typed"] = {
                "kinds": {k: (sum(v), len(v)) for k, v in per_kind.items()}, "misses": misses}
    return results


_CJK_RUN = re.compile("[\u4e00-\u9fff]{3,}")


def real_queries(settings, seed: int, per_paper: int = 5) -> list[tuple[str, str, str]]:
    """Phrases of the shipped day's real Chinese texts (translation and 详细解读): for each
    paper, up to `per_paper` runs of 3-6 Chinese characters that occur in no other
    paper's text of the day, chosen at random."""
    rng = random.Random(seed + 2)
    texts = {p.id.base: "\n".join(t.text for t in (p.translation, p.analysis) if t)
             for p in load_day(settings, SAMPLE).papers}
    out = []
    for pid, text in texts.items():
        phrases = {run[i:i + n] for run in _CJK_RUN.findall(text) for n in (3, 4, 5, 6)
                   for i in range(len(run) - n + 1)}
        own = sorted(w for w in phrases if sum(w in t for t in texts.values()) == 1)
        out += [("zh-text", w, pid) for w in rng.sample(own, min(per_paper, len(own)))]
    return out


def served(root: Path, settings, items, ranking: str | None, label: str) -> dict[str, dict]:
    """Build the site of `root`, serve it, run `items`; print the build and index size."""
    started = time.monotonic()
    report = build_site(settings, root / "_site", "/repo")
    print(f"{label}: {report.days} days; built in {time.monotonic() - started:.1f} s")
    index = report.out / "pagefind"
    sizes = {part: sum(p.stat().st_size for p in (index / part).rglob("*") if p.is_file())
             for part in ("index", "fragment", "filter")}
    print("  search index: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sizes.items())
          + " (fetched in pieces as a reader searches)")
    server = make_server(report.out, "/repo")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return measure(f"http://127.0.0.1:{server.server_address[1]}/repo", "/repo", items,
                       ranking)
    finally:
        server.shutdown()
        server.server_close()


def report_lines(results: dict[str, dict]) -> None:
    for name, result in results.items():
        kinds = result["kinds"]
        hits = sum(h for h, _ in kinds.values())
        total = sum(n for _, n in kinds.values())
        parts = ", ".join(f"{k} {h / n:.1%} ({h}/{n})" for k, (h, n) in kinds.items())
        print(f"  {name:9}: wanted paper in the first {TOP}: {hits / total:.1%} of {total} "
              f"queries ({parts})")
    for kind, query, wanted, top in results["pre-step"]["misses"][:10]:
        print(f"    miss [{kind}] {query!r}: wanted {wanted}, got {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--ranking", metavar="JSON", help="Pagefind ranking options to try "
                        "instead of the search page's, e.g. '{\"pageLength\": 0.2}'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        root = Path(tmp)
        settings = site_root(root)
        items = real_queries(settings, args.seed)
        from digest_cli.posts.write import render_days

        render_days(settings, [SAMPLE], Writer(), force=True)
        report_lines(served(root, settings, items, args.ranking,
                            "the shipped day as it is (20 real papers)"))
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        root = Path(tmp)
        settings = site_root(root)
        made = archive(settings, args.papers, args.seed)
        report_lines(served(root, settings, queries(made, args.seed), args.ranking,
                            f"synthetic archive of {len(made)} papers"))


if __name__ == "__main__":
    main()
