"""Fictional demo catalogue: 27 more institutions, 8 more companies, 600 results and 250 resources.

Pure data, no database access, deterministic for a seed (``random.Random(seed)``). No real
hospital or company is named; people are invented.

The full institution list is the three foundation institutions of ``marketplace.demo`` followed by
``MORE_INSTITUTIONS`` (30 in all: 12 in 上海, 10 in 北京, 8 in 杭州); ``DemoListing.institution_index``
points into that concatenation. This module does not import ``marketplace.demo`` (which imports
this one); ``_FOUNDATION`` repeats the three facts it needs, and the tests check them.

Every ``confidential_details`` text carries the markers in ``CONFIDENTIAL_MARKERS`` (an internal
number ``MKT-…`` and the words 未公开数据); no public field ever does, so a search for them must
find nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import msgspec

from marketplace.accounts.services import OrganizationInput, credit_code_check_character
from marketplace.catalog.models import (
    Availability,
    EngagementMode,
    IpKind,
    IpStatus,
    Jurisdiction,
    LicenceOption,
    OwnershipModel,
    PricingModel,
    ResourceType,
    ResultType,
    Stage,
)
from marketplace.catalog.schemas import ListingCreate

__all__ = [
    "CONFIDENTIAL_MARKERS",
    "CONFIDENTIAL_ONLY_WORDS",
    "FOUNDATION_INSTITUTION_COUNT",
    "FOUNDATION_INVENTOR_NAME",
    "MORE_COMPANIES",
    "MORE_INSTITUTIONS",
    "RESOURCE_COUNT",
    "RESULT_COUNT",
    "THERAPEUTIC_AREAS",
    "DemoListing",
    "demo_listings",
]

RESULT_COUNT = 600
RESOURCE_COUNT = 250
FOUNDATION_INSTITUTION_COUNT = 3
# Present in every confidential text, never in a public field.
CONFIDENTIAL_MARKERS = ("MKT-", "内部编号", "未公开数据")
# Words used only in confidential texts (checked alongside the markers).
CONFIDENTIAL_ONLY_WORDS = (*CONFIDENTIAL_MARKERS, "关键工艺参数", "权利要求草案", "内部报价")

THERAPEUTIC_AREAS = (
    "oncology",
    "cardiovascular",
    "neurology",
    "psychiatry",
    "endocrinology",
    "respiratory",
    "digestive",
    "infectious",
    "immunology",
    "hematology",
    "nephrology",
    "ophthalmology",
    "dermatology",
    "orthopedics",
    "obstetrics",
    "pediatrics",
    "rare_diseases",
    "geriatrics",
    "stomatology",
    "medical_imaging",
    "rehabilitation",
    "critical_care",
    "traditional_chinese_medicine",
    "anesthesia",
)


# ----- organizations ----------------------------------------------------------------------------


def _institution(name_zh, name_en, city, district, grade, beds, research, gcp, alliance, threshold):
    return OrganizationInput(
        kind="institution", name_zh=name_zh, name_en=name_en, city=city, district=district, grade=grade,
        approved_beds=beds, research_beds=research, gcp_certified=gcp, ethics_alliance_member=alliance,
        pi_concurrent_trial_threshold=threshold,
    )


class _InstMeta(NamedTuple):
    name_zh: str
    name_en: str
    city: str
    slug: str  # for demo e-mail addresses
    beds: int
    research_beds: int
    alliance: bool
    threshold: int  # pi_concurrent_trial_threshold
    gcp: bool
    focus: tuple[str, ...]  # therapeutic areas of a specialty hospital; () for a general hospital


# The foundation institutions of marketplace.demo, in its order (checked by the tests).
_FOUNDATION = [
    _InstMeta("浦江医学中心", "Pujiang Medical Center", "上海", "pujiang", 2400, 200, True, 5, True, ()),
    _InstMeta("京华临床研究医院", "Jinghua Clinical Research Hospital", "北京", "jinghua", 1800, 150, False, 4, True, ()),
    _InstMeta("钱塘大学附属第一医院", "First Affiliated Hospital of Qiantang University", "杭州", "qiantang", 3200, 120, True, 6,
              True, ()),
]

# (institution, e-mail slug, focus areas)
_MORE = [
    # 上海 (11 more; 12 with 浦江医学中心)
    (_institution("申江肿瘤医院", "Shenjiang Cancer Hospital", "上海", "徐汇区", "3A", 1680, 160, True, True, 6),
     "shenjiang", ("oncology", "hematology")),
    (_institution("春申大学附属第一医院", "First Affiliated Hospital of Chunshen University", "上海", "黄浦区", "3A", 3800, 360,
                  True, True, 8), "chunshen1", ()),
    (_institution("春申大学附属第二医院", "Second Affiliated Hospital of Chunshen University", "上海", "杨浦区", "3A", 2900,
                  220, True, False, 6), "chunshen2", ()),
    (_institution("春申大学附属胸科医院", "Chest Hospital of Chunshen University", "上海", "长宁区", "3A", 1100, 100, True,
                  True, 5), "chunshen-chest", ("respiratory", "cardiovascular")),
    (_institution("沪滨儿童医学中心", "Hubin Children's Medical Center", "上海", "浦东新区", "3A", 1200, 90, True, True, 4),
     "hubin", ("pediatrics", "rare_diseases")),
    (_institution("淞沪精神卫生中心", "Songhu Mental Health Center", "上海", "闵行区", "3A", 1800, 60, True, False, 4),
     "songhu", ("psychiatry", "neurology")),
    (_institution("东浦眼耳鼻喉科医院", "Dongpu Eye and ENT Hospital", "上海", "静安区", "3A", 800, 40, True, False, 3),
     "dongpu", ("ophthalmology",)),
    (_institution("静澜妇产科医院", "Jinglan Obstetrics and Gynecology Hospital", "上海", "长宁区", "3A", 900, 50, True, True, 4),
     "jinglan", ("obstetrics", "pediatrics")),
    (_institution("春申大学附属口腔医院", "Chunshen University Hospital of Stomatology", "上海", "黄浦区", "3A", 600, 30, True,
                  False, 3), "chunshen-dental", ("stomatology",)),
    (_institution("海澄国际医学中心", "Haicheng International Medical Center", "上海", "浦东新区", "3A", 2000, 200, True, True, 7),
     "haicheng", ()),
    (_institution("明珠中医药大学附属医院", "Affiliated Hospital of Mingzhu University of Traditional Chinese Medicine", "上海",
                  "虹口区", "3A", 1500, 100, True, True, 5), "mingzhu-tcm", ("traditional_chinese_medicine",)),
    # 北京 (9 more; 10 with 京华临床研究医院)
    (_institution("北辰儿童医学中心", "Beichen Children's Medical Center", "北京", "朝阳区", "3A", 1400, 110, True, True, 5),
     "beichen", ("pediatrics", "rare_diseases")),
    (_institution("京畿医科大学附属第一医院", "First Affiliated Hospital of Jingji Medical University", "北京", "西城区", "3A",
                  3500, 300, True, True, 8), "jingji1", ()),
    (_institution("京畿医科大学附属第三医院", "Third Affiliated Hospital of Jingji Medical University", "北京", "海淀区", "3A",
                  2600, 200, True, False, 6), "jingji3", ()),
    (_institution("燕岭肿瘤医院", "Yanling Cancer Hospital", "北京", "朝阳区", "3A", 1500, 140, True, True, 6),
     "yanling", ("oncology", "hematology")),
    (_institution("紫垣心血管病医院", "Ziyuan Cardiovascular Hospital", "北京", "西城区", "3A", 1300, 110, True, True, 5),
     "ziyuan", ("cardiovascular", "critical_care")),
    (_institution("蓟门神经科学医院", "Jimen Neuroscience Hospital", "北京", "海淀区", "3A", 1100, 80, True, False, 4),
     "jimen", ("neurology", "psychiatry", "rehabilitation")),
    (_institution("太液中医医院", "Taiye Hospital of Traditional Chinese Medicine", "北京", "东城区", "3A", 900, 50, True, False, 3),
     "taiye-tcm", ("traditional_chinese_medicine",)),
    (_institution("通惠康复医学中心", "Tonghui Rehabilitation Medical Center", "北京", "通州区", "3B", 800, 40, False, False, 3),
     "tonghui", ("rehabilitation", "geriatrics", "orthopedics")),
    (_institution("凤河传染病医院", "Fenghe Infectious Disease Hospital", "北京", "大兴区", "3A", 1000, 60, True, True, 4),
     "fenghe", ("infectious", "respiratory", "critical_care")),
    # 杭州 (7 more; 8 with 钱塘大学附属第一医院)
    (_institution("钱塘大学附属第二医院", "Second Affiliated Hospital of Qiantang University", "杭州", "拱墅区", "3A", 2800, 240,
                  True, True, 7), "qiantang2", ()),
    (_institution("钱塘大学附属儿童医院", "Children's Hospital of Qiantang University", "杭州", "滨江区", "3A", 1500, 100, True,
                  True, 5), "qiantang-children", ("pediatrics",)),
    (_institution("钱塘大学附属妇产科医院", "Women's Hospital of Qiantang University", "杭州", "上城区", "3A", 1000, 60, True,
                  False, 4), "qiantang-women", ("obstetrics",)),
    (_institution("吴山肿瘤医院", "Wushan Cancer Hospital", "杭州", "上城区", "3A", 1800, 150, True, True, 6),
     "wushan", ("oncology",)),
    (_institution("云栖医学中心", "Yunqi Medical Center", "杭州", "西湖区", "3A", 2200, 180, True, False, 6), "yunqi", ()),
    (_institution("孤山眼视光医院", "Gushan Eye and Optometry Hospital", "杭州", "西湖区", "3B", 500, 20, False, False, 3),
     "gushan", ("ophthalmology",)),
    (_institution("桂溪老年医学中心", "Guixi Geriatric Medical Center", "杭州", "余杭区", "3B", 700, 30, True, True, 3),
     "guixi", ("geriatrics", "rehabilitation")),
]

MORE_INSTITUTIONS: list[OrganizationInput] = [inst for inst, _, _ in _MORE]

_INSTITUTIONS: list[_InstMeta] = _FOUNDATION + [
    _InstMeta(i.name_zh, i.name_en, i.city, slug, i.approved_beds, i.research_beds, i.ethics_alliance_member,
              i.pi_concurrent_trial_threshold, i.gcp_certified, focus)
    for i, slug, focus in _MORE
]


def _credit_code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


def _company(name_zh, name_en, city, district, first17, segment):
    return OrganizationInput(
        kind="company", name_zh=name_zh, name_en=name_en, city=city, district=district,
        credit_code=_credit_code(first17), segment=segment,
    )


MORE_COMPANIES: list[OrganizationInput] = [
    _company("澜川生物制药有限公司", "Lanchuan Biopharmaceutical Co., Ltd.", "上海", "浦东新区", "91310115MA1L7C2P4", "pharma"),
    _company("恒屿细胞治疗科技有限公司", "Hengyu Cell Therapeutics Co., Ltd.", "上海", "浦东新区", "91310115MA1N4HY8T", "pharma"),
    _company("瀚脉医疗器械（上海）有限公司", "Hanmai Medical Devices (Shanghai) Co., Ltd.", "上海", "闵行区", "91310112MA1GH9M3K",
             "device"),
    _company("聚微诊断技术有限公司", "Juwei Diagnostic Technology Co., Ltd.", "北京", "昌平区", "91110114MA01JW6D2", "ivd"),
    _company("明研临床研究服务有限公司", "Mingyan Clinical Research Services Co., Ltd.", "北京", "海淀区", "91110108MA01MY3C5",
             "cro_cdmo"),
    _company("知脉智能医疗科技有限公司", "Zhimai Intelligent Medical Technology Co., Ltd.", "北京", "朝阳区", "91110105MA01QM8A7",
             "digital_health"),
    _company("泓衍生物技术（杭州）有限公司", "Hongyan Biotechnology (Hangzhou) Co., Ltd.", "杭州", "钱塘区", "91330114MA2HY5B9L",
             "cro_cdmo"),
    _company("数衡健康科技有限公司", "Shuheng Health Technology Co., Ltd.", "杭州", "西湖区", "91330106MA2KH4K1R",
             "digital_health"),
]


# ----- vocabulary for titles and summaries ------------------------------------------------------


class _Disease(NamedTuple):
    zh: str
    en: str
    areas: tuple[str, ...]  # first is the primary area


_DISEASE_ROWS = [
    # oncology
    ("肝细胞癌", "hepatocellular carcinoma", ("oncology", "digestive")),
    ("非小细胞肺癌", "non-small cell lung cancer", ("oncology", "respiratory")),
    ("结直肠癌", "colorectal cancer", ("oncology", "digestive")),
    ("胃癌", "gastric cancer", ("oncology", "digestive")),
    ("乳腺癌", "breast cancer", ("oncology",)),
    ("胰腺癌", "pancreatic cancer", ("oncology", "digestive")),
    ("食管鳞癌", "esophageal squamous cell carcinoma", ("oncology", "digestive")),
    ("鼻咽癌", "nasopharyngeal carcinoma", ("oncology",)),
    ("卵巢癌", "ovarian cancer", ("oncology", "obstetrics")),
    ("宫颈癌", "cervical cancer", ("oncology", "obstetrics")),
    ("胶质母细胞瘤", "glioblastoma", ("oncology", "neurology")),
    ("前列腺癌", "prostate cancer", ("oncology",)),
    ("甲状腺癌", "thyroid cancer", ("oncology", "endocrinology")),
    ("黑色素瘤", "melanoma", ("oncology", "dermatology")),
    ("口腔鳞状细胞癌", "oral squamous cell carcinoma", ("oncology", "stomatology")),
    # cardiovascular
    ("冠心病", "coronary artery disease", ("cardiovascular",)),
    ("急性心肌梗死", "acute myocardial infarction", ("cardiovascular", "critical_care")),
    ("心力衰竭", "heart failure", ("cardiovascular",)),
    ("心房颤动", "atrial fibrillation", ("cardiovascular",)),
    ("主动脉瓣狭窄", "aortic stenosis", ("cardiovascular", "geriatrics")),
    ("高血压", "hypertension", ("cardiovascular",)),
    ("家族性高胆固醇血症", "familial hypercholesterolemia", ("cardiovascular", "rare_diseases")),
    # neurology and rehabilitation
    ("阿尔茨海默病", "Alzheimer's disease", ("neurology", "geriatrics")),
    ("帕金森病", "Parkinson's disease", ("neurology", "geriatrics")),
    ("缺血性脑卒中", "ischemic stroke", ("neurology", "critical_care")),
    ("癫痫", "epilepsy", ("neurology", "pediatrics")),
    ("多发性硬化", "multiple sclerosis", ("neurology", "immunology")),
    ("脑卒中后偏瘫", "post-stroke hemiplegia", ("rehabilitation", "neurology")),
    ("脊髓损伤", "spinal cord injury", ("rehabilitation", "orthopedics")),
    # psychiatry
    ("抑郁症", "major depressive disorder", ("psychiatry",)),
    ("精神分裂症", "schizophrenia", ("psychiatry",)),
    ("双相情感障碍", "bipolar disorder", ("psychiatry",)),
    ("孤独症谱系障碍", "autism spectrum disorder", ("psychiatry", "pediatrics")),
    ("失眠障碍", "insomnia disorder", ("psychiatry", "neurology")),
    # endocrinology
    ("2型糖尿病", "type 2 diabetes", ("endocrinology",)),
    ("肥胖症", "obesity", ("endocrinology",)),
    ("妊娠期糖尿病", "gestational diabetes", ("obstetrics", "endocrinology")),
    ("骨质疏松症", "osteoporosis", ("endocrinology", "orthopedics", "geriatrics")),
    ("糖尿病足", "diabetic foot ulcer", ("endocrinology", "dermatology")),
    # respiratory
    ("慢性阻塞性肺疾病", "chronic obstructive pulmonary disease", ("respiratory",)),
    ("支气管哮喘", "asthma", ("respiratory", "immunology")),
    ("特发性肺纤维化", "idiopathic pulmonary fibrosis", ("respiratory", "rare_diseases")),
    ("肺结节", "pulmonary nodules", ("respiratory", "medical_imaging")),
    ("阻塞性睡眠呼吸暂停", "obstructive sleep apnea", ("respiratory",)),
    ("社区获得性肺炎", "community-acquired pneumonia", ("respiratory", "infectious")),
    # digestive
    ("炎症性肠病", "inflammatory bowel disease", ("digestive", "immunology")),
    ("代谢相关脂肪性肝病", "metabolic dysfunction-associated steatotic liver disease", ("digestive", "endocrinology")),
    ("肝硬化", "liver cirrhosis", ("digestive",)),
    ("功能性消化不良", "functional dyspepsia", ("digestive",)),
    ("急性胰腺炎", "acute pancreatitis", ("digestive", "critical_care")),
    # infectious
    ("耐药结核病", "drug-resistant tuberculosis", ("infectious", "respiratory")),
    ("慢性乙型肝炎", "chronic hepatitis B", ("infectious", "digestive")),
    ("侵袭性真菌感染", "invasive fungal infection", ("infectious", "hematology")),
    ("耐碳青霉烯类肠杆菌感染", "carbapenem-resistant Enterobacterales infection", ("infectious", "critical_care")),
    ("幽门螺杆菌感染", "Helicobacter pylori infection", ("infectious", "digestive")),
    # immunology
    ("系统性红斑狼疮", "systemic lupus erythematosus", ("immunology", "nephrology")),
    ("类风湿关节炎", "rheumatoid arthritis", ("immunology", "orthopedics")),
    ("强直性脊柱炎", "ankylosing spondylitis", ("immunology",)),
    ("干燥综合征", "Sjögren's syndrome", ("immunology",)),
    # hematology
    ("急性髓系白血病", "acute myeloid leukemia", ("hematology", "oncology")),
    ("多发性骨髓瘤", "multiple myeloma", ("hematology", "oncology")),
    ("弥漫大B细胞淋巴瘤", "diffuse large B-cell lymphoma", ("hematology", "oncology")),
    ("慢性淋巴细胞白血病", "chronic lymphocytic leukemia", ("hematology", "oncology")),
    ("血友病A", "hemophilia A", ("hematology", "rare_diseases")),
    ("再生障碍性贫血", "aplastic anemia", ("hematology",)),
    # nephrology
    ("慢性肾脏病", "chronic kidney disease", ("nephrology",)),
    ("IgA肾病", "IgA nephropathy", ("nephrology", "immunology")),
    ("糖尿病肾病", "diabetic kidney disease", ("nephrology", "endocrinology")),
    ("急性肾损伤", "acute kidney injury", ("nephrology", "critical_care")),
    # ophthalmology
    ("糖尿病视网膜病变", "diabetic retinopathy", ("ophthalmology", "endocrinology")),
    ("青光眼", "glaucoma", ("ophthalmology",)),
    ("年龄相关性黄斑变性", "age-related macular degeneration", ("ophthalmology", "geriatrics")),
    ("高度近视", "high myopia", ("ophthalmology",)),
    ("干眼症", "dry eye disease", ("ophthalmology",)),
    ("遗传性视网膜营养不良", "inherited retinal dystrophy", ("ophthalmology", "rare_diseases")),
    ("早产儿视网膜病变", "retinopathy of prematurity", ("ophthalmology", "pediatrics")),
    # dermatology
    ("银屑病", "psoriasis", ("dermatology", "immunology")),
    ("特应性皮炎", "atopic dermatitis", ("dermatology", "immunology")),
    ("白癜风", "vitiligo", ("dermatology",)),
    ("慢性难愈合创面", "chronic non-healing wounds", ("dermatology",)),
    # orthopedics
    ("膝骨关节炎", "knee osteoarthritis", ("orthopedics",)),
    ("腰椎间盘突出症", "lumbar disc herniation", ("orthopedics",)),
    ("骨缺损", "bone defects", ("orthopedics",)),
    ("青少年特发性脊柱侧弯", "adolescent idiopathic scoliosis", ("orthopedics", "pediatrics")),
    ("老年髋部骨折", "hip fracture in older adults", ("orthopedics", "geriatrics")),
    # obstetrics
    ("子痫前期", "pre-eclampsia", ("obstetrics",)),
    ("早产", "preterm birth", ("obstetrics", "pediatrics")),
    ("多囊卵巢综合征", "polycystic ovary syndrome", ("obstetrics", "endocrinology")),
    ("产后出血", "postpartum hemorrhage", ("obstetrics", "critical_care")),
    ("复发性流产", "recurrent pregnancy loss", ("obstetrics",)),
    # pediatrics
    ("新生儿败血症", "neonatal sepsis", ("pediatrics", "infectious")),
    ("儿童哮喘", "childhood asthma", ("pediatrics", "respiratory")),
    ("川崎病", "Kawasaki disease", ("pediatrics", "cardiovascular")),
    ("先天性心脏病", "congenital heart disease", ("pediatrics", "cardiovascular")),
    ("儿童急性淋巴细胞白血病", "childhood acute lymphoblastic leukemia", ("pediatrics", "hematology")),
    # rare diseases
    ("脊髓性肌萎缩症", "spinal muscular atrophy", ("rare_diseases", "neurology", "pediatrics")),
    ("戈谢病", "Gaucher disease", ("rare_diseases",)),
    ("法布雷病", "Fabry disease", ("rare_diseases", "nephrology")),
    ("杜氏肌营养不良", "Duchenne muscular dystrophy", ("rare_diseases", "pediatrics")),
    ("肺动脉高压", "pulmonary arterial hypertension", ("rare_diseases", "cardiovascular")),
    # geriatrics
    ("肌少症", "sarcopenia", ("geriatrics", "rehabilitation")),
    ("老年衰弱", "frailty in older adults", ("geriatrics",)),
    ("老年跌倒", "falls in older adults", ("geriatrics", "rehabilitation")),
    # stomatology
    ("牙周炎", "periodontitis", ("stomatology",)),
    ("牙列缺损", "partial edentulism", ("stomatology",)),
    ("龋病", "dental caries", ("stomatology", "pediatrics")),
    ("颞下颌关节紊乱病", "temporomandibular disorders", ("stomatology",)),
    # critical care
    ("脓毒症", "sepsis", ("critical_care", "infectious")),
    ("急性呼吸窘迫综合征", "acute respiratory distress syndrome", ("critical_care", "respiratory")),
    ("心脏骤停", "cardiac arrest", ("critical_care", "cardiovascular")),
    # anesthesia
    ("术后疼痛", "postoperative pain", ("anesthesia",)),
    ("术后谵妄", "postoperative delirium", ("anesthesia", "geriatrics")),
    ("困难气道", "difficult airway", ("anesthesia", "critical_care")),
]
_DISEASES = {zh: _Disease(zh, en, areas) for zh, en, areas in _DISEASE_ROWS}

_FIT_CACHE: dict[tuple[str, ...], list[_Disease]] = {}


def _fit(fit: tuple[str, ...]) -> list[_Disease]:
    """Diseases named in ``fit`` (by Chinese name) or having one of its areas as primary area."""
    if fit not in _FIT_CACHE:
        _FIT_CACHE[fit] = [d for d in _DISEASES.values() if d.zh in fit or d.areas[0] in fit]
    return _FIT_CACHE[fit]


# Diagnostic ideas: (zh, en, fit, method keys, purpose keys, extra area)
_METHODS = {
    "qpcr": ("荧光定量PCR法", "real-time PCR"),
    "melt": ("荧光PCR熔解曲线法", "PCR melting-curve analysis"),
    "dpcr": ("数字PCR法", "digital PCR"),
    "ngs": ("高通量测序法", "next-generation sequencing"),
    "clia": ("化学发光法", "chemiluminescence immunoassay"),
    "mf": ("微流控芯片法", "microfluidic chip"),
    "lcms": ("液相色谱-串联质谱法", "LC-MS/MS"),
    "ib": ("线性免疫印迹法", "line immunoblot"),
    "iso": ("恒温扩增法", "isothermal amplification"),
    "simoa": ("单分子免疫检测法", "single-molecule immunoassay"),
    "gold": ("胶体金法", "colloidal-gold lateral flow"),
}
_PURPOSES = {
    "screen": ("早期筛查", "early screening"),
    "dx": ("辅助诊断", "aided diagnosis"),
    "prog": ("预后分层", "prognostic stratification"),
    "resp": ("疗效监测", "treatment-response monitoring"),
    "risk": ("风险评估", "risk assessment"),
    "ddx": ("鉴别诊断", "differential diagnosis"),
    "mrd": ("复发监测", "recurrence monitoring"),
    "cdx": ("伴随诊断", "companion diagnostics"),
    "rx": ("用药指导", "medication guidance"),
}
_GENERAL_PURPOSES = ("screen", "dx", "prog", "resp", "risk", "ddx")
_ONCO_PURPOSES = ("screen", "dx", "prog", "resp", "mrd", "cdx")

_DX = [
    ("外泌体miRNA", "exosomal miRNA", ("oncology", "cardiovascular", "neurology", "obstetrics"), ("qpcr", "dpcr"),
     _GENERAL_PURPOSES, None),
    ("循环肿瘤DNA甲基化", "circulating tumour DNA methylation", ("oncology",), ("qpcr", "dpcr", "ngs"), _ONCO_PURPOSES, None),
    ("游离DNA片段组学", "cell-free DNA fragmentomics", ("oncology",), ("ngs",), _ONCO_PURPOSES, None),
    ("血浆蛋白标志物组合", "plasma protein marker panel",
     ("oncology", "cardiovascular", "neurology", "nephrology", "critical_care"), ("clia", "mf"), _GENERAL_PURPOSES, None),
    ("肠道菌群特征菌", "gut microbial signature", ("digestive", "endocrinology", "psychiatry", "结直肠癌"), ("qpcr", "ngs"),
     _GENERAL_PURPOSES, None),
    ("血清代谢物组合", "serum metabolite panel", ("endocrinology", "digestive", "cardiovascular", "obstetrics"), ("lcms",),
     _GENERAL_PURPOSES, None),
    ("自身抗体谱", "autoantibody profile", ("immunology", "多发性硬化", "IgA肾病"), ("clia", "ib"), ("dx", "ddx", "risk", "prog"),
     None),
    ("病原体靶向测序", "targeted pathogen sequencing", ("infectious", "critical_care", "社区获得性肺炎", "新生儿败血症"), ("ngs",),
     ("dx", "ddx", "rx"), None),
    ("多重呼吸道病原体核酸", "multiplex respiratory pathogen nucleic acid", ("社区获得性肺炎", "儿童哮喘", "耐药结核病", "支气管哮喘"),
     ("qpcr", "iso"), ("dx", "ddx"), None),
    ("血浆p-tau217", "plasma p-tau217", ("阿尔茨海默病",), ("clia", "simoa"), ("screen", "dx", "risk", "ddx"), None),
    ("尿液外泌体蛋白", "urinary exosomal protein", ("nephrology", "前列腺癌", "子痫前期"), ("clia", "lcms"), _GENERAL_PURPOSES, None),
    ("sFlt-1/PlGF比值", "sFlt-1/PlGF ratio", ("子痫前期",), ("clia", "gold", "mf"), ("risk", "dx", "prog"), None),
    ("CYP2C19/CYP2D6基因多态性", "CYP2C19/CYP2D6 polymorphism", ("psychiatry", "冠心病", "术后疼痛", "急性心肌梗死"),
     ("melt", "qpcr"), ("rx",), None),
    ("碳青霉烯酶耐药基因", "carbapenemase resistance gene", ("infectious", "脓毒症"), ("qpcr", "iso", "gold"), ("dx", "rx"), None),
    ("唾液核酸标志物", "salivary nucleic acid markers", ("stomatology", "鼻咽癌", "口腔鳞状细胞癌"), ("qpcr",), _GENERAL_PURPOSES,
     None),
    ("泪液炎症因子", "tear inflammatory cytokines", ("干眼症", "干燥综合征"), ("mf", "gold"), ("dx", "ddx", "resp"), None),
    ("高敏心肌损伤标志物", "high-sensitivity myocardial injury markers", ("急性心肌梗死", "心力衰竭", "川崎病", "脓毒症"),
     ("clia", "mf"), ("dx", "risk", "prog"), None),
    ("EB病毒DNA", "Epstein–Barr virus DNA", ("鼻咽癌",), ("qpcr", "dpcr"), ("screen", "prog", "mrd"), None),
    ("HPV整合位点", "HPV integration sites", ("宫颈癌",), ("ngs",), ("screen", "risk", "mrd"), None),
    ("单细胞免疫组库", "single-cell immune repertoire",
     ("急性髓系白血病", "多发性骨髓瘤", "弥漫大B细胞淋巴瘤", "慢性淋巴细胞白血病", "儿童急性淋巴细胞白血病", "系统性红斑狼疮"),
     ("ngs",), ("prog", "resp", "mrd"), None),
]

# Therapeutic ideas (drug candidates): (zh, en, fit, extra area)
_TX = [
    ("KRAS G12D选择性抑制剂", "selective KRAS G12D inhibitor", ("胰腺癌", "结直肠癌", "非小细胞肺癌"), None),
    ("靶向CLDN18.2的抗体偶联药物", "CLDN18.2-directed antibody–drug conjugate", ("胃癌", "胰腺癌", "食管鳞癌"), None),
    ("靶向B7-H3的CAR-T细胞", "B7-H3-targeted CAR-T cells", ("胶质母细胞瘤", "卵巢癌", "非小细胞肺癌"), None),
    ("GPRC5D×CD3双特异性抗体", "GPRC5D×CD3 bispecific antibody", ("多发性骨髓瘤",), None),
    ("CD19/BCMA双靶点CAR-T细胞", "CD19/BCMA dual-target CAR-T cells", ("系统性红斑狼疮", "多发性骨髓瘤", "弥漫大B细胞淋巴瘤"),
     None),
    ("肝靶向GalNAc偶联siRNA", "GalNAc-conjugated siRNA", ("慢性乙型肝炎", "家族性高胆固醇血症", "代谢相关脂肪性肝病", "高血压"),
     None),
    ("口服小分子PCSK9抑制剂", "oral small-molecule PCSK9 inhibitor", ("冠心病", "家族性高胆固醇血症"), None),
    ("NLRP3炎症小体抑制剂", "NLRP3 inflammasome inhibitor", ("心力衰竭", "帕金森病", "炎症性肠病", "膝骨关节炎"), None),
    ("个体化新抗原mRNA疫苗", "personalised neoantigen mRNA vaccine", ("黑色素瘤", "结直肠癌", "胰腺癌", "肝细胞癌"), None),
    ("溶瘤单纯疱疹病毒", "oncolytic herpes simplex virus", ("肝细胞癌", "胶质母细胞瘤", "黑色素瘤"), None),
    ("抗TL1A单克隆抗体", "anti-TL1A monoclonal antibody", ("炎症性肠病",), None),
    ("反义寡核苷酸", "antisense oligonucleotide", ("脊髓性肌萎缩症", "杜氏肌营养不良"), None),
    ("AAV基因治疗载体", "AAV gene therapy vector", ("血友病A", "法布雷病", "遗传性视网膜营养不良", "戈谢病"), None),
    ("中药复方颗粒", "traditional Chinese medicine compound granules",
     ("失眠障碍", "慢性阻塞性肺疾病", "功能性消化不良", "肌少症", "慢性肾脏病"), "traditional_chinese_medicine"),
    ("长效GLP-1/GIP双受体激动剂", "long-acting GLP-1/GIP dual agonist", ("2型糖尿病", "肥胖症", "代谢相关脂肪性肝病"), None),
    ("Nav1.8选择性阻滞剂", "selective Nav1.8 blocker", ("术后疼痛",), None),
    ("间充质干细胞来源外泌体", "mesenchymal stem cell-derived exosomes",
     ("急性呼吸窘迫综合征", "膝骨关节炎", "慢性难愈合创面", "急性肾损伤"), None),
    ("噬菌体鸡尾酒制剂", "bacteriophage cocktail", ("耐碳青霉烯类肠杆菌感染", "糖尿病足"), None),
    ("右美托咪定鼻喷雾剂", "intranasal dexmedetomidine spray", ("术后谵妄",), None),
    ("BTK蛋白降解剂（PROTAC）", "BTK degrader (PROTAC)", ("慢性淋巴细胞白血病", "弥漫大B细胞淋巴瘤"), None),
    ("抗VEGF/Ang-2双特异性抗体", "anti-VEGF/Ang-2 bispecific antibody", ("年龄相关性黄斑变性", "糖尿病视网膜病变"), None),
    ("JAK1选择性抑制剂乳膏", "topical selective JAK1 inhibitor cream", ("特应性皮炎", "白癜风", "银屑病"), None),
    ("IL-23p19单克隆抗体", "anti-IL-23p19 monoclonal antibody", ("银屑病", "强直性脊柱炎", "炎症性肠病"), None),
    ("低剂量阿托品缓释滴眼液", "sustained-release low-dose atropine eye drops", ("高度近视",), None),
    ("抗纤维化小分子（自噬调节剂）", "anti-fibrotic small molecule (autophagy modulator)", ("特发性肺纤维化", "肝硬化", "慢性肾脏病"),
     None),
    ("新型抗结核药物组合", "novel anti-tuberculosis combination", ("耐药结核病",), None),
    ("快速起效NMDA受体调节剂", "fast-acting NMDA receptor modulator", ("抑郁症", "双相情感障碍"), None),
]

# Device ideas: (core zh, core en, fit, modifiers [(zh, en)], extra area)
_DEV = [
    ("冠脉支架", "coronary stent", ("冠心病", "急性心肌梗死"),
     [("可降解镁合金", "biodegradable magnesium-alloy"), ("超薄壁钴铬合金药物洗脱", "ultra-thin cobalt-chromium drug-eluting"),
      ("仿生内皮化涂层", "biomimetic endothelialising")], None),
    ("经导管主动脉瓣膜系统", "transcatheter aortic valve system", ("主动脉瓣狭窄",),
     [("可回收", "retrievable"), ("干膜预装", "dry-tissue pre-mounted"), ("自膨胀", "self-expanding")], None),
    ("左心耳封堵器", "left atrial appendage occluder", ("心房颤动",),
     [("可降解", "bioresorbable"), ("无盘式", "disc-free"), ("防血栓涂层", "anti-thrombotic coated")], None),
    ("脑机接口康复训练系统", "brain–computer interface rehabilitation system", ("脑卒中后偏瘫", "脊髓损伤"),
     [("非侵入式", "non-invasive"), ("柔性微电极", "flexible micro-electrode"), ("闭环反馈", "closed-loop")], "rehabilitation"),
    ("可穿戴心电贴", "wearable ECG patch", ("心房颤动", "心力衰竭", "心脏骤停"),
     [("14天连续监测", "14-day continuous"), ("AI实时预警", "AI-alerting"), ("一次性", "single-use")], None),
    ("闭环胰岛素输注系统", "closed-loop insulin delivery system", ("2型糖尿病", "妊娠期糖尿病"),
     [("贴敷式", "patch-type"), ("双激素", "dual-hormone")], None),
    ("磁锚定内镜手术器械", "magnetic-anchoring endoscopic instrument", ("结直肠癌", "胃癌", "食管鳞癌"),
     [("一次性", "single-use"), ("可重复使用", "reusable")], None),
    ("椎间融合器", "interbody fusion cage", ("腰椎间盘突出症", "青少年特发性脊柱侧弯"),
     [("3D打印多孔钛合金", "3D-printed porous titanium"), ("可膨胀", "expandable"),
      ("PEEK-羟基磷灰石复合", "PEEK/hydroxyapatite composite")], None),
    ("人工膝关节假体", "knee prosthesis", ("膝骨关节炎",),
     [("个性化3D打印", "personalised 3D-printed"), ("高交联聚乙烯衬垫", "highly cross-linked polyethylene"),
      ("单髁", "unicompartmental")], None),
    ("青光眼引流装置", "glaucoma drainage device", ("青光眼",), [("微型", "micro"), ("可调流量", "adjustable-flow")], None),
    ("智能角膜接触镜", "smart contact lens", ("青光眼", "干眼症", "高度近视"),
     [("眼压监测", "intraocular-pressure-sensing"), ("缓释给药", "drug-eluting"), ("离焦", "defocus")], None),
    ("可视喉镜", "video laryngoscope", ("困难气道",), [("一次性", "single-use"), ("双镜头", "dual-camera")], None),
    ("经皮神经电刺激镇痛仪", "transcutaneous electrical nerve stimulator", ("术后疼痛", "膝骨关节炎"),
     [("可穿戴", "wearable"), ("闭环自适应", "closed-loop adaptive")], None),
    ("体外膜肺氧合系统", "ECMO system", ("急性呼吸窘迫综合征", "心脏骤停"),
     [("便携式", "portable"), ("磁悬浮离心泵", "maglev centrifugal-pump")], None),
    ("口腔种植手术机器人", "dental implant surgical robot", ("牙列缺损",),
     [("自主式", "autonomous"), ("光学导航", "optically navigated")], None),
    ("光子计数CT探测器模块", "photon-counting CT detector module", ("肺结节", "冠心病"),
     [("碲锌镉", "CdZnTe"), ("低剂量", "low-dose")], "medical_imaging"),
    ("掌上超声探头", "handheld ultrasound probe", ("甲状腺癌", "心力衰竭", "先天性心脏病", "肺结节"),
     [("无线", "wireless"), ("AI辅助", "AI-assisted")], "medical_imaging"),
    ("新生儿无创呼吸支持装置", "neonatal non-invasive respiratory support device", ("早产", "新生儿败血症"),
     [("高流量", "high-flow"), ("同步触发", "synchronised")], None),
    ("负压伤口治疗装置", "negative-pressure wound therapy device", ("糖尿病足", "慢性难愈合创面"),
     [("便携式", "portable"), ("智能冲洗", "smart-irrigation")], None),
    ("产后出血球囊压迫装置", "postpartum hemorrhage balloon tamponade device", ("产后出血",),
     [("双球囊", "dual-balloon"), ("负压引流", "vacuum-drainage")], None),
    ("睡眠呼吸监测与治疗一体机", "sleep-apnea monitoring and therapy system", ("阻塞性睡眠呼吸暂停",),
     [("家用", "home-use"), ("自动调压", "auto-titrating")], None),
    ("防跌倒智能监测系统", "fall-prevention monitoring system", ("老年跌倒", "老年衰弱"),
     [("毫米波雷达", "millimetre-wave radar"), ("可穿戴", "wearable")], None),
    ("针刺手法量化仪", "acupuncture manipulation quantifier", ("失眠障碍", "脑卒中后偏瘫", "功能性消化不良"),
     [("无线", "wireless"), ("力反馈", "force-feedback")], "traditional_chinese_medicine"),
]

# Software ideas: (software zh, software en, patent tech zh, tech en, task zh, task en, fit, extra area)
_RISK_FIT = ("cardiovascular", "oncology", "neurology", "endocrinology", "nephrology", "obstetrics", "critical_care",
             "geriatrics", "psychiatry", "respiratory")
_ALGO = [
    ("{d}风险预测深度学习软件", "Deep-learning risk prediction software for {D}", "深度学习", "deep learning", "风险预测",
     "risk prediction", _RISK_FIT, None),
    ("{d}CT影像辅助诊断软件", "CT image-assisted diagnosis software for {D}", "卷积神经网络", "convolutional neural networks",
     "影像辅助诊断", "image-assisted diagnosis", ("肺结节", "肝细胞癌", "缺血性脑卒中", "胰腺癌", "急性胰腺炎"), "medical_imaging"),
    ("眼底照相{d}智能筛查系统", "Fundus-photograph AI screening system for {D}", "视网膜图像分析", "retinal image analysis",
     "智能筛查", "automated screening", ("ophthalmology", "2型糖尿病", "高血压"), "medical_imaging"),
    ("{d}病理切片人工智能分级系统", "AI grading system for {D} pathology slides", "全切片图像分析", "whole-slide image analysis",
     "病理分级", "pathological grading", ("oncology", "hematology"), None),
    ("{d}居家管理数字疗法", "Digital therapeutic for home management of {D}", "认知行为干预算法",
     "cognitive-behavioural intervention algorithms", "居家管理", "home management",
     ("抑郁症", "失眠障碍", "2型糖尿病", "慢性阻塞性肺疾病", "孤独症谱系障碍", "心力衰竭", "高血压", "肥胖症"), None),
    ("基于大语言模型的{d}临床决策支持系统", "Large-language-model clinical decision support for {D}", "大语言模型",
     "large language models", "临床决策支持", "clinical decision support", _RISK_FIT + ("infectious", "rare_diseases"), None),
    ("{d}手术规划三维重建软件", "3D reconstruction and surgical planning software for {D}", "三维重建", "3D reconstruction",
     "手术规划", "surgical planning", ("肝细胞癌", "先天性心脏病", "青少年特发性脊柱侧弯", "口腔鳞状细胞癌", "牙列缺损", "骨缺损"),
     "medical_imaging"),
    ("ICU{d}早期预警模型软件", "Early-warning model software for {D} in the ICU", "多模态时序数据", "multimodal time-series data",
     "早期预警", "early warning", ("脓毒症", "急性肾损伤", "急性呼吸窘迫综合征", "心脏骤停"), None),
    ("{d}语音与步态多模态评估软件", "Multimodal voice-and-gait assessment software for {D}", "多模态信号融合",
     "multimodal signal fusion", "病情评估", "severity assessment", ("帕金森病", "阿尔茨海默病", "老年衰弱", "肌少症"), None),
    ("{d}虚拟现实康复训练系统", "Virtual-reality rehabilitation system for {D}", "运动捕捉与虚拟现实",
     "motion capture and virtual reality", "康复训练", "rehabilitation training", ("脑卒中后偏瘫", "脊髓损伤", "老年髋部骨折"),
     "rehabilitation"),
    ("{d}中医舌象脉象智能辨证系统", "AI tongue- and pulse-based TCM syndrome differentiation system for {D}", "舌象与脉象识别",
     "tongue and pulse recognition", "中医辨证", "TCM syndrome differentiation",
     ("失眠障碍", "功能性消化不良", "2型糖尿病", "慢性阻塞性肺疾病", "肌少症"), "traditional_chinese_medicine"),
    ("{d}围术期风险监测软件", "Perioperative risk monitoring software for {D}", "脑电与生命体征融合分析",
     "EEG and vital-sign fusion analysis", "围术期风险监测", "perioperative risk monitoring", ("术后谵妄", "术后疼痛", "困难气道"),
     None),
    ("{d}超声智能质控与测量软件", "AI ultrasound quality-control and measurement software for {D}", "超声图像识别",
     "ultrasound image recognition", "智能测量", "automated measurement", ("先天性心脏病", "早产", "甲状腺癌", "子痫前期"),
     "medical_imaging"),
]

# Biomaterial ideas: (zh, en, fit)
_MAT = [
    ("可注射温敏水凝胶", "injectable thermosensitive hydrogel", ("膝骨关节炎", "慢性难愈合创面", "急性心肌梗死", "骨缺损", "牙周炎")),
    ("脱细胞基质支架", "decellularised matrix scaffold", ("骨缺损", "慢性难愈合创面", "脊髓损伤")),
    ("丝素蛋白多孔支架", "porous silk fibroin scaffold", ("骨缺损", "慢性难愈合创面", "牙周炎")),
    ("载药可降解微球", "drug-loaded biodegradable microspheres", ("肝细胞癌", "膝骨关节炎", "精神分裂症")),
    ("仿生矿化胶原", "biomimetic mineralised collagen", ("骨缺损", "牙周炎", "龋病", "骨质疏松症")),
    ("抗菌肽涂层", "antimicrobial-peptide coating", ("糖尿病足", "牙列缺损", "耐碳青霉烯类肠杆菌感染")),
    ("纳米酶", "nanozyme", ("慢性难愈合创面", "脓毒症", "急性肾损伤", "炎症性肠病")),
    ("类器官培养基质", "organoid culture matrix", ("结直肠癌", "胰腺癌", "炎症性肠病", "胃癌")),
    ("诱导多能干细胞来源心肌细胞补片", "iPSC-derived cardiomyocyte patch", ("心力衰竭", "急性心肌梗死")),
    ("3D生物打印血管化皮肤替代物", "3D-bioprinted vascularised skin substitute", ("慢性难愈合创面", "糖尿病足")),
    ("神经导管", "nerve conduit", ("脊髓损伤", "脑卒中后偏瘫")),
    ("角膜基质修复膜", "corneal stromal repair membrane", ("干眼症", "高度近视")),
    ("止血与防粘连双功能膜", "dual-function haemostatic anti-adhesion membrane", ("产后出血", "结直肠癌", "肝细胞癌")),
]

# Know-how ideas: (zh template, en template, fit, extra area)
_PROC = [
    ("{d}单孔腹腔镜手术技术包", "Single-port laparoscopic surgery package for {D}", ("结直肠癌", "胃癌", "卵巢癌", "宫颈癌"), None),
    ("{d}CAR-T细胞制备工艺", "CAR-T cell manufacturing process for {D}",
     ("弥漫大B细胞淋巴瘤", "多发性骨髓瘤", "儿童急性淋巴细胞白血病", "慢性淋巴细胞白血病"), None),
    ("{d}类器官药敏检测标准操作规程", "Organoid drug-sensitivity testing SOP for {D}", ("oncology",), None),
    ("{d}多学科诊疗路径与质控体系", "Multidisciplinary care pathway and quality-control system for {D}",
     ("oncology", "cardiovascular", "rare_diseases", "pediatrics"), None),
    ("{d}针刺治疗方案", "Acupuncture treatment protocol for {D}", ("失眠障碍", "脑卒中后偏瘫", "功能性消化不良", "术后疼痛"),
     "traditional_chinese_medicine"),
    ("{d}加速康复外科临床路径", "Enhanced recovery after surgery (ERAS) pathway for {D}",
     ("结直肠癌", "老年髋部骨折", "肝细胞癌", "胃癌", "膝骨关节炎"), None),
    ("{d}超声引导下神经阻滞技术", "Ultrasound-guided nerve-block technique for {D}", ("术后疼痛", "老年髋部骨折"), "anesthesia"),
    ("{d}中药院内制剂工艺", "In-hospital TCM preparation process for {D}",
     ("失眠障碍", "慢性阻塞性肺疾病", "特应性皮炎", "功能性消化不良", "慢性肾脏病"), "traditional_chinese_medicine"),
    ("{d}临床级干细胞制备与质控工艺", "Clinical-grade stem cell manufacturing and quality control for {D}",
     ("膝骨关节炎", "急性呼吸窘迫综合征", "肝硬化", "再生障碍性贫血"), None),
    ("{d}早期康复训练方案", "Early rehabilitation programme for {D}", ("脑卒中后偏瘫", "脊髓损伤", "老年髋部骨折", "心力衰竭"),
     "rehabilitation"),
    ("{d}介入治疗操作规范与培训课程", "Interventional procedure standard and training course for {D}",
     ("冠心病", "主动脉瓣狭窄", "心房颤动", "肝细胞癌", "缺血性脑卒中"), None),
    ("{d}儿童镇静与麻醉管理方案", "Paediatric sedation and anaesthesia protocol for {D}", ("先天性心脏病", "早产儿视网膜病变"),
     "anesthesia"),
]

# Clinical data ideas: (zh template, en template, fit, extra area)
_ALL_AREAS = THERAPEUTIC_AREAS
_DATA = [
    ("{d}多中心真实世界研究数据集", "Multi-centre real-world dataset of {D}", _ALL_AREAS, None),
    ("{d}前瞻性队列随访数据集（配套生物样本）", "Prospective cohort follow-up dataset of {D} with matched biospecimens",
     _ALL_AREAS, None),
    ("{d}影像组学标注数据集", "Annotated radiomics dataset of {D}",
     ("oncology", "肺结节", "缺血性脑卒中", "骨质疏松症", "先天性心脏病"), "medical_imaging"),
    ("{d}研究者发起临床研究方案与数据", "Investigator-initiated trial protocol and data for {D}", _ALL_AREAS, None),
    ("{d}单细胞测序图谱", "Single-cell sequencing atlas of {D}", ("oncology", "immunology", "hematology"), None),
    ("{d}结构化电子病历数据库", "Structured EHR database of {D}", _ALL_AREAS, None),
]


# ----- people -----------------------------------------------------------------------------------

_SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
    ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"), ("郑", "Zheng"), ("梁", "Liang"),
    ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"),
    ("彭", "Peng"), ("曾", "Zeng"), ("田", "Tian"), ("董", "Dong"), ("潘", "Pan"), ("袁", "Yuan"), ("蔡", "Cai"),
    ("蒋", "Jiang"), ("叶", "Ye"), ("杜", "Du"), ("沈", "Shen"), ("程", "Cheng"), ("魏", "Wei"), ("苏", "Su"),
    ("丁", "Ding"), ("任", "Ren"), ("姚", "Yao"), ("钱", "Qian"), ("方", "Fang"), ("金", "Jin"), ("陆", "Lu"), ("顾", "Gu"),
    ("范", "Fan"), ("俞", "Yu"), ("汤", "Tang"), ("严", "Yan"),
]
_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"), ("磊", "lei"),
    ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("霞", "xia"), ("平", "ping"), ("华", "hua"), ("晓", "xiao"), ("慧", "hui"), ("宇", "yu"),
    ("婷", "ting"), ("浩", "hao"), ("凯", "kai"), ("琳", "lin"), ("欣", "xin"), ("思", "si"), ("睿", "rui"),
    ("晨", "chen"), ("博", "bo"), ("文", "wen"), ("雪", "xue"), ("佳", "jia"), ("立", "li"), ("志", "zhi"),
    ("颖", "ying"), ("健", "jian"), ("嘉", "jia"), ("一", "yi"), ("昕", "xin"), ("翔", "xiang"), ("楠", "nan"),
    ("彬", "bin"), ("蕾", "lei"), ("毅", "yi"), ("舟", "zhou"), ("然", "ran"), ("峰", "feng"), ("瑶", "yao"),
]
# The foundation demo's inventor user at 浦江医学中心 (marketplace.demo USERS): named on some results there.
FOUNDATION_INVENTOR_NAME = "张晓华"


def _person(rng: random.Random) -> tuple[str, str]:
    surname, surname_en = rng.choice(_SURNAMES)
    given = [rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2)))]
    zh = surname + "".join(g for g, _ in given)
    en = f"{surname_en} {''.join(p for _, p in given).capitalize()}"
    return zh, en


# ----- the generated listings -------------------------------------------------------------------


@dataclass
class DemoListing:
    institution_index: int  # into [*marketplace.demo.INSTITUTIONS, *MORE_INSTITUTIONS]
    data: ListingCreate
    status: str  # draft | pending_review | published | withdrawn | archived
    published_days_ago: int | None
    confirmed_days_ago: int | None

    def published_at(self, now: datetime) -> datetime | None:
        return None if self.published_days_ago is None else now - timedelta(days=self.published_days_ago)

    def confirmed_at(self, now: datetime) -> datetime | None:
        return None if self.confirmed_days_ago is None else now - timedelta(days=self.confirmed_days_ago)


_STAGE_TRL = {
    Stage.discovery: (1, 3),
    Stage.preclinical: (3, 5),
    Stage.clinical_1: (5, 6),
    Stage.clinical_2: (6, 7),
    Stage.clinical_3: (7, 8),
    Stage.registered: (8, 9),
    Stage.marketed: (9, 9),
}

_S = Stage
_STAGE_WEIGHTS = {
    ResultType.patent: {_S.discovery: 35, _S.preclinical: 35, _S.clinical_1: 8, _S.clinical_2: 8, _S.clinical_3: 5,
                        _S.registered: 4, _S.marketed: 5},
    ResultType.drug_candidate: {_S.discovery: 20, _S.preclinical: 38, _S.clinical_1: 18, _S.clinical_2: 14,
                                _S.clinical_3: 7, _S.registered: 3},
    ResultType.device: {_S.discovery: 5, _S.preclinical: 30, _S.clinical_1: 15, _S.clinical_2: 15, _S.clinical_3: 12,
                        _S.registered: 13, _S.marketed: 10},
    ResultType.ivd_reagent: {_S.discovery: 5, _S.preclinical: 30, _S.clinical_1: 10, _S.clinical_2: 20, _S.clinical_3: 15,
                             _S.registered: 12, _S.marketed: 8},
    ResultType.software: {_S.discovery: 5, _S.preclinical: 25, _S.clinical_1: 10, _S.clinical_2: 20, _S.clinical_3: 10,
                          _S.registered: 15, _S.marketed: 15},
    ResultType.biomaterial: {_S.discovery: 25, _S.preclinical: 45, _S.clinical_1: 10, _S.clinical_2: 10, _S.clinical_3: 5,
                             _S.registered: 3, _S.marketed: 2},
    ResultType.know_how: {_S.preclinical: 20, _S.clinical_2: 30, _S.clinical_3: 10, _S.marketed: 40},
    ResultType.clinical_data: {_S.discovery: 15, _S.clinical_2: 35, _S.clinical_3: 20, _S.marketed: 30},
}

_RESULT_TYPE_COUNTS = {
    ResultType.patent: 170,
    ResultType.device: 85,
    ResultType.ivd_reagent: 80,
    ResultType.software: 70,
    ResultType.drug_candidate: 65,
    ResultType.biomaterial: 45,
    ResultType.know_how: 45,
    ResultType.clinical_data: 40,
}
_RESOURCE_TYPE_COUNTS = {
    ResourceType.research_ward: 40,
    ResourceType.trial_site: 35,
    ResourceType.pi_team: 40,
    ResourceType.biobank: 30,
    ResourceType.disease_cohort: 30,
    ResourceType.trial_ready_cohort: 20,
    ResourceType.equipment: 30,
    ResourceType.ethics_service: 10,
    ResourceType.data_service: 15,
}
assert sum(_RESULT_TYPE_COUNTS.values()) == RESULT_COUNT
assert sum(_RESOURCE_TYPE_COUNTS.values()) == RESOURCE_COUNT

_STATUS_WEIGHTS = {"published": 85, "draft": 5, "pending_review": 4, "withdrawn": 3, "archived": 3}
_STALE_SHARE = 0.125
_ENGLISH_SHARE = 0.4

_STAGE_TEXT = {
    "drug": {
        _S.discovery: ("目前处于靶点验证与先导化合物优化阶段。", "It is at target-validation and lead-optimisation stage."),
        _S.preclinical: ("已完成药效学与初步毒理研究，正在开展IND申报准备。",
                         "Pharmacology and early toxicology are complete; IND preparation is under way."),
        _S.clinical_1: ("已获临床试验默示许可，I期剂量递增研究正在进行。",
                        "The IND is cleared and a phase I dose-escalation study is running."),
        _S.clinical_2: ("II期临床研究正在多中心开展。", "A multi-centre phase II study is under way."),
        _S.clinical_3: ("III期确证性临床试验正在进行。", "A confirmatory phase III trial is under way."),
        _S.registered: ("已提交上市申请并获受理。", "The marketing application has been filed and accepted."),
        _S.marketed: ("已获批上市。", "It is approved and on the market."),
    },
    "other": {
        _S.discovery: ("目前处于原理验证阶段，已获得初步实验数据。",
                       "It is at proof-of-concept stage with preliminary data."),
        _S.preclinical: ("已完成样机（原型）研制和性能验证。", "A prototype has been built and its performance verified."),
        _S.clinical_1: ("已完成首例临床可行性研究。", "A first-in-human feasibility study is complete."),
        _S.clinical_2: ("多中心临床验证正在进行。", "A multi-centre clinical validation is under way."),
        _S.clinical_3: ("注册临床试验正在进行。", "The registration trial is under way."),
        _S.registered: ("已取得医疗器械注册证。", "It holds a medical device registration certificate."),
        _S.marketed: ("已在本院及多家合作医院常规使用。", "It is in routine use at the hospital and partner hospitals."),
    },
    "proc": {
        _S.preclinical: ("已在本院完成技术验证。", "The technique has been validated at the hospital."),
        _S.clinical_2: ("已在本院常规开展并形成标准操作规程。", "It is routine at the hospital with a written SOP."),
        _S.clinical_3: ("已在多家协作医院推广应用。", "It has been rolled out to several collaborating hospitals."),
        _S.marketed: ("已纳入本院常规诊疗，并面向外院开展培训。", "It is standard care at the hospital, with training for others."),
    },
    "data": {
        _S.discovery: ("数据仍在持续采集，已完成首批数据清洗。", "Collection continues; the first batch has been cleaned."),
        _S.clinical_2: ("已完成数据质控并用于多项院内研究。", "The data are quality-controlled and used in several studies."),
        _S.clinical_3: ("已完成多中心推广验证。", "Multi-centre roll-out and validation are complete."),
        _S.marketed: ("已在本院及协作医院常规应用。", "It is in routine use at the hospital and collaborating sites."),
    },
}

_SEEKING = {
    ResultType.ivd_reagent: ("寻求IVD企业合作完成注册检验、多中心临床试验与产业化。",
                             "We seek an IVD company for registration testing, multi-centre trials and commercialisation."),
    ResultType.device: ("寻求医疗器械企业合作开展注册申报与规模化生产。",
                        "We seek a device company for regulatory submission and scale-up manufacturing."),
    ResultType.software: ("欢迎数字医疗企业洽谈许可或联合开发，共同推进医疗器械软件注册。",
                          "Digital-health companies are welcome to license or co-develop it towards software registration."),
    ResultType.drug_candidate: ("寻求制药企业开展许可引进或联合开发。",
                                "We seek a pharmaceutical partner for in-licensing or co-development."),
    ResultType.biomaterial: ("寻求生物材料或医疗器械企业合作开展中试放大与注册。",
                             "We seek a biomaterials or device company for pilot scale-up and registration."),
    ResultType.know_how: ("可提供技术许可、培训与现场指导。", "A technology licence, training and on-site support are available."),
    ResultType.clinical_data: ("可在数据不出院的前提下，以隐私计算或联合研究方式开放使用。",
                               "Access is offered through privacy-preserving computation or joint research; data stay in the hospital."),
    ResultType.patent: ("专利可转让或许可，欢迎企业洽谈。", "The patent is available for assignment or licensing."),
}

_TYPE_KEYWORD = {
    ResultType.patent: "发明专利",
    ResultType.software: "医疗软件",
    ResultType.ivd_reagent: "体外诊断",
    ResultType.device: "医疗器械",
    ResultType.drug_candidate: "创新药",
    ResultType.biomaterial: "生物材料",
    ResultType.know_how: "技术秘密",
    ResultType.clinical_data: "临床数据",
}


class _Idea(NamedTuple):
    """One result before the common fields: titles, category, disease and evidence text."""

    title_zh: str
    title_en: str
    category: str  # dx | tx | dev | algo | mat | proc | data
    disease: _Disease
    extra_area: str | None
    keywords: list[str]
    need: tuple[str, str]
    evidence: tuple[str, str]


def _pct(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 1)


def _cap(text: str) -> str:
    """Capitalise an English title unless its first word is an acronym or a gene name (iPSC, sFlt-1)."""
    return text if len(text) < 2 or text[1].isupper() else text[0].upper() + text[1:]


_EARLY = (Stage.discovery, Stage.preclinical)


def _dx_idea(rng: random.Random, result_type: str, stage: str) -> _Idea:
    h, h_en, fit, methods, purposes, extra = rng.choice(_DX)
    d = rng.choice(_fit(fit))
    m, m_en = _METHODS[rng.choice(methods)]
    p, p_en = _PURPOSES[rng.choice(purposes)]
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
    sens, spec = _pct(rng, 78, 95), _pct(rng, 82, 97)
    need = (f"现有检测手段对{d.zh}的早期识别能力有限，常需有创取样或反复复查。",
            f"Current tests identify {d.en} late and often need invasive sampling or repeat visits.")
    if stage in _EARLY:
        n = rng.randrange(80, 400, 2)
        evidence = (f"在{n}例回顾性样本的探索性分析中，AUC为{auc}，灵敏度{sens}%，特异度{spec}%。",
                    f"In an exploratory analysis of {n} retrospective samples the AUC was {auc}, "
                    f"with {sens}% sensitivity and {spec}% specificity.")
    else:
        n = rng.randrange(600, 6000, 10)
        evidence = (f"在{n}例多中心样本中，AUC为{auc}，灵敏度{sens}%，特异度{spec}%，优于现行常规检测。",
                    f"In {n} multi-centre samples the AUC was {auc}, with {sens}% sensitivity and {spec}% specificity, "
                    "better than current routine tests.")
    return _Idea(title, _cap(title_en), "dx", d, extra, [d.zh, h, m.removesuffix("法"), p], need, evidence)


def _tx_idea(rng: random.Random, result_type: str, stage: str) -> _Idea:
    h, h_en, fit, extra = rng.choice(_TX)
    d = rng.choice(_fit(fit))
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
    need = (f"{d.zh}现有治疗应答率有限，部分患者出现耐药或不耐受。",
            f"Current therapies for {d.en} have limited response rates; some patients become resistant or intolerant.")
    if stage in _EARLY:
        x = rng.randint(35, 80)
        evidence = (f"在动物模型中，主要疗效指标较对照组改善{x}%，未见明显毒性。",
                    f"In animal models the primary efficacy measure improved by {x}% versus control without notable toxicity.")
    else:
        n, x = rng.randint(24, 320), rng.randint(20, 60)
        evidence = (f"已入组{n}例受试者，初步数据显示安全性良好，主要疗效指标较基线改善{x}%。",
                    f"{n} participants are enrolled; early data show good safety and a {x}% improvement from baseline.")
    return _Idea(title, _cap(title_en), "tx", d, extra, [d.zh, h], need, evidence)


_DEV_ISSUES = [("远期并发症较多", "late complications"), ("操作复杂、学习曲线长", "complex handling and a long learning curve"),
               ("依赖进口、价格较高", "reliance on costly imports"), ("适用人群受限", "a narrow eligible population")]
_DEV_METRICS = [("手术时间", "procedure time"), ("术后并发症发生率", "post-operative complications"),
                ("再干预率", "re-intervention"), ("住院天数", "length of stay")]


def _dev_idea(rng: random.Random, result_type: str, stage: str) -> _Idea:
    h, h_en, fit, mods, extra = rng.choice(_DEV)
    d = rng.choice(_fit(fit))
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
    issue, issue_en = rng.choice(_DEV_ISSUES)
    metric, metric_en = rng.choice(_DEV_METRICS)
    x = rng.randint(15, 55)
    need = (f"现有同类产品用于{d.zh}时存在{issue}等问题。", f"Existing products for {d.en} suffer from {issue_en}.")
    if stage in _EARLY:
        evidence = (f"台架测试与动物实验显示，关键性能指标较对照产品提升{x}%。",
                    f"Bench and animal tests show key performance {x}% better than the reference product.")
    else:
        evidence = (f"临床数据显示，与对照产品相比，{metric}降低{x}%。",
                    f"Clinical data show {x}% less {metric_en} than with the reference product.")
    return _Idea(title, _cap(title_en), "dev", d, extra, [d.zh, h, m], need, evidence)


def _algo_idea(rng: random.Random, result_type: str, stage: str) -> _Idea:
    tpl, tpl_en, tech, tech_en, task, task_en, fit, extra = rng.choice(_ALGO)
    d = rng.choice(_fit(fit))
    if result_type == ResultType.software:
        title, title_en = tpl.format(d=d.zh), tpl_en.format(D=d.en)
    else:
        title = f"一种基于{tech}的{d.zh}{task}方法、装置及存储介质"
        title_en = f"{task_en} method, device and storage medium for {d.en} based on {tech_en}"
    auc, sec = round(rng.uniform(0.85, 0.97), 2), rng.choice((3, 5, 10, 30))
    need = (f"{d.zh}的{task}依赖医生经验，不同医院之间同质化程度低。",
            f"{_cap(task_en)} in {d.en} relies on clinician experience and varies between hospitals.")
    if stage in _EARLY:
        n = rng.randrange(300, 3000, 10)
        evidence = (f"在单中心{n}例回顾性数据上完成初步验证，AUC {auc}。",
                    f"A first validation on {n} single-centre retrospective cases gave an AUC of {auc}.")
    else:
        n = rng.randrange(3000, 60000, 100)
        evidence = (f"基于{n}例多中心数据训练并完成外部验证，AUC {auc}，单例分析时间少于{sec}秒。",
                    f"Trained and externally validated on {n} multi-centre cases (AUC {auc}); a case takes under {sec} s.")
    return _Idea(title, _cap(title_en), "algo", d, extra, [d.zh, tech, task], need, evidence)


def _mat_idea(rng: random.Random, result_type: str, stage: str) -> _Idea:
    h, h_en, fit = rng.choice(_MAT)
    d = rng.choice(_fit(fit))
    if result_type == ResultType.biomaterial:
        if rng.random() < 0.5:
            title, title_en = f"用于{d.zh}的{h}", f"{h_en} for {d.en}"
        else:
            title, title_en = f"面向{d.zh}治疗的{h}", f"{h_en} designed for {d.en} therapy"
    else:
        title = f"一种{h}及其制备方法和在{d.zh}中的应用"
        title_en = f"{h_en}, preparation method thereof and use in {d.en}"
    x = rng.randint(25, 90)
    need = (f"传统材料用于{d.zh}时存在降解不可控、生物相容性不足等局限。",
            f"Conventional materials used in {d.en} degrade unpredictably or integrate poorly.")
    if stage in _EARLY:
        evidence = (f"动物实验显示，组织修复效果较传统材料提高{x}%。",
                    f"Animal studies show {x}% better tissue repair than conventional materials.")
    else:
        evidence = (f"早期临床数据显示，愈合时间较传统材料缩短{min(x, 50)}%。",
                    f"Early clinical data show healing {min(x, 50)}% faster than with conventional materials.")
    return _Idea(title, _cap(title_en), "mat", d, None, [d.zh, h], need, evidence)


def _proc_idea(rng: random.Random) -> _Idea:
    tpl, tpl_en, fit, extra = rng.choice(_PROC)
    d = rng.choice(_fit(fit))
    n, x = rng.randrange(80, 3000, 10), rng.randint(15, 50)
    need = ("该技术已在本院形成标准化流程，可显著缩短学习曲线。",
            "The technique is standardised at the hospital and shortens the learning curve.")
    evidence = (f"已累计应用{n}例，并发症发生率较传统方案降低{x}%。",
                f"It has been used in {n} cases with {x}% fewer complications than the conventional approach.")
    return _Idea(tpl.format(d=d.zh), tpl_en.format(D=d.en), "proc", d, extra, [d.zh, tpl.format(d="").strip()], need,
                 evidence)


_DATA_TYPES = [("临床表型", "clinical phenotypes"), ("影像", "imaging"), ("基因组", "genomics"), ("病理", "pathology"),
               ("实验室检验", "laboratory results"), ("随访结局", "follow-up outcomes"), ("可穿戴设备数据", "wearable data"),
               ("用药记录", "medication records")]


def _data_idea(rng: random.Random) -> _Idea:
    tpl, tpl_en, fit, extra = rng.choice(_DATA)
    d = rng.choice(_fit(fit))
    n, fu = int(10 ** rng.uniform(2.7, 4.5)) // 10 * 10, rng.randint(2, 12)
    types = rng.sample(_DATA_TYPES, 3)
    need = ("数据经过标准化清洗和质控，可支持新药研发、真实世界研究与算法训练。",
            "The data are cleaned and quality-controlled for drug development, real-world studies and algorithm training.")
    evidence = (f"涵盖{n}例患者，中位随访{fu}年，包含{'、'.join(t for t, _ in types)}等数据。",
                f"It covers {n} patients with a median follow-up of {fu} years, including "
                f"{', '.join(t for _, t in types)}.")
    return _Idea(tpl.format(d=d.zh), tpl_en.format(D=d.en), "data", d, extra, [d.zh, types[0][0], "真实世界研究"], need,
                 evidence)


_PATENT_CATEGORY_WEIGHTS = {"dx": 30, "tx": 25, "dev": 20, "algo": 15, "mat": 10}


def _idea(rng: random.Random, result_type: str, stage: str) -> _Idea:
    if result_type == ResultType.patent:
        category = rng.choices(list(_PATENT_CATEGORY_WEIGHTS), list(_PATENT_CATEGORY_WEIGHTS.values()))[0]
    else:
        category = {
            ResultType.ivd_reagent: "dx", ResultType.drug_candidate: "tx", ResultType.device: "dev",
            ResultType.software: "algo", ResultType.biomaterial: "mat", ResultType.know_how: "proc",
            ResultType.clinical_data: "data",
        }[result_type]
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


_ADVANTAGES = {
    "dx": [("无创采样，仅需{s}毫升血液或体液，患者依从性高", "Non-invasive: only {s} mL of blood or body fluid is needed"),
           ("检测周期由{a}天缩短至{b}小时", "Turnaround drops from {a} days to {b} hours"),
           ("可在常规PCR或化学发光平台运行，无需新增设备", "Runs on standard PCR or chemiluminescence platforms"),
           ("单次检测成本较进口同类产品低约{p}%", "Per-test cost is about {p}% below imported alternatives")],
    "tx": [("作用机制新颖，与现有疗法无交叉耐药", "A novel mechanism with no cross-resistance to current therapies"),
           ("口服或长效给药，用药频次减少{p}%", "Oral or long-acting dosing cuts dosing frequency by {p}%"),
           ("选择性高，脱靶毒性低于同类在研药物", "Higher selectivity and lower off-target toxicity than peers"),
           ("生产工艺可放大，成本较现有方案降低约{p}%", "A scalable process about {p}% cheaper than current routes")],
    "dev": [("关键部件国产化，价格较进口产品低约{p}%", "Domestically made key parts, about {p}% cheaper than imports"),
            ("操作步骤减少，培训{a}天即可独立操作", "Fewer steps: clinicians operate it after {a} days of training"),
            ("兼容主流手术平台和耗材", "Compatible with mainstream surgical platforms and consumables"),
            ("远期安全性更好，{b}个月随访未见器械相关严重不良事件",
             "Better long-term safety: no serious device-related events at {b} months")],
    "algo": [("可部署于医院内网或云端，与HIS/PACS无缝对接", "Deploys on-premises or in the cloud and links to HIS/PACS"),
             ("基层医院使用后诊断一致性提升{p}%", "Raises diagnostic agreement in primary care by {p}%"),
             ("可解释性输出，提示关键依据", "Explainable output showing the key evidence"),
             ("阅片或评估时间缩短{p}%", "Cuts reading or assessment time by {p}%")],
    "mat": [("降解速率可调，与组织再生同步", "Tunable degradation that keeps pace with tissue regeneration"),
            ("原料来源稳定，可规模化制备", "Stable raw materials and scalable preparation"),
            ("生物相容性好，炎症反应较对照材料降低{p}%", "Good biocompatibility with {p}% less inflammation than controls"),
            ("可微创注射或术中塑形", "Can be injected minimally invasively or shaped during surgery")],
    "proc": [("流程标准化，可复制推广至基层医院", "A standard, replicable process suited to community hospitals"),
             ("手术或操作时间缩短{p}%", "Shortens procedure time by {p}%"),
             ("配套培训课程与质控指标", "Comes with a training course and quality indicators"),
             ("患者平均住院日减少{a}天", "Reduces average length of stay by {a} days")],
    "data": [("数据结构化程度高，术语按国际标准编码", "Highly structured, coded to international terminologies"),
             ("随访完整率超过{q}%", "Follow-up completeness above {q}%"),
             ("配套生物样本，可开展多组学研究", "Linked biospecimens support multi-omics studies"),
             ("已通过伦理审查和数据安全评估", "Ethics approval and a data-security assessment are in place")],
}


def _advantages(rng: random.Random, category: str) -> tuple[str, str]:
    zh, en = [], []
    for i, (z, e) in enumerate(rng.sample(_ADVANTAGES[category], rng.randint(2, 3)), 1):
        values = {"s": rng.choice((1, 2, 4, 5)), "a": rng.randint(2, 7), "b": rng.randint(2, 24),
                  "p": rng.randint(20, 60), "q": rng.randint(85, 97)}
        zh.append(f"{i}. {z.format(**values)}")
        en.append(f"({i}) {e.format(**values)}.")
    return "；".join(zh) + "。", " ".join(en)


# ----- IP assets --------------------------------------------------------------------------------


def _cn_check(app12: str) -> str:
    total = sum(int(c) * w for c, w in zip(app12, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _random_date(rng: random.Random, first_year: int, last_year: int) -> date:
    start, end = date(first_year, 1, 1), date(last_year, 12, 31)
    return start + timedelta(days=rng.randint(0, (end - start).days))


class _IpFactory:
    """Numbers in the formats each office uses, unique across the whole demo."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make) -> str:
        while True:
            number = make()
            if number not in self.used:
                self.used.add(number)
                return number

    def cn(self, kind: str, filed: date) -> dict:
        rng = self.rng
        type_digit = {IpKind.invention_patent: "1", IpKind.utility_model: "2", IpKind.design_patent: "3"}[kind]
        years = {IpKind.invention_patent: 20, IpKind.utility_model: 10, IpKind.design_patent: 15}[kind]
        age_days = (date(2026, 6, 30) - filed).days
        if kind == IpKind.invention_patent:
            if age_days < 540:
                status = IpStatus.filed
            elif age_days < 1100:
                status = rng.choice((IpStatus.published, IpStatus.granted))
            else:
                status = IpStatus.lapsed if rng.random() < 0.05 else IpStatus.granted
        else:
            status = IpStatus.filed if age_days < 200 else IpStatus.granted

        def make() -> str:
            app = f"{filed.year}{type_digit}{rng.randint(0, 9_999_999):07d}"
            if status == IpStatus.published:
                prefix = min(112 + 2 * max(filed.year - 2020, 0), 119)
                return f"CN{prefix}{rng.randint(0, 999_999):06d}A"
            if status == IpStatus.filed:
                return f"CN{app}.{_cn_check(app)}"
            return f"ZL{app}.{_cn_check(app)}"

        return {"number": self._unique(make), "kind": kind, "jurisdiction": Jurisdiction.CN, "status": status,
                "filing_date": filed, "expiry_date": _add_years(filed, years)}

    def pct(self, filed: date) -> dict:
        number = self._unique(lambda: f"PCT/CN{filed.year}/{self.rng.randint(70_000, 159_999):06d}")
        return {"number": number, "kind": IpKind.pct_application, "jurisdiction": Jurisdiction.PCT,
                "status": IpStatus.published if (date(2026, 6, 30) - filed).days > 400 else IpStatus.filed,
                "filing_date": filed}

    def foreign(self, jurisdiction: str, filed: date) -> dict:
        rng = self.rng
        granted = filed.year <= 2021 and rng.random() < 0.7
        if jurisdiction == Jurisdiction.US:
            if granted:
                make = lambda: f"US {rng.randint(10_800_000, 12_400_000):,} B2"  # noqa: E731
            else:
                make = lambda: f"US {filed.year + 1}/{rng.randint(10_000, 399_999):07d} A1"  # noqa: E731
        else:
            make = lambda: f"EP {rng.randint(3_600_000, 4_400_000)} {'B1' if granted else 'A1'}"  # noqa: E731
        return {"number": self._unique(make), "kind": IpKind.invention_patent, "jurisdiction": jurisdiction,
                "status": IpStatus.granted if granted else IpStatus.published, "filing_date": filed,
                "expiry_date": _add_years(filed, 20)}

    def software_copyright(self, year: int) -> dict:
        number = self._unique(lambda: f"{year}SR{self.rng.randint(10_000, 1_999_999):07d}")
        return {"number": number, "kind": IpKind.software_copyright, "jurisdiction": Jurisdiction.CN,
                "status": IpStatus.granted, "filing_date": _random_date(self.rng, year, year)}

    def family(self, result_type: str, category: str) -> list[dict]:
        rng = self.rng
        if result_type == ResultType.software:
            assets = [self.software_copyright(rng.randint(2018, 2025))]
            if rng.random() < 0.3:
                assets.append(self.cn(IpKind.invention_patent, _random_date(rng, 2017, 2025)))
            return assets
        if result_type in (ResultType.know_how, ResultType.clinical_data):
            return []
        count = {
            ResultType.patent: rng.choice((1, 1, 2, 2, 3)),
            ResultType.drug_candidate: rng.choice((1, 2, 2, 3, 3)),
            ResultType.device: rng.choice((0, 1, 1, 2, 3)),
            ResultType.ivd_reagent: rng.choice((0, 1, 1, 2)),
            ResultType.biomaterial: rng.choice((0, 1, 1, 2)),
        }[result_type]
        if count == 0:
            return []
        base = _random_date(rng, 2014, 2025)
        if category == "dev" and rng.random() < 0.5:
            first = self.cn(rng.choice((IpKind.utility_model, IpKind.utility_model, IpKind.design_patent)), base)
        else:
            first = self.cn(IpKind.invention_patent, base)
        assets = [first]
        pct_filed = base + timedelta(days=rng.randint(300, 364))
        if count >= 2 and pct_filed < date(2026, 6, 1):
            assets.append(self.pct(pct_filed))
            if count >= 3 and pct_filed < date(2024, 6, 1):
                assets.append(self.foreign(rng.choice((Jurisdiction.US, Jurisdiction.EP)), pct_filed))
        elif count >= 2 and category == "dev":
            assets.append(self.cn(IpKind.utility_model, base + timedelta(days=rng.randint(1, 200))))
        return assets


