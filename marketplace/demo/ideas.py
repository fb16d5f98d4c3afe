"""Ideas for demo results: a title pair, the disease, keywords and the need and evidence sentences,
drawn from the vocabulary (data/vocabulary.yaml). Every draw goes through the caller's random.Random,
in a fixed order: the same seed gives the same catalogue."""

from __future__ import annotations

import random
from typing import NamedTuple

from marketplace.catalog.models import ResultType, Stage
from marketplace.demo.words import (
    ADVANTAGES,
    ALGO,
    DATA,
    DATA_TYPES,
    DEV,
    DEV_ISSUES,
    DEV_METRICS,
    DX,
    GIVEN,
    MAT,
    METHODS,
    PATENT_CATEGORY_WEIGHTS,
    PROC,
    PURPOSES,
    SURNAMES,
    TX,
    Disease,
    diseases_fitting,
)


def person(rng: random.Random) -> tuple[str, str]:
    surname, surname_en = rng.choice(SURNAMES)
    given = [rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))]
    zh = surname + "".join(g for g, _ in given)
    en = f"{surname_en} {''.join(p for _, p in given).capitalize()}"
    return zh, en


class Idea(NamedTuple):
    """One result before the common fields: titles, category, disease and evidence text."""

    title_zh: str
    title_en: str
    category: str  # dx | tx | dev | algo | mat | proc | data
    disease: Disease
    extra_area: str | None
    keywords: list[str]
    need: tuple[str, str]
    evidence: tuple[str, str]


def pct(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 1)


def _cap(text: str) -> str:
    """Capitalise an English title unless its first word is an acronym or a gene name (iPSC, sFlt-1)."""
    return text if len(text) < 2 or text[1].isupper() else text[0].upper() + text[1:]


EARLY = (Stage.discovery, Stage.preclinical)


def _dx_idea(rng: random.Random, result_type: str, stage: str) -> Idea:
    h, h_en, fit, methods, purposes, extra = rng.choice(DX)
    d = rng.choice(diseases_fitting(fit))
    m, m_en = METHODS[rng.choice(methods)]
    p, p_en = PURPOSES[rng.choice(purposes)]
    if result_type == ResultType.ivd_reagent:
        if rng.random() < 0.6:
            title = f"用于{d.zh}{p}的{h}检测试剂盒（{m}）"
        else:
            title = f"基于{h}的{d.zh}{p}检测试剂盒（{m}）"
        title_en = f"{h_en} assay kit for {p_en} of {d.en} ({m_en})"
    elif rng.random() < 0.5:
        title = f"一种基于{h}的{d.zh}{p}方法"
        title_en = f"Method for {p_en} of {d.en} based on {h_en}"
    else:
        title = f"用于{d.zh}{p}的{h}标志物组合及其应用"
        title_en = f"{h_en} marker combination for {p_en} of {d.en} and use thereof"
    auc = round(rng.uniform(0.82, 0.96), 2)
    sens, spec = pct(rng, 78, 95), pct(rng, 82, 97)
    need = (
        f"现有检测手段对{d.zh}的早期识别能力有限，常需有创取样或反复复查。",
        f"Current tests identify {d.en} late and often need invasive sampling or repeat visits.",
    )
    if stage in EARLY:
        n = rng.randrange(80, 400, 2)
        evidence = (
            f"在{n}例回顾性样本的探索性分析中，AUC为{auc}，灵敏度{sens}%，特异度{spec}%。",
            f"In an exploratory analysis of {n} retrospective samples the AUC was {auc}, "
            f"with {sens}% sensitivity and {spec}% specificity.",
        )
    else:
        n = rng.randrange(600, 6000, 10)
        evidence = (
            f"在{n}例多中心样本中，AUC为{auc}，灵敏度{sens}%，特异度{spec}%，优于现行常规检测。",
            f"In {n} multi-centre samples the AUC was {auc}, with {sens}% sensitivity and {spec}% specificity, "
            "better than current routine tests.",
        )
    return Idea(title, _cap(title_en), "dx", d, extra, [d.zh, h, m.removesuffix("法"), p], need, evidence)


