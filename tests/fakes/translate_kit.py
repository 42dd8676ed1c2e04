"""Pieces for testing and benchmarking `digest translate` against the fakes.

* ``write_day(root, n)``: a site with ``n`` untranslated records for ``DAY``.
* ``settings_for(root, llm, pdfs, **env)``: Settings pointing at the fake servers
  (translation model ``TRANSLATE_MODEL``, 详细解读 model ``ANALYSIS_MODEL``).
* Responders that answer well: ``good_translation`` (Chinese, keeps the abstract's
  numbers and formulas), ``good_analysis`` (the 详细解读 layout), and ``by_model`` to
  send each model to its own responder (and brief prompts to a well-formed brief).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

DAY = date(2026, 1, 28)
TRANSLATE_MODEL = "fake-translate"
ANALYSIS_MODEL = "fake-analysis"

Responder = Callable[[dict[str, Any]], str]


def paper_id(i: int) -> str:
    return f"2601.{19000 + i:05d}"


def abstract_for(i: int) -> str:
    return (f"We propose method number {i} for robust speech recognition with self-supervised "
            f"features. It lowers the word error rate by 27.84% relative and reaches an EER of "
            f"1.{i % 10}5% on VoxCeleb, with a loss $\\mathcal{{L}}_{{ctc}}$ over 12 layers.")


def write_day(root: Path, n: int, *, abstract: Callable[[int], str] = abstract_for) -> list[str]:
    """Write ``n`` untranslated records and the manifest of ``DAY`` under ``root``."""
    from digest_cli.records.model import ArxivId, Day, Manifest, Paper
    from digest_cli.records.store import write_day as store_write_day
    from digest_cli.records.writer import Writer
    from digest_cli.settings import load_settings

    ids = [paper_id(i) for i in range(n)]
    papers = [Paper(id=ArxivId(pid, 1), title=f"Paper {i}: speech title {pid}",
                    authors=["Jane Doe", "John Roe"], categories=["eess.AS", "cs.SD"],
                    abs_url=f"https://arxiv.org/abs/{pid}v1",
                    pdf_url=f"https://arxiv.org/pdf/{pid}v1", abstract=abstract(i),
                    published=datetime(2026, 1, 27, 12, tzinfo=timezone.utc))
              for i, pid in enumerate(ids)]
    manifest = Manifest(date=DAY, window_start=datetime(2026, 1, 27, 0, 50, tzinfo=timezone.utc),
                        window_end=datetime(2026, 1, 28, 0, 50, tzinfo=timezone.utc),
                        fetched=n, papers=ids)
    store_write_day(load_settings(root, environ={}), Day(manifest, papers), Writer())
    return ids


def env_for(llm, pdfs=None, **extra: Any) -> dict[str, str]:
    """DIGEST_* variables pointing the real code at the fakes."""
    env = {"DIGEST_LLM_API_KEY": llm.api_key or "sk-unused", "DIGEST_LLM_BASE_URL": llm.base_url,
           "DIGEST_LLM_MODEL": TRANSLATE_MODEL, "DIGEST_LLM_ANALYSIS_MODEL": ANALYSIS_MODEL,
           "DIGEST_LLM_BACKOFF": "0.01", "DIGEST_LLM_TIMEOUT": "5",
           "DIGEST_PDF_URL_TEMPLATE": pdfs.template if pdfs is not None
           else "http://127.0.0.1:9/pdf/{id}v{version}", "DIGEST_PDF_TIMEOUT": "2"}
    env.update({f"DIGEST_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def settings_for(root: Path, llm, pdfs=None, **extra: Any):
    from digest_cli.settings import load_settings

    return load_settings(root, environ=env_for(llm, pdfs, **extra))


# -- responders ---------------------------------------------------------------------------

def user_text(req: dict[str, Any]) -> str:
    """The first user message (the paper), whatever repairs followed."""
    users = [m["content"] for m in req.get("messages", []) if m.get("role") == "user"]
    return users[0] if users else ""


def title_of(req: dict[str, Any]) -> str:
    match = re.search(r"标题：(.*)", user_text(req))
    return match.group(1).strip() if match else ""


def is_repair(req: dict[str, Any]) -> bool:
    return any(m.get("role") == "assistant" for m in req.get("messages", []))


def good_translation(req: dict[str, Any]) -> str:
    """A Chinese translation keeping the abstract's decimals, percentages and formulas, a
    sentence for each of its sentences."""
    from tests.fakes.llm_server import sentence_by_sentence

    match = re.search(r"摘要：\n(.*?)\n</paper>", user_text(req), re.DOTALL)
    abstract = match.group(1) if match else ""
    kept = re.findall(r"\d+\.\d+%?|\d+%|\$[^$]+\$", abstract)
    return sentence_by_sentence(
        "本文针对语音识别中的鲁棒性问题提出了一种基于自监督特征的新方法，并在多个公开数据集上"
        "进行了系统的实验与分析，结果表明该方法显著优于现有基线，关键数值为"
        + "、".join(kept) + "。", req)


def good_analysis(req: dict[str, Any]) -> str:
    """A 详细解读 in the seed's layout, naming the paper's title."""
    title = title_of(req)
    return ("1)  \n- **研究背景**：语音识别在噪声环境下性能下降。  \n- **既有方法的问题**：\n"
            "  - 依赖大量标注数据。\n  - 泛化能力有限。\n\n"
            f"2)  \n- **核心方法**：{title} 提出利用自监督特征的新框架。\n"
            "  - **关键设计**：多层特征加权融合，损失为 $L_{ctc}$。\n\n"
            "3)  \n- **任务**：语音识别与说话人验证。\n- **效果**：词错误率相对降低 27.84%。")


def by_model(translation: Responder = good_translation,
             analysis: Responder = good_analysis, brief: Responder | None = None) -> Responder:
    """Send each request to the responder of its model; brief prompts (on the translation
    model) to ``brief`` (default: the fake's well-formed brief)."""
    from tests.fakes.llm_server import brief_responder, is_brief_request

    def respond(req: dict[str, Any]) -> str:
        if is_brief_request(req):
            return (brief or brief_responder)(req)
        return (analysis if req.get("model") == ANALYSIS_MODEL else translation)(req)
    return respond
