"""The demo's clinical resources (wards, trial sites, teams, biobanks, cohorts, equipment, ethics and
data services), built on the results' builder so both share one random generator and one title set."""

from __future__ import annotations

import msgspec

from marketplace.catalog.models import Availability, EngagementMode, PricingModel, ResourceType
from marketplace.catalog.schemas import ListingCreate
from marketplace.demo.assets import (
    INSTITUTION_META,
    first_areas,
    institution_weights,
    make_contact,
    pick_institution,
    status_and_dates,
)
from marketplace.demo.ideas import pct, person
from marketplace.demo.listing import DemoListing
from marketplace.demo.results import ResultBuilder
from marketplace.demo.words import (
    DATA_TYPES,
    DISEASES,
    ENGLISH_SHARE,
    EQUIPMENT,
    SAMPLE_TYPES,
    SPECIALTIES,
    WARD_FEATURES,
)


class Builder(ResultBuilder):
    # -- resources --

    def resource(self, resource_type: str) -> DemoListing:
        rng = self.rng
        make = getattr(self, f"_{resource_type}")
        for _ in range(500):
            built = make()
            if built is not None and self.claim_title(built["title_zh"], built["_en"][0]):
                break
        else:  # pragma: no cover
            raise RuntimeError(f"ran out of distinct titles for {resource_type}")
        index = built.pop("_index")
        inst = INSTITUTION_META[index]
        english_en = built.pop("_en")
        contact = make_contact(rng, inst, built.pop("_office", "临床研究管理办公室"), built.pop("_mailbox", "gcp"))
        status, published, confirmed = status_and_dates(rng)
        availability = rng.choices(list(Availability), (75, 18, 7))[0]
        data = {"kind": "resource", "type": resource_type, **built, "availability": availability, **contact}
        if rng.random() < ENGLISH_SHARE:
            data["title_en"], data["summary_en"] = english_en
        if rng.random() < 0.45:
            data["confidential_details"] = self.resource_secret(resource_type)
        return DemoListing(index, msgspec.convert(data, ListingCreate), status, published, confirmed)

    def resource_secret(self, resource_type: str) -> str:
        rng = self.rng
        head = f"内部编号 MKT-R{self.next_internal():04d}。"
        if resource_type in (ResourceType.biobank,):
            price = f"内部报价：每份样本{rng.choice((80, 120, 200, 350))}元起，联合研究可减免。"
            data = f"未公开数据：近两年样本出库{rng.randint(2000, 40000)}份，复核合格率{pct(rng, 95, 99.8)}%。"
        elif resource_type in (ResourceType.disease_cohort, ResourceType.data_service):
            price = f"内部报价：单项目数据服务费{rng.randint(5, 60)}万元起。"
            data = f"未公开数据：字段缺失率{pct(rng, 2, 18)}%，失访率{pct(rng, 3, 15)}%。"
        elif resource_type == ResourceType.equipment:
            price = f"内部报价：包时段合作价{rng.choice((200, 400, 600, 900))}元/小时。"
            data = f"未公开数据：近12个月机时利用率{rng.randint(40, 95)}%。"
        elif resource_type == ResourceType.ethics_service:
            price = f"内部报价：初始审查费{rng.choice((3000, 5000, 8000))}元/项，快速审查减半。"
            data = f"未公开数据：近12个月初审一次通过率{rng.randint(35, 80)}%。"
        else:
            price = f"内部报价：每例受试者管理费{rng.randint(2, 12)}千元起，长期合作可下浮{rng.randint(5, 20)}%。"
            data = f"未公开数据：近12个月筛选失败率{rng.randint(10, 45)}%，平均启动周期{rng.randint(6, 14)}周。"
        return head + price + data

    def _specialty_for(self, index: int, exclude: tuple[str, ...] = ()) -> tuple[str, str, tuple[str, ...]]:
        focus = INSTITUTION_META[index].focus
        allowed = [s for s in SPECIALTIES if s[0] not in exclude]
        options = [s for s in allowed if not focus or any(a in focus for a in s[2])]
        return self.rng.choice(options or allowed)

    def _pick(self, areas: list[str] | None = None, *, gcp: bool = False) -> int:
        return pick_institution(self.rng, areas or [], gcp=gcp)

    def _research_ward(self) -> dict | None:
        rng = self.rng
        index = self._pick(gcp=True)
        left = self.ward_beds_left[index]
        if left < 10:
            return None
        beds = min(left, rng.choice((10, 12, 16, 20, 24, 30, 36, 40, 50, 60)))
        spec, spec_en, areas = self._specialty_for(index)
        inst = INSTITUTION_META[index]
        title = f"{inst.name_zh}研究型病房（{spec}）"
        if title in self.titles:
            return None
        self.ward_beds_left[index] -= beds
        nurses = max(2, beds // 4)
        phases = rng.choice(("I期和II期", "I–III期", "II–IV期"))
        summary = (
            f"病房设研究床位{beds}张，配备{nurses}名专职研究护士、GCP药房和独立样本处理室，24小时医生值守。"
            f"可承接{spec}方向{phases}临床试验及研究者发起的临床研究，立项、伦理、合同并联审查。"
            "研究床位单独管理，不纳入平均住院日等床位效率考核。"
        )
        summary_en = (
            f"The ward has {beds} research beds, {nurses} dedicated research nurses, a GCP pharmacy and its own "
            f"sample-processing room, with doctors on site around the clock. It takes {spec_en} trials and "
            "investigator-initiated studies, with project approval, ethics and contract reviewed in parallel."
        )
        return {
            "_index": index,
            "_en": (f"{inst.name_en}: research ward ({spec_en})", summary_en),
            "title_zh": title,
            "summary_zh": summary,
            "details": {"beds": beds, "specialties": [spec, *rng.sample(WARD_FEATURES, rng.randint(0, 2))]},
            "therapeutic_areas": list(areas),
            "keywords": [spec, "研究型病房", "以床引企", "临床试验"][: rng.randint(3, 4)],
            "engagement_modes": [EngagementMode.clinical_trial, EngagementMode.investigator_initiated],
            "pricing_model": rng.choice((PricingModel.per_patient, PricingModel.per_project, PricingModel.negotiable)),
        }

    def _trial_site(self) -> dict | None:
        rng = self.rng
        index = self.site_queue.pop() if self.site_queue else self._pick(gcp=True)
        inst = INSTITUTION_META[index]
        spec, spec_en, areas = self._specialty_for(index)
        title = f"{inst.name_zh}临床试验机构（{spec}专业）"
        if title in self.titles:
            return None
        phases = sorted(rng.sample(["I", "II", "III", "IV", "BE"], rng.randint(2, 4)), key=["I", "II", "III", "IV", "BE"].index)
        others = [s[0] for s in rng.sample(SPECIALTIES, 3) if s[0] != spec][: rng.randint(0, 2)]
        active = rng.randint(8, 150)
        weeks = rng.randint(6, 12)
        ethics = "认可牵头单位伦理审查结论（伦理互认）" if inst.alliance else f"伦理初审平均{rng.randint(7, 20)}个工作日完成"
        summary = (
            f"机构已完成药物和医疗器械临床试验机构备案，{spec}专业可承接{'、'.join(phases)}期试验，当前在研项目{active}项。"
            f"立项、伦理、合同并联审查，{ethics}。批准后一般{weeks}周内完成首例受试者知情同意。"
        )
        summary_en = (
            f"A registered drug and device trial site; the {spec_en} group runs phase {', '.join(phases)} "
            f"trials and has {active} active studies. Approval, ethics and contract are reviewed in parallel; "
            f"first consent usually follows approval within {weeks} weeks."
        )
        return {
            "_index": index,
            "_en": (f"{inst.name_en}: clinical trial site ({spec_en})", summary_en),
            "title_zh": title,
            "summary_zh": summary,
            "details": {"phases": phases, "gcp_specialties": [spec, *others], "active_trials": active},
            "therapeutic_areas": list(areas),
            "keywords": [spec, "GCP", "临床试验机构", "并联审查"][: rng.randint(3, 4)],
            "engagement_modes": [EngagementMode.clinical_trial, EngagementMode.investigator_initiated, EngagementMode.consulting][
                : rng.randint(2, 3)
            ],
            "pricing_model": rng.choice((PricingModel.per_project, PricingModel.per_patient)),
        }

    def _pi_team(self) -> dict | None:
        rng = self.rng
        index = self._pick(gcp=True)
        inst = INSTITUTION_META[index]
        spec, spec_en, areas = self._specialty_for(index)
        name, name_en = person(rng)
        threshold = inst.threshold
        concurrent = rng.randint(threshold + 1, threshold + 4) if rng.random() < 0.15 else rng.randint(0, threshold)
        completed = rng.randint(4, 90)
        doctors, crcs = rng.randint(3, 15), rng.randint(2, 10)
        summary = (
            f"{name}教授团队隶属{inst.name_zh}，长期从事{spec}临床研究，已作为主要研究者完成{completed}项临床试验。"
            f"团队有研究医生{doctors}名、临床研究协调员{crcs}名，熟悉注册试验全流程。"
            "欢迎企业洽谈临床试验、研究者发起研究与联合开发。"
        )
        summary_en = (
            f"Prof. {name_en}'s team at {inst.name_en} works in {spec_en} and has completed {completed} "
            f"trials as principal investigator. It has {doctors} investigators and {crcs} study coordinators."
        )
        return {
            "_index": index,
            "_en": (f"Prof. {name_en}'s team ({spec_en})", summary_en),
            "title_zh": f"{name}教授团队（{spec}）",
            "summary_zh": summary,
            "details": {"pi_name": name, "specialty": spec, "concurrent_trials": concurrent, "completed_trials": completed},
            "therapeutic_areas": list(areas),
            "keywords": [spec, name, "主要研究者", "临床研究团队"][: rng.randint(3, 4)],
            "engagement_modes": rng.sample(
                [
                    EngagementMode.clinical_trial,
                    EngagementMode.investigator_initiated,
                    EngagementMode.co_development,
                    EngagementMode.consulting,
                ],
                rng.randint(2, 4),
            ),
            "pricing_model": rng.choice((PricingModel.per_project, PricingModel.negotiable)),
        }

    def _biobank(self) -> dict | None:
        rng = self.rng
        index = self._pick()
        inst = INSTITUTION_META[index]
        spec, spec_en, areas = self._specialty_for(index, exclude=("康复医学", "麻醉与围术期医学"))
        title = f"{inst.name_zh}{spec}生物样本库"
        if title in self.titles:
            return None
        types = rng.sample(SAMPLE_TYPES, rng.randint(2, 5))
        count = int(10 ** rng.uniform(3.7, 5.6)) // 100 * 100
        consent = rng.choice(("specific", "broad", "broad", "tiered"))
        consent_zh = {"specific": "采用特定知情同意", "broad": "采用泛知情同意，可用于后续研究", "tiered": "采用分层知情同意"}[
            consent
        ]
        summary = (
            f"样本库保存{'、'.join(t for t, _ in types)}等样本约{count}份，均关联临床信息与随访数据，{consent_zh}。"
            "已取得人类遗传资源保藏相关审批，可按项目提供样本或联合开展研究。"
        )
        summary_en = (
            f"About {count} samples ({', '.join(e for _, e in types)}) linked to clinical and follow-up data, "
            f"under {consent} consent. Samples are offered per project or through joint research."
        )
        return {
            "_index": index,
            "_en": (f"{inst.name_en}: {spec_en} biobank", summary_en),
            "title_zh": title,
            "summary_zh": summary,
            "details": {"sample_types": [t for t, _ in types], "sample_count": count, "consent_scope": consent},
            "therapeutic_areas": list(areas),
            "keywords": [spec, "生物样本库", types[0][0], "人类遗传资源"][: rng.randint(3, 4)],
            "engagement_modes": [EngagementMode.sample_access, EngagementMode.co_development][: rng.randint(1, 2)],
            "pricing_model": rng.choice((PricingModel.per_sample, PricingModel.negotiable)),
        }

    def _cohort(self, trial_ready: bool) -> dict | None:
        rng = self.rng
        disease = rng.choice(list(DISEASES.values()))
        areas = first_areas(disease.areas[: rng.choice((1, 2))])
        index = self._pick(areas)
        inst = INSTITUTION_META[index]
        types = rng.sample(DATA_TYPES, rng.randint(2, 5))
        if trial_ready:
            size, follow_up = int(10 ** rng.uniform(2.2, 3.6)) // 10 * 10, rng.choice((0.5, 1.0, 1.5, 2.0, 3.0))
            title = f"{disease.zh}临床试验预备队列（{inst.name_zh}）"
            title_en = f"Trial-ready cohort: {disease.en} ({inst.name_en})"
            summary = (
                f"已完成{size}名{disease.zh}患者的预筛，并取得其同意被联系参加临床试验，记录了主要入排标准相关指标。"
                "可显著缩短受试者招募时间，支持企业评估入组可行性。"
            )
            summary_en = (
                f"{size} patients with {disease.en} are pre-screened and have agreed to be contacted about "
                "trials; key eligibility measures are on record, which shortens recruitment."
            )
            modes = [EngagementMode.clinical_trial, EngagementMode.investigator_initiated]
            keywords = [disease.zh, "预备队列", "受试者招募"]
        else:
            size, follow_up = int(10 ** rng.uniform(2.7, 4.6)) // 10 * 10, float(rng.randint(1, 15))
            title = f"{inst.name_zh}{disease.zh}专病队列"
            title_en = f"{inst.name_en}: {disease.en} patient cohort"
            summary = (
                f"队列前瞻性纳入{disease.zh}患者{size}例，中位随访{follow_up:g}年，采集"
                f"{'、'.join(t for t, _ in types)}等数据。数据按统一标准结构化，可支持真实世界研究、上市后研究和算法训练。"
            )
            summary_en = (
                f"A prospective cohort of {size} patients with {disease.en}, median follow-up {follow_up:g} years, "
                f"with {', '.join(e for _, e in types)}."
            )
            modes = rng.sample(
                [EngagementMode.data_access, EngagementMode.co_development, EngagementMode.investigator_initiated],
                rng.randint(1, 3),
            )
            keywords = [disease.zh, "专病数据库", "研究队列", "真实世界研究"]
        return {
            "_index": index,
            "_en": (title_en, summary_en),
            "title_zh": title,
            "summary_zh": summary,
            "details": {"disease": disease.zh, "size": size, "follow_up_years": follow_up, "data_types": [t for t, _ in types]},
            "therapeutic_areas": areas,
            "keywords": keywords[: rng.randint(3, len(keywords))],
            "engagement_modes": modes,
            "pricing_model": rng.choice((PricingModel.per_project, PricingModel.annual_fee, PricingModel.negotiable)),
            "_mailbox": "data",
        }

    def _disease_cohort(self) -> dict | None:
        return self._cohort(False)

    def _trial_ready_cohort(self) -> dict | None:
        return self._cohort(True)

    def _equipment(self) -> dict | None:
        rng = self.rng
        eq, eq_en, model, maker, areas = rng.choice(EQUIPMENT)
        index = self._pick(list(areas))
        inst = INSTITUTION_META[index]
        title = f"{inst.name_zh}{eq}（共享开放）"
        if title in self.titles:
            return None
        days, price = rng.randint(2, 10), rng.choice((300, 500, 800, 1200, 2000, 3500))
        terms = (
            f"工作日8:00–20:00按小时预约，需提前{days}个工作日在平台提交申请；首次使用须参加操作培训；"
            f"参考价{price}元/小时（含技术员）。"
        )
        summary = (
            f"平台配备{eq}（{maker} {model}），面向企业和外单位科研人员开放预约。"
            "可由技术员代为操作，也可在培训考核后自主使用，并提供实验设计与数据分析咨询。"
        )
        summary_en = (
            f"A shared {eq_en} ({maker} {model}) open to companies and outside researchers, operated by "
            "staff or by trained users, with study-design and analysis advice."
        )
        return {
            "_index": index,
            "_en": (f"{inst.name_en}: {eq_en} (shared access)", summary_en),
            "title_zh": title,
            "summary_zh": summary,
            "details": {"model": model, "maker": maker, "booking_terms": terms},
            "therapeutic_areas": list(areas)[: rng.randint(1, len(areas))],
            "keywords": [eq, "大型设备共享", "预约使用"],
            "_mailbox": "facility",
            "_office": "科研平台管理办公室",
            "engagement_modes": [EngagementMode.equipment_booking, EngagementMode.consulting][: rng.randint(1, 2)],
            "pricing_model": PricingModel.per_hour,
        }

    def _ethics_service(self) -> dict | None:
        rng = self.rng
        weights = [
            0.0 if i in self.ethics_used else w * (3 if INSTITUTION_META[i].alliance else 1)
            for i, w in enumerate(institution_weights([]))
        ]
        index = rng.choices(range(len(INSTITUTION_META)), weights)[0]
        self.ethics_used.add(index)
        inst = INSTITUTION_META[index]
        committee = f"{inst.name_zh}医学伦理委员会"
        turnaround = rng.randint(5, 21)
        mutual = "认可牵头单位伦理审查结论，参与单位快速审查" if inst.alliance else "为多中心项目提供快速审查通道"
        summary = (
            f"{committee}按“一套材料、一次提交”受理多中心项目，{mutual}。"
            f"初始审查平均{turnaround}个工作日出具意见，并提供会前咨询与方案优化建议。"
        )
        summary_en = (
            f"The {inst.name_en} ethics committee accepts one set of materials in one submission for "
            f"multi-centre studies; initial review takes {turnaround} working days on average"
            + (" and lead-site decisions are recognised." if inst.alliance else ".")
        )
        specs = rng.sample(SPECIALTIES, 2)
        return {
            "_index": index,
            "_en": (f"{inst.name_en}: ethics review service", summary_en),
            "title_zh": f"{inst.name_zh}伦理审查服务",
            "summary_zh": summary,
            "details": {"committee": committee, "mutual_recognition": inst.alliance, "turnaround_days": turnaround},
            "therapeutic_areas": first_areas(*(s[2] for s in specs))[: rng.randint(1, 3)],
            "keywords": ["伦理审查", "伦理互认" if inst.alliance else "快速审查", "多中心研究"],
            "engagement_modes": [EngagementMode.consulting],
            "pricing_model": PricingModel.per_project,
            "_mailbox": "ethics",
            "_office": "伦理委员会办公室",
        }

    def _data_service(self) -> dict | None:
        rng = self.rng
        index = self._pick()
        inst = INSTITUTION_META[index]
        spec, spec_en, areas = self._specialty_for(index)
        title = f"{inst.name_zh}{spec}临床数据服务"
        if title in self.titles:
            return None
        types = rng.sample(DATA_TYPES, rng.randint(2, 5))
        governance = (
            "数据不出院：经隐私计算平台提供联合统计与建模，结果经人工审核后导出；按数据分级分类制度审批，"
            "涉及人类遗传资源的依法办理审批或备案。"
        )
        summary = (
            f"基于医院{spec}专病数据库，提供{'、'.join(t for t, _ in types)}的检索、统计与联合建模服务。"
            "数据不出院，采用隐私计算与分级授权，符合健康医疗数据安全管理要求。"
        )
        summary_en = (
            f"Search, statistics and joint modelling over the hospital's {spec_en} data "
            f"({', '.join(e for _, e in types)}), with privacy-preserving computation; data stay in the hospital."
        )
        return {
            "_index": index,
            "_en": (f"{inst.name_en}: {spec_en} clinical data service", summary_en),
            "title_zh": title,
            "summary_zh": summary,
            "details": {"data_types": [t for t, _ in types], "governance": governance},
            "therapeutic_areas": list(areas),
            "keywords": [spec, "隐私计算", "数据服务", "真实世界研究"][: rng.randint(3, 4)],
            "engagement_modes": rng.sample(
                [EngagementMode.data_access, EngagementMode.consulting, EngagementMode.co_development], rng.randint(1, 3)
            ),
            "pricing_model": rng.choice((PricingModel.annual_fee, PricingModel.per_project, PricingModel.negotiable)),
            "_mailbox": "data",
            "_office": "数据管理中心",
        }