# ----- licensing, inventors, contacts -----------------------------------------------------------

_YEARS_ZH = {1: "一", 2: "两", 3: "三"}


_WITHOUT_PATENT = (ResultType.know_how, ResultType.clinical_data, ResultType.software)


def _licence_terms(rng: random.Random, option: str, stage: str, result_type: str) -> str:
    scale = {_S.discovery: 1, _S.preclinical: 2, _S.clinical_1: 5, _S.clinical_2: 8, _S.clinical_3: 12,
             _S.registered: 20, _S.marketed: 20}[stage]
    if option == LicenceOption.assignment:
        return f"转让：参考价{scale * rng.randint(20, 60)}万元，可分{rng.choice(('两', '三'))}期支付"
    if option == LicenceOption.exclusive:
        term = f"许可期限{rng.choice((5, 8, 10))}年" if result_type in _WITHOUT_PATENT else "许可期限至专利届满"
        return f"独占许可：入门费{scale * rng.randint(10, 40)}万元，另按净销售额{rng.choice((2, 3, 4, 5))}%提成，{term}"
    if option == LicenceOption.non_exclusive:
        return f"普通许可：年许可费{scale * rng.randint(3, 12)}万元，可按适应证或地域分别许可"
    if option == LicenceOption.pay_later:
        years = rng.choice((1, 2, 2, 3))
        return (f"先使用后付费：前{_YEARS_ZH[years]}年免许可费，之后按销售额{rng.choice((2, 3, 3, 4, 5))}%提成；"
                f"{_YEARS_ZH[years]}年内未实施转化的，权利无偿退回")
    if option == LicenceOption.equity:
        return f"作价投资：作价约{scale * rng.randint(50, 200)}万元入股，发明人团队可依政策获得股权奖励"
    return "联合开发：企业承担后续研发费用，形成的新成果共有，收益按约定比例分配"