def _tx_idea(rng: random.Random, result_type: str, stage: str) -> Idea:
    h, h_en, fit, extra = rng.choice(TX)
    d = rng.choice(diseases_fitting(fit))
    if result_type == ResultType.drug_candidate:
        code = f"{rng.choice('ABCDEFGHJKLMNPRSTWXYZ')}{rng.choice('ABCDEFGHJKLMNPRSTWXYZ')}-{rng.randint(101, 9899)}"
        if rng.random() < 0.5:
            title, title_en = f"用于{d.zh}的{h}", f"{h_en} for {d.en}"
        else:
            title, title_en = f"{h}{code}治疗{d.zh}", f"{h_en} {code} for {d.en}"
    elif rng.random() < 0.5:
        title = f"{h}在制备治疗{d.zh}药物中的应用"
        title_en = f"Use of {h_en} in the manufacture of a medicament for treating {d.en}"
    else:
        title = f"一种治疗{d.zh}的{h}及其制备方法"
        title_en = f"{h_en} for treating {d.en} and preparation method thereof"
    need = (
        f"{d.zh}现有治疗应答率有限，部分患者出现耐药或不耐受。",
        f"Current therapies for {d.en} have limited response rates; some patients become resistant or intolerant.",
    )
    if stage in EARLY:
        x = rng.randint(35, 80)
        evidence = (
            f"在动物模型中，主要疗效指标较对照组改善{x}%，未见明显毒性。",
            f"In animal models the primary efficacy measure improved by {x}% versus control without notable toxicity.",
        )
    else:
        n, x = rng.randint(24, 320), rng.randint(20, 60)
        evidence = (
            f"已入组{n}例受试者，初步数据显示安全性良好，主要疗效指标较基线改善{x}%。",
            f"{n} participants are enrolled; early data show good safety and a {x}% improvement from baseline.",
        )
    return Idea(title, _cap(title_en), "tx", d, extra, [d.zh, h], need, evidence)


def _dev_idea(rng: random.Random, result_type: str, stage: str) -> Idea:
    h, h_en, fit, mods, extra = rng.choice(DEV)
    d = rng.choice(diseases_fitting(fit))
    m, m_en = rng.choice(mods)
    if result_type == ResultType.device:
        if rng.random() < 0.5:
            title, title_en = f"{m}{h}", f"{m_en} {h_en}"
        else:
            title, title_en = f"用于{d.zh}的{m}{h}", f"{m_en} {h_en} for {d.en}"
    elif rng.random() < 0.5:
        title, title_en = f"一种{m}{h}及其制备方法", f"{m_en} {h_en} and manufacturing method thereof"
    else:
        title, title_en = f"一种用于{d.zh}的{m}{h}结构", f"{m_en} {h_en} structure for {d.en}"
    issue, issue_en = rng.choice(DEV_ISSUES)
    metric, metric_en = rng.choice(DEV_METRICS)
    x = rng.randint(15, 55)
    need = (f"现有同类产品用于{d.zh}时存在{issue}等问题。", f"Existing products for {d.en} suffer from {issue_en}.")
    if stage in EARLY:
        evidence = (
            f"台架测试与动物实验显示，关键性能指标较对照产品提升{x}%。",
            f"Bench and animal tests show key performance {x}% better than the reference product.",
        )
    else:
        evidence = (
            f"临床数据显示，与对照产品相比，{metric}降低{x}%。",
            f"Clinical data show {x}% less {metric_en} than with the reference product.",
        )
    return Idea(title, _cap(title_en), "dev", d, extra, [d.zh, h, m], need, evidence)


def _algo_idea(rng: random.Random, result_type: str, stage: str) -> Idea:
    tpl, tpl_en, tech, tech_en, task, task_en, fit, extra = rng.choice(ALGO)
    d = rng.choice(diseases_fitting(fit))
    if result_type == ResultType.software:
        title, title_en = tpl.format(d=d.zh), tpl_en.format(D=d.en)
    else:
        title = f"一种基于{tech}的{d.zh}{task}方法、装置及存储介质"
        title_en = f"{task_en} method, device and storage medium for {d.en} based on {tech_en}"
    auc, sec = round(rng.uniform(0.85, 0.97), 2), rng.choice((3, 5, 10, 30))
    need = (
        f"{d.zh}的{task}依赖医生经验，不同医院之间同质化程度低。",
        f"{_cap(task_en)} in {d.en} relies on clinician experience and varies between hospitals.",
    )
    if stage in EARLY:
        n = rng.randrange(300, 3000, 10)
        evidence = (
            f"在单中心{n}例回顾性数据上完成初步验证，AUC {auc}。",
            f"A first validation on {n} single-centre retrospective cases gave an AUC of {auc}.",
        )
    else:
        n = rng.randrange(3000, 60000, 100)
        evidence = (
            f"基于{n}例多中心数据训练并完成外部验证，AUC {auc}，单例分析时间少于{sec}秒。",
            f"Trained and externally validated on {n} multi-centre cases (AUC {auc}); a case takes under {sec} s.",
        )
    return Idea(title, _cap(title_en), "algo", d, extra, [d.zh, tech, task], need, evidence)


