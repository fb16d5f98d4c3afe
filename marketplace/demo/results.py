"""The demo's results (research outcomes): one builder holding the random generator and what must
stay unique across the whole demo (titles, IP numbers, internal numbers)."""

from __future__ import annotations

import random

import msgspec

from marketplace.catalog.models import LicenceOption, OwnershipModel, ResultType, Stage
from marketplace.catalog.schemas import ListingCreate
from marketplace.demo.assets import (
    INSTITUTION_META,
    IpFactory,
    first_areas,
    inventors,
    licence_offers,
    make_contact,
    pick_institution,
    status_and_dates,
    unique_keywords,
)
from marketplace.demo.ideas import Idea, make_advantages, make_idea, pct
from marketplace.demo.listing import DemoListing
from marketplace.demo.words import ENGLISH_SHARE, SEEKING, STAGE_TEXT, STAGE_TRL, STAGE_WEIGHTS, TYPE_KEYWORD


class ResultBuilder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.titles: set[str] = set()
        self.ip = IpFactory(self.rng)
        self.internal_number = 1000
        self.ward_beds_left = [inst.research_beds for inst in INSTITUTION_META]
        self.ethics_used: set[int] = set()
        # Every GCP-certified institution gets one trial site first; the rest go by weight.
        self.site_queue = [i for i, inst in enumerate(INSTITUTION_META) if inst.gcp]
        self.rng.shuffle(self.site_queue)

    def next_internal(self) -> int:
        self.internal_number += self.rng.randint(1, 7)
        return self.internal_number

    def claim_title(self, title: str, title_en: str) -> bool:
        """Both titles unique across the demo (two Chinese wordings may share one English title)."""
        if title in self.titles or title_en in self.titles:
            return False
        self.titles.update((title, title_en))
        return True

    # -- results --

    def result(self, result_type: str) -> DemoListing:
        rng = self.rng
        stages = STAGE_WEIGHTS[result_type]
        stage = rng.choices(list(stages), list(stages.values()))[0]
        for _ in range(500):
            idea = make_idea(rng, result_type, stage)
            if self.claim_title(idea.title_zh, idea.title_en):
                break
        else:  # pragma: no cover - the vocabulary is far larger than the demo
            raise RuntimeError(f"ran out of distinct titles for {result_type}")
        areas = first_areas(idea.disease.areas[: rng.choice((1, 2, 2))], [idea.extra_area])
        index = pick_institution(rng, areas)
        inst = INSTITUTION_META[index]
        status, published, confirmed = status_and_dates(rng)
        lo, hi = STAGE_TRL[stage]
        ownership = rng.choices(list(OwnershipModel), (55, 15, 15, 15))[0]
        offers = licence_offers(rng, result_type, stage)
        group = {"tx": "drug", "proc": "proc", "data": "data"}.get(idea.category, "other")
        if stage not in STAGE_TEXT[group]:
            group = "other"
        english = rng.random() < ENGLISH_SHARE

        sentences = [idea.need, idea.evidence]
        if rng.random() < 0.8:
            sentences.append(STAGE_TEXT[group][stage])
        seeking = SEEKING[result_type]
        if any(o["option"] == LicenceOption.pay_later for o in offers):
            seeking = (
                seeking[0].removesuffix("。") + "，支持先使用后付费。",
                seeking[1].removesuffix(".") + "; pay-later licensing is available.",
            )
        sentences.append(seeking)
        if ownership in (OwnershipModel.researchers_ownership, OwnershipModel.researchers_use_right) and len(sentences) < 4:
            sentences.insert(
                0,
                (
                    "本成果已按职务科技成果赋权改革，由发明人团队"
                    + ("享有所有权" if ownership == OwnershipModel.researchers_ownership else "享有长期使用权")
                    + "。",
                    "Under the service-invention reform, the inventor team holds "
                    + ("ownership." if ownership == OwnershipModel.researchers_ownership else "a long-term use right."),
                ),
            )

        has_advantages = status != "draft" or rng.random() < 0.5
        advantages = make_advantages(rng, idea.category) if has_advantages else None
        keywords = unique_keywords(
            [*idea.keywords, TYPE_KEYWORD[result_type]], rng, [idea.disease.en if english else "", "成果转化", "产学研合作"]
        )
        data = {
            "kind": "result",
            "type": result_type,
            "title_zh": idea.title_zh,
            "summary_zh": "".join(zh for zh, _ in sentences),
            "therapeutic_areas": areas,
            "keywords": keywords,
            "stage": stage,
            "trl": rng.randint(lo, hi),
            "ownership_model": ownership,
            "licence_options": offers,
            "ip_assets": self.ip.family(result_type, idea.category),
            "inventors": inventors(rng, index),
            **make_contact(rng, inst, "成果转化办公室", "tto"),
        }
        if advantages:
            data["advantages"] = f"{advantages[0]}\n{advantages[1]}" if english else advantages[0]
        if english:
            data["title_en"] = idea.title_en
            data["summary_en"] = " ".join(en for _, en in sentences)
        if rng.random() < 0.85:
            data["confidential_details"] = self.result_secret(idea, result_type, stage)
        return DemoListing(index, msgspec.convert(data, ListingCreate), status, published, confirmed)

    def result_secret(self, idea: Idea, result_type: str, stage: str) -> str:
        rng = self.rng
        parts = [f"内部编号 MKT-{self.next_internal():04d}。"]
        category = idea.category
        if category == "dx":
            parts.append(
                f"未公开数据：前瞻性验证队列（n={rng.randint(200, 1500)}）阳性预测值{pct(rng, 70, 92)}%，"
                f"阴性预测值{pct(rng, 93, 99.5)}%。"
            )
            parts.append(
                f"关键工艺参数：探针终浓度{rng.choice((100, 200, 250, 400))} nM，退火温度{rng.randint(56, 64)}℃，"
                f"标志物权重系数见附表{rng.randint(2, 6)}。"
            )
        elif category == "tx":
            parts.append(
                f"未公开数据：大鼠药代动力学半衰期{pct(rng, 2, 30)} h，最大耐受剂量{rng.choice((30, 50, 100, 200, 300))} mg/kg。"
            )
            parts.append(
                f"关键工艺参数：合成路线第{rng.randint(3, 9)}步收率{rng.randint(55, 92)}%，"
                f"关键中间体纯度≥{rng.choice((98.5, 99.0, 99.5))}%。"
            )
        elif category == "dev":
            parts.append(
                f"未公开数据：{rng.randint(12, 60)}例大动物植入{rng.choice((3, 6, 12))}个月，"
                f"器械相关不良事件{rng.randint(0, 3)}例。"
            )
            parts.append(
                f"关键工艺参数：激光切割功率{rng.randint(20, 80)} W，热处理{rng.randint(400, 900)}℃保温"
                f"{rng.randint(10, 60)} min。"
            )
        elif category == "algo":
            parts.append(
                f"未公开数据：外部验证集{rng.randint(3, 9)}家医院明细及亚组结果；模型结构与超参数见技术附件{rng.randint(1, 4)}。"
            )
        elif category == "mat":
            parts.append(f"未公开数据：体外降解{rng.randint(4, 24)}周质量保留率{rng.randint(20, 80)}%。")
            parts.append(f"关键工艺参数：交联剂比例{pct(rng, 0.5, 5)}%，冻干温度-{rng.randint(40, 80)}℃。")
        elif category == "proc":
            parts.append(
                f"未公开数据：近三年并发症明细与{rng.randint(3, 8)}项关键操作要点，见院内操作手册第{rng.randint(2, 9)}版。"
            )
        else:
            parts.append(
                f"未公开数据：数据字典{rng.randint(300, 2000)}个字段及脱敏规则，另有{rng.randint(200, 5000)}例待入库病例。"
            )
        if result_type == ResultType.patent and stage in (Stage.discovery, Stage.preclinical) and rng.random() < 0.5:
            parts.append(f"权利要求草案：独立权利要求{rng.randint(1, 3)}项、从属权利要求{rng.randint(5, 15)}项，待提交。")
        return "".join(parts)