_OTHER_OPTIONS = [LicenceOption.exclusive, LicenceOption.non_exclusive, LicenceOption.assignment, LicenceOption.equity,
                  LicenceOption.co_development]


def _licence_offers(rng: random.Random, result_type: str, stage: str) -> list[dict]:
    options: list[str] = []
    if rng.random() < 0.25:
        options.append(LicenceOption.pay_later)
    if result_type in (ResultType.know_how, ResultType.clinical_data):
        weights = [15, 40, 5, 3, 30]  # exclusive, non-exclusive, assignment, equity, co-development
    else:
        weights = [30, 25, 15, 15 if result_type in (ResultType.drug_candidate, ResultType.device, ResultType.patent) else 5,
                   20 if stage in _EARLY else 8]
    for _ in range(rng.randint(1, 3) - len(options)):
        choice = rng.choices(_OTHER_OPTIONS, weights)[0]
        if choice not in options:
            options.append(choice)
    if not options:
        options.append(LicenceOption.exclusive)
    return [{"option": o, "terms": _licence_terms(rng, o, stage, result_type)} for o in options]


def _shares(rng: random.Random, n: int) -> list[int]:
    """Basis points that sum to 10,000, largest first, in steps of 500."""
    cuts = sorted(rng.sample(range(1, 20), n - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
    return sorted((p * 500 for p in parts), reverse=True)


def _inventors(rng: random.Random, institution_index: int) -> list[dict]:
    n = rng.choice((1, 2, 2, 3, 3, 3, 4))
    names: list[str] = []
    if institution_index == 0 and rng.random() < 0.3:
        names.append(FOUNDATION_INVENTOR_NAME)
    while len(names) < n:
        name, _ = _person(rng)
        if name not in names:
            names.append(name)
    return [{"name": name, "share_bp": share} for name, share in zip(names, _shares(rng, n), strict=True)]


_PHONE_PREFIX = {"上海": "021-6", "北京": "010-6", "杭州": "0571-8"}


def _contact(rng: random.Random, inst: _InstMeta, office: str, mailbox: str) -> dict:
    name, _ = _person(rng)
    return {
        "contact_name": f"{name}（{office}）",
        "contact_email": f"{mailbox}@{inst.slug}.example",
        "contact_phone": f"{_PHONE_PREFIX[inst.city]}{rng.randint(0, 9_999_999):07d}",
    }


def _unique_keywords(words: list[str], rng: random.Random, extra: list[str]) -> list[str]:
    pool = list(dict.fromkeys(w for w in words if w))
    for word in rng.sample(extra, len(extra)):
        if len(pool) >= 6:
            break
        if word and word not in pool:
            pool.append(word)
    return pool[: rng.randint(min(len(pool), 3), min(len(pool), 6))]


def _areas(*groups) -> list[str]:
    areas: list[str] = []
    for group in groups:
        for area in group or ():
            if area and area not in areas:
                areas.append(area)
    return areas[:3]


# ----- status and dates -------------------------------------------------------------------------


def _status_and_dates(rng: random.Random) -> tuple[str, int | None, int | None]:
    status = rng.choices(list(_STATUS_WEIGHTS), list(_STATUS_WEIGHTS.values()))[0]
    if status != "published":
        return status, None, None
    if rng.random() < _STALE_SHARE:
        published = rng.randint(181, 900)
        return status, published, rng.randint(181, min(400, published))
    published = int(rng.triangular(1, 900, 60))
    return status, published, rng.randint(0, min(published, 180))


# ----- institutions' weights --------------------------------------------------------------------


def _institution_weights(areas: list[str]) -> list[float]:
    """Big hospitals get more; Shanghai more still; specialty hospitals mostly get their own fields."""
    weights = []
    for index, inst in enumerate(_INSTITUTIONS):
        w = inst.beds / 1000 * (1.5 if inst.city == "上海" else 1.0)
        if index < FOUNDATION_INSTITUTION_COUNT:  # the demo logins' institutions, 浦江医学中心 most of all
            w *= 2.5 if index == 0 else 1.5
        if inst.focus and areas:
            w *= 15.0 if any(a in inst.focus for a in areas) else 0.05
        weights.append(w)
    return weights


def _pick_institution(rng: random.Random, areas: list[str], *, gcp: bool = False) -> int:
    weights = _institution_weights(areas)
    if gcp:
        weights = [w if inst.gcp else 0.0 for w, inst in zip(weights, _INSTITUTIONS, strict=True)]
    return rng.choices(range(len(_INSTITUTIONS)), weights)[0]


# ----- results ----------------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.titles: set[str] = set()
        self.ip = _IpFactory(self.rng)
        self.internal_number = 1000
        self.ward_beds_left = [inst.research_beds for inst in _INSTITUTIONS]
        self.ethics_used: set[int] = set()
        # Every GCP-certified institution gets one trial site first; the rest go by weight.
        self.site_queue = [i for i, inst in enumerate(_INSTITUTIONS) if inst.gcp]
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
        stages = _STAGE_WEIGHTS[result_type]
        stage = rng.choices(list(stages), list(stages.values()))[0]
        for _ in range(500):
            idea = _idea(rng, result_type, stage)
            if self.claim_title(idea.title_zh, idea.title_en):
                break
        else:  # pragma: no cover - the vocabulary is far larger than the demo
            raise RuntimeError(f"ran out of distinct titles for {result_type}")
        areas = _areas(idea.disease.areas[: rng.choice((1, 2, 2))], [idea.extra_area])
        index = _pick_institution(rng, areas)
        inst = _INSTITUTIONS[index]
        status, published, confirmed = _status_and_dates(rng)
        lo, hi = _STAGE_TRL[stage]
        ownership = rng.choices(list(OwnershipModel), (55, 15, 15, 15))[0]
        offers = _licence_offers(rng, result_type, stage)
        group = {"tx": "drug", "proc": "proc", "data": "data"}.get(idea.category, "other")
        if stage not in _STAGE_TEXT[group]:
            group = "other"
        english = rng.random() < _ENGLISH_SHARE

        sentences = [idea.need, idea.evidence]
        if rng.random() < 0.8:
            sentences.append(_STAGE_TEXT[group][stage])
        seeking = _SEEKING[result_type]
        if any(o["option"] == LicenceOption.pay_later for o in offers):
            seeking = (seeking[0].removesuffix("。") + "，支持先使用后付费。",
                       seeking[1].removesuffix(".") + "; pay-later licensing is available.")
        sentences.append(seeking)
        if ownership in (OwnershipModel.researchers_ownership, OwnershipModel.researchers_use_right) and len(sentences) < 4:
            sentences.insert(0, ("本成果已按职务科技成果赋权改革，由发明人团队" +
                                 ("享有所有权" if ownership == OwnershipModel.researchers_ownership else "享有长期使用权") + "。",
                                 "Under the service-invention reform, the inventor team holds " +
                                 ("ownership." if ownership == OwnershipModel.researchers_ownership
                                  else "a long-term use right.")))

        has_advantages = status != "draft" or rng.random() < 0.5
        advantages = _advantages(rng, idea.category) if has_advantages else None
        keywords = _unique_keywords([*idea.keywords, _TYPE_KEYWORD[result_type]], rng,
                                    [idea.disease.en if english else "", "成果转化", "产学研合作"])
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
            "inventors": _inventors(rng, index),
            **_contact(rng, inst, "成果转化办公室", "tto"),
        }
        if advantages:
            data["advantages"] = f"{advantages[0]}\n{advantages[1]}" if english else advantages[0]
        if english:
            data["title_en"] = idea.title_en
            data["summary_en"] = " ".join(en for _, en in sentences)
        if rng.random() < 0.85:
            data["confidential_details"] = self.result_secret(idea, result_type, stage)
        return DemoListing(index, msgspec.convert(data, ListingCreate), status, published, confirmed)

    def result_secret(self, idea: _Idea, result_type: str, stage: str) -> str:
        rng = self.rng
        parts = [f"内部编号 MKT-{self.next_internal():04d}。"]
        category = idea.category
        if category == "dx":
            parts.append(f"未公开数据：前瞻性验证队列（n={rng.randint(200, 1500)}）阳性预测值{_pct(rng, 70, 92)}%，"
                         f"阴性预测值{_pct(rng, 93, 99.5)}%。")
            parts.append(f"关键工艺参数：探针终浓度{rng.choice((100, 200, 250, 400))} nM，退火温度{rng.randint(56, 64)}℃，"
                         f"标志物权重系数见附表{rng.randint(2, 6)}。")
        elif category == "tx":
            parts.append(f"未公开数据：大鼠药代动力学半衰期{_pct(rng, 2, 30)} h，"
                         f"最大耐受剂量{rng.choice((30, 50, 100, 200, 300))} mg/kg。")
            parts.append(f"关键工艺参数：合成路线第{rng.randint(3, 9)}步收率{rng.randint(55, 92)}%，"
                         f"关键中间体纯度≥{rng.choice((98.5, 99.0, 99.5))}%。")
        elif category == "dev":
            parts.append(f"未公开数据：{rng.randint(12, 60)}例大动物植入{rng.choice((3, 6, 12))}个月，"
                         f"器械相关不良事件{rng.randint(0, 3)}例。")
            parts.append(f"关键工艺参数：激光切割功率{rng.randint(20, 80)} W，热处理{rng.randint(400, 900)}℃保温"
                         f"{rng.randint(10, 60)} min。")
        elif category == "algo":
            parts.append(f"未公开数据：外部验证集{rng.randint(3, 9)}家医院明细及亚组结果；"
                         f"模型结构与超参数见技术附件{rng.randint(1, 4)}。")
        elif category == "mat":
            parts.append(f"未公开数据：体外降解{rng.randint(4, 24)}周质量保留率{rng.randint(20, 80)}%。")
            parts.append(f"关键工艺参数：交联剂比例{_pct(rng, 0.5, 5)}%，冻干温度-{rng.randint(40, 80)}℃。")
        elif category == "proc":
            parts.append(f"未公开数据：近三年并发症明细与{rng.randint(3, 8)}项关键操作要点，见院内操作手册第"
                         f"{rng.randint(2, 9)}版。")
        else:
            parts.append(f"未公开数据：数据字典{rng.randint(300, 2000)}个字段及脱敏规则，"
                         f"另有{rng.randint(200, 5000)}例待入库病例。")
        if result_type == ResultType.patent and stage in (_S.discovery, _S.preclinical) and rng.random() < 0.5:
            parts.append(f"权利要求草案：独立权利要求{rng.randint(1, 3)}项、从属权利要求{rng.randint(5, 15)}项，待提交。")
        return "".join(parts)

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
        inst = _INSTITUTIONS[index]
        english_en = built.pop("_en")
        contact = _contact(rng, inst, built.pop("_office", "临床研究管理办公室"), built.pop("_mailbox", "gcp"))
        status, published, confirmed = _status_and_dates(rng)
        availability = rng.choices(list(Availability), (75, 18, 7))[0]
        data = {"kind": "resource", "type": resource_type, **built, "availability": availability, **contact}
        if rng.random() < _ENGLISH_SHARE:
            data["title_en"], data["summary_en"] = english_en
        if rng.random() < 0.45:
            data["confidential_details"] = self.resource_secret(resource_type)
        return DemoListing(index, msgspec.convert(data, ListingCreate), status, published, confirmed)

    def resource_secret(self, resource_type: str) -> str:
        rng = self.rng
        head = f"内部编号 MKT-R{self.next_internal():04d}。"
        if resource_type in (ResourceType.biobank,):
            price = f"内部报价：每份样本{rng.choice((80, 120, 200, 350))}元起，联合研究可减免。"
            data = f"未公开数据：近两年样本出库{rng.randint(2000, 40000)}份，复核合格率{_pct(rng, 95, 99.8)}%。"
        elif resource_type in (ResourceType.disease_cohort, ResourceType.data_service):
            price = f"内部报价：单项目数据服务费{rng.randint(5, 60)}万元起。"
            data = f"未公开数据：字段缺失率{_pct(rng, 2, 18)}%，失访率{_pct(rng, 3, 15)}%。"
        elif resource_type == ResourceType.equipment:
            price = f"内部报价：包时段合作价{rng.choice((200, 400, 600, 900))}元/小时。"
            data = f"未公开数据：近12个月机时利用率{rng.randint(40, 95)}%。"
        elif resource_type == ResourceType.ethics_service:
            price = f"内部报价：初始审查费{rng.choice((3000, 5000, 8000))}元/项，快速审查减半。"
            data = f"未公开数据：近12个月初审一次通过率{rng.randint(35, 80)}%。"
        else:
            price = (f"内部报价：每例受试者管理费{rng.randint(2, 12)}千元起，长期合作可下浮{rng.randint(5, 20)}%。")
            data = f"未公开数据：近12个月筛选失败率{rng.randint(10, 45)}%，平均启动周期{rng.randint(6, 14)}周。"
        return head + price + data

    def _specialty_for(self, index: int, exclude: tuple[str, ...] = ()) -> tuple[str, str, tuple[str, ...]]:
        focus = _INSTITUTIONS[index].focus
        allowed = [s for s in _SPECIALTIES if s[0] not in exclude]
        options = [s for s in allowed if not focus or any(a in focus for a in s[2])]
        return self.rng.choice(options or allowed)

    def _pick(self, areas: list[str] | None = None, *, gcp: bool = False) -> int:
        return _pick_institution(self.rng, areas or [], gcp=gcp)

    def _research_ward(self) -> dict | None:
        rng = self.rng
        index = self._pick(gcp=True)
        left = self.ward_beds_left[index]
        if left < 10:
            return None
        beds = min(left, rng.choice((10, 12, 16, 20, 24, 30, 36, 40, 50, 60)))
        spec, spec_en, areas = self._specialty_for(index)
        inst = _INSTITUTIONS[index]
        title = f"{inst.name_zh}研究型病房（{spec}）"
        if title in self.titles:
            return None
        self.ward_beds_left[index] -= beds
        nurses = max(2, beds // 4)
        phases = rng.choice(("I期和II期", "I–III期", "II–IV期"))
        summary = (f"病房设研究床位{beds}张，配备{nurses}名专职研究护士、GCP药房和独立样本处理室，24小时医生值守。"
                   f"可承接{spec}方向{phases}临床试验及研究者发起的临床研究，立项、伦理、合同并联审查。"
                   "研究床位单独管理，不纳入平均住院日等床位效率考核。")
        summary_en = (f"The ward has {beds} research beds, {nurses} dedicated research nurses, a GCP pharmacy and its own "
                      f"sample-processing room, with doctors on site around the clock. It takes {spec_en} trials and "
                      "investigator-initiated studies, with project approval, ethics and contract reviewed in parallel.")
        return {
            "_index": index, "_en": (f"{inst.name_en}: research ward ({spec_en})", summary_en),
            "title_zh": title, "summary_zh": summary,
            "details": {"beds": beds, "specialties": [spec, *rng.sample(_WARD_FEATURES, rng.randint(0, 2))]},
            "therapeutic_areas": list(areas), "keywords": [spec, "研究型病房", "以床引企", "临床试验"][: rng.randint(3, 4)],
            "engagement_modes": [EngagementMode.clinical_trial, EngagementMode.investigator_initiated],
            "pricing_model": rng.choice((PricingModel.per_patient, PricingModel.per_project, PricingModel.negotiable)),
        }

    def _trial_site(self) -> dict | None:
        rng = self.rng
        index = self.site_queue.pop() if self.site_queue else self._pick(gcp=True)
        inst = _INSTITUTIONS[index]
        spec, spec_en, areas = self._specialty_for(index)
        title = f"{inst.name_zh}临床试验机构（{spec}专业）"
        if title in self.titles:
            return None
        phases = sorted(rng.sample(["I", "II", "III", "IV", "BE"], rng.randint(2, 4)), key=["I", "II", "III", "IV", "BE"].index)
        others = [s[0] for s in rng.sample(_SPECIALTIES, 3) if s[0] != spec][: rng.randint(0, 2)]
        active = rng.randint(8, 150)
        weeks = rng.randint(6, 12)
        ethics = ("认可牵头单位伦理审查结论（伦理互认）" if inst.alliance else f"伦理初审平均{rng.randint(7, 20)}个工作日完成")
        summary = (f"机构已完成药物和医疗器械临床试验机构备案，{spec}专业可承接{'、'.join(phases)}期试验，当前在研项目{active}项。"
                   f"立项、伦理、合同并联审查，{ethics}。批准后一般{weeks}周内完成首例受试者知情同意。")
        summary_en = (f"A registered drug and device trial site; the {spec_en} group runs phase {', '.join(phases)} "
                      f"trials and has {active} active studies. Approval, ethics and contract are reviewed in parallel; "
                      f"first consent usually follows approval within {weeks} weeks.")
        return {
            "_index": index, "_en": (f"{inst.name_en}: clinical trial site ({spec_en})", summary_en),
            "title_zh": title, "summary_zh": summary,
            "details": {"phases": phases, "gcp_specialties": [spec, *others], "active_trials": active},
            "therapeutic_areas": list(areas), "keywords": [spec, "GCP", "临床试验机构", "并联审查"][: rng.randint(3, 4)],
            "engagement_modes": [EngagementMode.clinical_trial, EngagementMode.investigator_initiated,
                                 EngagementMode.consulting][: rng.randint(2, 3)],
            "pricing_model": rng.choice((PricingModel.per_project, PricingModel.per_patient)),
        }

    def _pi_team(self) -> dict | None:
        rng = self.rng
        index = self._pick(gcp=True)
        inst = _INSTITUTIONS[index]
        spec, spec_en, areas = self._specialty_for(index)
        name, name_en = _person(rng)
        threshold = inst.threshold
        concurrent = rng.randint(threshold + 1, threshold + 4) if rng.random() < 0.15 else rng.randint(0, threshold)
        completed = rng.randint(4, 90)
        doctors, crcs = rng.randint(3, 15), rng.randint(2, 10)
        summary = (f"{name}教授团队隶属{inst.name_zh}，长期从事{spec}临床研究，已作为主要研究者完成{completed}项临床试验。"
                   f"团队有研究医生{doctors}名、临床研究协调员{crcs}名，熟悉注册试验全流程。"
                   "欢迎企业洽谈临床试验、研究者发起研究与联合开发。")
        summary_en = (f"Prof. {name_en}'s team at {inst.name_en} works in {spec_en} and has completed {completed} "
                      f"trials as principal investigator. It has {doctors} investigators and {crcs} study coordinators.")
        return {
            "_index": index, "_en": (f"Prof. {name_en}'s team ({spec_en})", summary_en),
            "title_zh": f"{name}教授团队（{spec}）", "summary_zh": summary,
            "details": {"pi_name": name, "specialty": spec, "concurrent_trials": concurrent, "completed_trials": completed},
            "therapeutic_areas": list(areas), "keywords": [spec, name, "主要研究者", "临床研究团队"][: rng.randint(3, 4)],
            "engagement_modes": rng.sample([EngagementMode.clinical_trial, EngagementMode.investigator_initiated,
                                            EngagementMode.co_development, EngagementMode.consulting], rng.randint(2, 4)),
            "pricing_model": rng.choice((PricingModel.per_project, PricingModel.negotiable)),
        }

    def _biobank(self) -> dict | None:
        rng = self.rng
        index = self._pick()
        inst = _INSTITUTIONS[index]
        spec, spec_en, areas = self._specialty_for(index, exclude=("康复医学", "麻醉与围术期医学"))
        title = f"{inst.name_zh}{spec}生物样本库"
        if title in self.titles:
            return None
        types = rng.sample(_SAMPLE_TYPES, rng.randint(2, 5))
        count = int(10 ** rng.uniform(3.7, 5.6)) // 100 * 100
        consent = rng.choice(("specific", "broad", "broad", "tiered"))
        consent_zh = {"specific": "采用特定知情同意", "broad": "采用泛知情同意，可用于后续研究", "tiered": "采用分层知情同意"}[consent]
        summary = (f"样本库保存{'、'.join(t for t, _ in types)}等样本约{count}份，均关联临床信息与随访数据，{consent_zh}。"
                   "已取得人类遗传资源保藏相关审批，可按项目提供样本或联合开展研究。")
        summary_en = (f"About {count} samples ({', '.join(e for _, e in types)}) linked to clinical and follow-up data, "
                      f"under {consent} consent. Samples are offered per project or through joint research.")
        return {
            "_index": index, "_en": (f"{inst.name_en}: {spec_en} biobank", summary_en),
            "title_zh": title, "summary_zh": summary,
            "details": {"sample_types": [t for t, _ in types], "sample_count": count, "consent_scope": consent},
            "therapeutic_areas": list(areas),
            "keywords": [spec, "生物样本库", types[0][0], "人类遗传资源"][: rng.randint(3, 4)],
            "engagement_modes": [EngagementMode.sample_access, EngagementMode.co_development][: rng.randint(1, 2)],
            "pricing_model": rng.choice((PricingModel.per_sample, PricingModel.negotiable)),
        }

    def _cohort(self, trial_ready: bool) -> dict | None:
        rng = self.rng
        disease = rng.choice(list(_DISEASES.values()))
        areas = _areas(disease.areas[: rng.choice((1, 2))])
        index = self._pick(areas)
        inst = _INSTITUTIONS[index]
        types = rng.sample(_DATA_TYPES, rng.randint(2, 5))
        if trial_ready:
            size, follow_up = int(10 ** rng.uniform(2.2, 3.6)) // 10 * 10, rng.choice((0.5, 1.0, 1.5, 2.0, 3.0))
            title = f"{disease.zh}临床试验预备队列（{inst.name_zh}）"
            title_en = f"Trial-ready cohort: {disease.en} ({inst.name_en})"
            summary = (f"已完成{size}名{disease.zh}患者的预筛，并取得其同意被联系参加临床试验，记录了主要入排标准相关指标。"
                       "可显著缩短受试者招募时间，支持企业评估入组可行性。")
            summary_en = (f"{size} patients with {disease.en} are pre-screened and have agreed to be contacted about "
                          "trials; key eligibility measures are on record, which shortens recruitment.")
            modes = [EngagementMode.clinical_trial, EngagementMode.investigator_initiated]
            keywords = [disease.zh, "预备队列", "受试者招募"]
        else:
            size, follow_up = int(10 ** rng.uniform(2.7, 4.6)) // 10 * 10, float(rng.randint(1, 15))
            title = f"{inst.name_zh}{disease.zh}专病队列"
            title_en = f"{inst.name_en}: {disease.en} patient cohort"
            summary = (f"队列前瞻性纳入{disease.zh}患者{size}例，中位随访{follow_up:g}年，采集"
                       f"{'、'.join(t for t, _ in types)}等数据。数据按统一标准结构化，可支持真实世界研究、上市后研究和算法训练。")
            summary_en = (f"A prospective cohort of {size} patients with {disease.en}, median follow-up {follow_up:g} years, "
                          f"with {', '.join(e for _, e in types)}.")
            modes = rng.sample([EngagementMode.data_access, EngagementMode.co_development,
                                EngagementMode.investigator_initiated], rng.randint(1, 3))
            keywords = [disease.zh, "专病数据库", "研究队列", "真实世界研究"]
        return {
            "_index": index, "_en": (title_en, summary_en), "title_zh": title, "summary_zh": summary,
            "details": {"disease": disease.zh, "size": size, "follow_up_years": follow_up,
                        "data_types": [t for t, _ in types]},
            "therapeutic_areas": areas, "keywords": keywords[: rng.randint(3, len(keywords))], "engagement_modes": modes,
            "pricing_model": rng.choice((PricingModel.per_project, PricingModel.annual_fee, PricingModel.negotiable)),
            "_mailbox": "data",
        }

    def _disease_cohort(self) -> dict | None:
        return self._cohort(False)

    def _trial_ready_cohort(self) -> dict | None:
        return self._cohort(True)

    def _equipment(self) -> dict | None:
        rng = self.rng
        eq, eq_en, model, maker, areas = rng.choice(_EQUIPMENT)
        index = self._pick(list(areas))
        inst = _INSTITUTIONS[index]
        title = f"{inst.name_zh}{eq}（共享开放）"
        if title in self.titles:
            return None
        days, price = rng.randint(2, 10), rng.choice((300, 500, 800, 1200, 2000, 3500))
        terms = (f"工作日8:00–20:00按小时预约，需提前{days}个工作日在平台提交申请；首次使用须参加操作培训；"
                 f"参考价{price}元/小时（含技术员）。")
        summary = (f"平台配备{eq}（{maker} {model}），面向企业和外单位科研人员开放预约。"
                   "可由技术员代为操作，也可在培训考核后自主使用，并提供实验设计与数据分析咨询。")
        summary_en = (f"A shared {eq_en} ({maker} {model}) open to companies and outside researchers, operated by "
                      "staff or by trained users, with study-design and analysis advice.")
        return {
            "_index": index, "_en": (f"{inst.name_en}: {eq_en} (shared access)", summary_en),
            "title_zh": title, "summary_zh": summary,
            "details": {"model": model, "maker": maker, "booking_terms": terms},
            "therapeutic_areas": list(areas)[: rng.randint(1, len(areas))],
            "keywords": [eq, "大型设备共享", "预约使用"], "_mailbox": "facility", "_office": "科研平台管理办公室",
            "engagement_modes": [EngagementMode.equipment_booking, EngagementMode.consulting][: rng.randint(1, 2)],
            "pricing_model": PricingModel.per_hour,
        }

    def _ethics_service(self) -> dict | None:
        rng = self.rng
        weights = [0.0 if i in self.ethics_used else w * (3 if _INSTITUTIONS[i].alliance else 1)
                   for i, w in enumerate(_institution_weights([]))]
        index = rng.choices(range(len(_INSTITUTIONS)), weights)[0]
        self.ethics_used.add(index)
        inst = _INSTITUTIONS[index]
        committee = f"{inst.name_zh}医学伦理委员会"
        turnaround = rng.randint(5, 21)
        mutual = "认可牵头单位伦理审查结论，参与单位快速审查" if inst.alliance else "为多中心项目提供快速审查通道"
        summary = (f"{committee}按“一套材料、一次提交”受理多中心项目，{mutual}。"
                   f"初始审查平均{turnaround}个工作日出具意见，并提供会前咨询与方案优化建议。")
        summary_en = (f"The {inst.name_en} ethics committee accepts one set of materials in one submission for "
                      f"multi-centre studies; initial review takes {turnaround} working days on average"
                      + (" and lead-site decisions are recognised." if inst.alliance else "."))
        specs = rng.sample(_SPECIALTIES, 2)
        return {
            "_index": index, "_en": (f"{inst.name_en}: ethics review service", summary_en),
            "title_zh": f"{inst.name_zh}伦理审查服务", "summary_zh": summary,
            "details": {"committee": committee, "mutual_recognition": inst.alliance, "turnaround_days": turnaround},
            "therapeutic_areas": _areas(*(s[2] for s in specs))[: rng.randint(1, 3)],
            "keywords": ["伦理审查", "伦理互认" if inst.alliance else "快速审查", "多中心研究"],
            "engagement_modes": [EngagementMode.consulting], "pricing_model": PricingModel.per_project,
            "_mailbox": "ethics", "_office": "伦理委员会办公室",
        }

    def _data_service(self) -> dict | None:
        rng = self.rng
        index = self._pick()
        inst = _INSTITUTIONS[index]
        spec, spec_en, areas = self._specialty_for(index)
        title = f"{inst.name_zh}{spec}临床数据服务"
        if title in self.titles:
            return None
        types = rng.sample(_DATA_TYPES, rng.randint(2, 5))
        governance = ("数据不出院：经隐私计算平台提供联合统计与建模，结果经人工审核后导出；按数据分级分类制度审批，"
                      "涉及人类遗传资源的依法办理审批或备案。")
        summary = (f"基于医院{spec}专病数据库，提供{'、'.join(t for t, _ in types)}的检索、统计与联合建模服务。"
                   "数据不出院，采用隐私计算与分级授权，符合健康医疗数据安全管理要求。")
        summary_en = (f"Search, statistics and joint modelling over the hospital's {spec_en} data "
                      f"({', '.join(e for _, e in types)}), with privacy-preserving computation; data stay in the hospital.")
        return {
            "_index": index, "_en": (f"{inst.name_en}: {spec_en} clinical data service", summary_en),
            "title_zh": title, "summary_zh": summary,
            "details": {"data_types": [t for t, _ in types], "governance": governance},
            "therapeutic_areas": list(areas), "keywords": [spec, "隐私计算", "数据服务", "真实世界研究"][: rng.randint(3, 4)],
            "engagement_modes": rng.sample([EngagementMode.data_access, EngagementMode.consulting,
                                            EngagementMode.co_development], rng.randint(1, 3)),
            "pricing_model": rng.choice((PricingModel.annual_fee, PricingModel.per_project, PricingModel.negotiable)),
            "_mailbox": "data", "_office": "数据管理中心",
        }


_SPECIALTIES = [
    ("肿瘤早期临床", "early-phase oncology", ("oncology",)),
    ("血液肿瘤与细胞治疗", "hematologic malignancies and cell therapy", ("hematology", "oncology")),
    ("心血管介入", "cardiovascular intervention", ("cardiovascular",)),
    ("神经退行性疾病", "neurodegenerative diseases", ("neurology", "geriatrics")),
    ("精神心理", "mental health", ("psychiatry",)),
    ("内分泌代谢", "endocrinology and metabolism", ("endocrinology",)),
    ("呼吸与危重症", "respiratory and critical care", ("respiratory", "critical_care")),
    ("消化与肝病", "digestive and liver diseases", ("digestive",)),
    ("感染性疾病", "infectious diseases", ("infectious",)),
    ("风湿免疫", "rheumatology and immunology", ("immunology",)),
    ("肾脏病", "kidney diseases", ("nephrology",)),
    ("眼科", "ophthalmology", ("ophthalmology",)),
    ("皮肤病", "dermatology", ("dermatology",)),
    ("骨科与运动医学", "orthopedics and sports medicine", ("orthopedics", "rehabilitation")),
    ("妇产与生殖", "obstetrics and reproductive medicine", ("obstetrics",)),
    ("儿科", "pediatrics", ("pediatrics",)),
    ("罕见病", "rare diseases", ("rare_diseases",)),
    ("老年医学", "geriatric medicine", ("geriatrics",)),
    ("口腔医学", "stomatology", ("stomatology",)),
    ("康复医学", "rehabilitation medicine", ("rehabilitation",)),
    ("重症医学", "critical care medicine", ("critical_care",)),
    ("中医药", "traditional Chinese medicine", ("traditional_chinese_medicine",)),
    ("麻醉与围术期医学", "anesthesia and perioperative medicine", ("anesthesia",)),
]
_WARD_FEATURES = ["I期临床", "生物等效性试验", "细胞治疗", "首次人体试验", "药代动力学研究", "器械临床试验"]
_SAMPLE_TYPES = [("血浆", "plasma"), ("血清", "serum"), ("新鲜冻存组织", "fresh-frozen tissue"),
                 ("石蜡包埋组织", "FFPE tissue"), ("外周血单个核细胞", "PBMCs"), ("DNA", "DNA"), ("尿液", "urine"),
                 ("粪便", "stool"), ("脑脊液", "cerebrospinal fluid"), ("唾液", "saliva")]
_EQUIPMENT = [
    ("7T全身磁共振成像系统", "7T whole-body MRI system", "HX-7T", "衡析医疗", ("medical_imaging", "neurology")),
    ("光子计数能谱CT", "photon-counting spectral CT", "PCT-880", "澄光影像", ("medical_imaging", "cardiovascular")),
    ("一体化PET/MR", "integrated PET/MR", "NV-PM3", "Norvale Imaging", ("medical_imaging", "oncology", "neurology")),
    ("冷冻电镜", "cryo-electron microscope", "KC-300", "Kestrel Instruments", ("oncology", "infectious")),
    ("单细胞测序平台", "single-cell sequencing platform", "SC-Flex 2", "启序生物", ("oncology", "immunology", "hematology")),
    ("空间转录组平台", "spatial transcriptomics platform", "ST-View", "启序生物", ("oncology", "neurology")),
    ("高分辨质谱仪", "high-resolution mass spectrometer", "Q-Orbis 480", "衡析仪器", ("endocrinology", "digestive")),
    ("流式细胞分选仪", "flow cytometry cell sorter", "FS-5L", "Kestrel Instruments", ("hematology", "immunology")),
    ("GMP细胞制备中心", "GMP cell-manufacturing suite", "C级洁净区 6间", "院内自建", ("hematology", "oncology")),
    ("腔镜手术机器人（科研与培训时段）", "surgical robot (research and training slots)", "SR-4", "澄光医疗",
     ("oncology", "digestive")),
    ("大动物实验中心", "large-animal laboratory", "DSA与手术室 2套", "院内自建", ("cardiovascular", "orthopedics")),
    ("自适应光学视网膜成像系统", "adaptive-optics retinal imaging system", "AO-Retina 2", "明眸光电", ("ophthalmology",)),
    ("步态与运动分析实验室", "gait and motion analysis laboratory", "MoCap-12", "Norvale Motion",
     ("rehabilitation", "orthopedics")),
    ("口腔锥形束CT与数字化修复平台", "dental CBCT and digital restoration platform", "DC-3D", "澄光影像",
     ("stomatology", "medical_imaging")),
    ("中药指纹图谱分析平台", "TCM fingerprint analysis platform", "UPLC-QTOF", "衡析仪器", ("traditional_chinese_medicine",)),
    ("麻醉与危重症模拟中心", "anesthesia and critical care simulation centre", "SimMan-Pro", "Norvale Medical",
     ("anesthesia", "critical_care")),
    ("睡眠监测中心", "sleep laboratory", "PSG-64", "明眸电子", ("respiratory", "psychiatry")),
]


def demo_listings(seed: int = 2026) -> list[DemoListing]:
    """600 results then 250 clinical resources, the same for the same seed."""
    builder = _Builder(seed)
    rng = builder.rng
    result_types = [t for t, n in _RESULT_TYPE_COUNTS.items() for _ in range(n)]
    rng.shuffle(result_types)
    listings = [builder.result(t) for t in result_types]
    resource_types = [t for t, n in _RESOURCE_TYPE_COUNTS.items() for _ in range(n)]
    rng.shuffle(resource_types)
    listings += [builder.resource(t) for t in resource_types]
    return listings