def _mat_idea(rng: random.Random, result_type: str, stage: str) -> Idea:
    h, h_en, fit = rng.choice(MAT)
    d = rng.choice(diseases_fitting(fit))
    if result_type == ResultType.biomaterial:
        if rng.random() < 0.5:
            title, title_en = f"用于{d.zh}的{h}", f"{h_en} for {d.en}"
        else:
            title, title_en = f"面向{d.zh}治疗的{h}", f"{h_en} designed for {d.en} therapy"
    else:
        title = f"一种{h}及其制备方法和在{d.zh}中的应用"
        title_en = f"{h_en}, preparation method thereof and use in {d.en}"
    x = rng.randint(25, 90)
    need = (
        f"传统材料用于{d.zh}时存在降解不可控、生物相容性不足等局限。",
        f"Conventional materials used in {d.en} degrade unpredictably or integrate poorly.",
    )
    if stage in EARLY:
        evidence = (
            f"动物实验显示，组织修复效果较传统材料提高{x}%。",
            f"Animal studies show {x}% better tissue repair than conventional materials.",
        )
    else:
        evidence = (
            f"早期临床数据显示，愈合时间较传统材料缩短{min(x, 50)}%。",
            f"Early clinical data show healing {min(x, 50)}% faster than with conventional materials.",
        )
    return Idea(title, _cap(title_en), "mat", d, None, [d.zh, h], need, evidence)


def _proc_idea(rng: random.Random) -> Idea:
    tpl, tpl_en, fit, extra = rng.choice(PROC)
    d = rng.choice(diseases_fitting(fit))
    n, x = rng.randrange(80, 3000, 10), rng.randint(15, 50)
    need = (
        "该技术已在本院形成标准化流程，可显著缩短学习曲线。",
        "The technique is standardised at the hospital and shortens the learning curve.",
    )
    evidence = (
        f"已累计应用{n}例，并发症发生率较传统方案降低{x}%。",
        f"It has been used in {n} cases with {x}% fewer complications than the conventional approach.",
    )
    return Idea(tpl.format(d=d.zh), tpl_en.format(D=d.en), "proc", d, extra, [d.zh, tpl.format(d="").strip()], need, evidence)


def _data_idea(rng: random.Random) -> Idea:
    tpl, tpl_en, fit, extra = rng.choice(DATA)
    d = rng.choice(diseases_fitting(fit))
    n, fu = int(10 ** rng.uniform(2.7, 4.5)) // 10 * 10, rng.randint(2, 12)
    types = rng.sample(DATA_TYPES, 3)
    need = (
        "数据经过标准化清洗和质控，可支持新药研发、真实世界研究与算法训练。",
        "The data are cleaned and quality-controlled for drug development, real-world studies and algorithm training.",
    )
    evidence = (
        f"涵盖{n}例患者，中位随访{fu}年，包含{'、'.join(t for t, _ in types)}等数据。",
        f"It covers {n} patients with a median follow-up of {fu} years, including {', '.join(t for _, t in types)}.",
    )
    return Idea(tpl.format(d=d.zh), tpl_en.format(D=d.en), "data", d, extra, [d.zh, types[0][0], "真实世界研究"], need, evidence)


def make_idea(rng: random.Random, result_type: str, stage: str) -> Idea:
    if result_type == ResultType.patent:
        category = rng.choices(list(PATENT_CATEGORY_WEIGHTS), list(PATENT_CATEGORY_WEIGHTS.values()))[0]
    else:
        category = {
            ResultType.ivd_reagent: "dx",
            ResultType.drug_candidate: "tx",
            ResultType.device: "dev",
            ResultType.software: "algo",
            ResultType.biomaterial: "mat",
            ResultType.know_how: "proc",
            ResultType.clinical_data: "data",
        }[ResultType(result_type)]
    if category == "dx":
        return _dx_idea(rng, result_type, stage)
    if category == "tx":
        return _tx_idea(rng, result_type, stage)
    if category == "dev":
        return _dev_idea(rng, result_type, stage)
    if category == "algo":
        return _algo_idea(rng, result_type, stage)
    if category == "mat":
        return _mat_idea(rng, result_type, stage)
    if category == "proc":
        return _proc_idea(rng)
    return _data_idea(rng)


def make_advantages(rng: random.Random, category: str) -> tuple[str, str]:
    zh, en = [], []
    for i, (z, e) in enumerate(rng.sample(ADVANTAGES[category], rng.randint(2, 3)), 1):
        values = {
            "s": rng.choice((1, 2, 4, 5)),
            "a": rng.randint(2, 7),
            "b": rng.randint(2, 24),
            "p": rng.randint(20, 60),
            "q": rng.randint(85, 97),
        }
        zh.append(f"{i}. {z.format(**values)}")
        en.append(f"({i}) {e.format(**values)}.")
    return "；".join(zh) + "。", " ".join(en)
