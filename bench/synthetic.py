"""A synthetic catalogue for the search benchmark: institutions across cities and N listings with
realistic Chinese and English text, every search facet populated, deterministic for a seed.

Pure data, no database access. Titles and summaries are composed from vocabularies of the field
(diseases by therapeutic area, diagnostic techniques, drug targets and modalities, devices,
biomaterials, clinical specialties, research equipment), so queries built from the same
vocabularies (`QUERY_TERMS`) hit realistic shares of the catalogue. All organizations and people
are invented.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate

from marketplace.accounts.organizations import OrganizationInput
from marketplace.catalog.lifecycle import STALE_AFTER
from marketplace.catalog.models import (
    Availability,
    EngagementMode,
    LicenceOption,
    OwnershipModel,
    PricingModel,
    ResourceType,
    ResultType,
    Stage,
)

# ----- institutions -------------------------------------------------------------------------------

CITIES = [  # (city, how many institutions)
    ("上海", 20),
    ("北京", 20),
    ("杭州", 12),
    ("广州", 14),
    ("深圳", 10),
    ("成都", 12),
    ("武汉", 12),
    ("南京", 12),
    ("西安", 10),
    ("重庆", 10),
    ("天津", 10),
    ("长沙", 10),
    ("苏州", 8),
    ("郑州", 8),
    ("济南", 8),
    ("沈阳", 8),
]
# Invented place-like names, with their pinyin for the English names and e-mail domains.
NAME_PARTS = [
    ("云锦", "Yunjin"),
    ("松涛", "Songtao"),
    ("明湖", "Minghu"),
    ("青岚", "Qinglan"),
    ("翠屏", "Cuiping"),
    ("白鹭", "Bailu"),
    ("临川", "Linchuan"),
    ("望海", "Wanghai"),
    ("清源", "Qingyuan"),
    ("凤栖", "Fengqi"),
    ("玉泉", "Yuquan"),
    ("长乐", "Changle"),
    ("天衡", "Tianheng"),
    ("嘉禾", "Jiahe"),
    ("澄江", "Chengjiang"),
    ("紫阳", "Ziyang"),
    ("春晖", "Chunhui"),
    ("瑞安", "Ruian"),
    ("鹿鸣", "Luming"),
    ("星河", "Xinghe"),
    ("南屏", "Nanping"),
    ("北苑", "Beiyuan"),
    ("东篱", "Dongli"),
    ("西岭", "Xiling"),
    ("锦屏", "Jinping"),
    ("沧浪", "Canglang"),
    ("兰台", "Lantai"),
    ("鸿渐", "Hongjian"),
    ("岱宗", "Daizong"),
    ("知春", "Zhichun"),
]
ORDINALS = [("一", "First"), ("二", "Second"), ("三", "Third"), ("四", "Fourth"), ("五", "Fifth"), ("六", "Sixth")]
# (Chinese pattern, English pattern, focus areas; () is a general hospital), with a weight.
INSTITUTION_KINDS = [
    ("{p}大学附属第{o}医院", "{O} Affiliated Hospital of {P} University", (), 6),
    ("{p}医学中心", "{P} Medical Center", (), 3),
    ("{p}肿瘤医院", "{P} Cancer Hospital", ("oncology", "hematology"), 2),
    ("{p}儿童医学中心", "{P} Children's Medical Center", ("pediatrics", "rare_diseases"), 1),
    ("{p}心血管病医院", "{P} Cardiovascular Hospital", ("cardiovascular", "critical_care"), 1),
    ("{p}中医医院", "{P} Hospital of Traditional Chinese Medicine", ("traditional_chinese_medicine",), 1),
    ("{p}精神卫生中心", "{P} Mental Health Center", ("psychiatry", "neurology"), 1),
    ("{p}妇产科医院", "{P} Obstetrics and Gynecology Hospital", ("obstetrics", "pediatrics"), 1),
    ("{p}眼科医院", "{P} Eye Hospital", ("ophthalmology",), 1),
    ("{p}口腔医院", "{P} Stomatological Hospital", ("stomatology",), 1),
    ("{p}传染病医院", "{P} Infectious Disease Hospital", ("infectious", "respiratory", "critical_care"), 1),
    ("{p}康复医学中心", "{P} Rehabilitation Medical Center", ("rehabilitation", "geriatrics", "orthopedics"), 1),
]


@dataclass
class Institution:
    data: OrganizationInput
    slug: str
    focus: tuple[str, ...]
    weight: float  # how much it publishes, by size


def institutions(seed: int) -> list[Institution]:
    rng = random.Random(f"{seed}-institutions")
    out: list[Institution] = []
    used: set[str] = set()
    kinds = [k for k in INSTITUTION_KINDS for _ in range(k[3])]
    for city, count in CITIES:
        for _ in range(count):
            while True:
                zh, en, focus, _w = rng.choice(kinds)
                (p, p_en), (o, o_en) = rng.choice(NAME_PARTS), rng.choice(ORDINALS)
                name = f"{city}{zh.format(p=p, o=o)}"
                if name not in used:
                    used.add(name)
                    break
            beds = rng.randrange(600, 4200, 50) if not focus else rng.randrange(400, 1800, 50)
            data = OrganizationInput(
                kind="institution",
                name_zh=name,
                name_en=en.format(P=p_en, O=o_en),
                city=city,
                grade=rng.choice(("3A", "3A", "3A", "3B")),
                approved_beds=beds,
                research_beds=rng.randint(beds // 40, beds // 10),
                gcp_certified=rng.random() < 0.85,
                ethics_alliance_member=rng.random() < 0.5,
                pi_concurrent_trial_threshold=rng.randint(3, 8),
            )
            out.append(Institution(data, f"{p_en.lower()}{len(out)}", focus, beds / 1000))
    return out


# ----- vocabularies -------------------------------------------------------------------------------

DISEASES = [  # (Chinese, English, therapeutic areas)
    ("肺癌", "lung cancer", ("oncology", "respiratory")),
    ("肝细胞癌", "hepatocellular carcinoma", ("oncology", "digestive")),
    ("胃癌", "gastric cancer", ("oncology", "digestive")),
    ("结直肠癌", "colorectal cancer", ("oncology", "digestive")),
    ("乳腺癌", "breast cancer", ("oncology",)),
    ("食管癌", "oesophageal cancer", ("oncology", "digestive")),
    ("胰腺癌", "pancreatic cancer", ("oncology", "digestive")),
    ("宫颈癌", "cervical cancer", ("oncology", "obstetrics")),
    ("前列腺癌", "prostate cancer", ("oncology", "nephrology")),
    ("鼻咽癌", "nasopharyngeal carcinoma", ("oncology",)),
    ("甲状腺癌", "thyroid cancer", ("oncology", "endocrinology")),
    ("胶质瘤", "glioma", ("oncology", "neurology")),
    ("卵巢癌", "ovarian cancer", ("oncology", "obstetrics")),
    ("黑色素瘤", "melanoma", ("oncology", "dermatology")),
    ("急性髓系白血病", "acute myeloid leukaemia", ("hematology", "oncology")),
    ("多发性骨髓瘤", "multiple myeloma", ("hematology", "oncology")),
    ("弥漫大B细胞淋巴瘤", "diffuse large B-cell lymphoma", ("hematology", "oncology")),
    ("地中海贫血", "thalassaemia", ("hematology", "rare_diseases")),
    ("冠心病", "coronary heart disease", ("cardiovascular",)),
    ("心力衰竭", "heart failure", ("cardiovascular",)),
    ("心房颤动", "atrial fibrillation", ("cardiovascular",)),
    ("高血压", "hypertension", ("cardiovascular",)),
    ("主动脉夹层", "aortic dissection", ("cardiovascular", "critical_care")),
    ("阿尔茨海默病", "Alzheimer's disease", ("neurology", "geriatrics")),
    ("帕金森病", "Parkinson's disease", ("neurology", "geriatrics")),
    ("缺血性脑卒中", "ischaemic stroke", ("neurology", "rehabilitation")),
    ("癫痫", "epilepsy", ("neurology", "pediatrics")),
    ("多发性硬化", "multiple sclerosis", ("neurology", "immunology")),
    ("抑郁症", "depression", ("psychiatry",)),
    ("精神分裂症", "schizophrenia", ("psychiatry",)),
    ("孤独症谱系障碍", "autism spectrum disorder", ("psychiatry", "pediatrics")),
    ("失眠障碍", "insomnia", ("psychiatry", "neurology")),
    ("2型糖尿病", "type 2 diabetes", ("endocrinology",)),
    ("肥胖症", "obesity", ("endocrinology",)),
    ("骨质疏松症", "osteoporosis", ("endocrinology", "orthopedics", "geriatrics")),
    ("慢性阻塞性肺疾病", "chronic obstructive pulmonary disease", ("respiratory",)),
    ("哮喘", "asthma", ("respiratory",)),
    ("肺纤维化", "pulmonary fibrosis", ("respiratory",)),
    ("肺结节", "pulmonary nodules", ("respiratory", "oncology")),
    ("炎症性肠病", "inflammatory bowel disease", ("digestive", "immunology")),
    ("非酒精性脂肪性肝病", "non-alcoholic fatty liver disease", ("digestive", "endocrinology")),
    ("肝硬化", "liver cirrhosis", ("digestive",)),
    ("乙型肝炎", "hepatitis B", ("infectious", "digestive")),
    ("结核病", "tuberculosis", ("infectious", "respiratory")),
    ("脓毒症", "sepsis", ("critical_care", "infectious")),
    ("耐药菌感染", "drug-resistant bacterial infection", ("infectious",)),
    ("类风湿关节炎", "rheumatoid arthritis", ("immunology",)),
    ("系统性红斑狼疮", "systemic lupus erythematosus", ("immunology", "rare_diseases")),
    ("强直性脊柱炎", "ankylosing spondylitis", ("immunology", "orthopedics")),
    ("银屑病", "psoriasis", ("dermatology", "immunology")),
    ("特应性皮炎", "atopic dermatitis", ("dermatology", "pediatrics")),
    ("白癜风", "vitiligo", ("dermatology",)),
    ("慢性肾脏病", "chronic kidney disease", ("nephrology",)),
    ("IgA肾病", "IgA nephropathy", ("nephrology", "immunology")),
    ("急性肾损伤", "acute kidney injury", ("nephrology", "critical_care")),
    ("糖尿病视网膜病变", "diabetic retinopathy", ("ophthalmology", "endocrinology")),
    ("青光眼", "glaucoma", ("ophthalmology",)),
    ("年龄相关性黄斑变性", "age-related macular degeneration", ("ophthalmology", "geriatrics")),
    ("高度近视", "high myopia", ("ophthalmology",)),
    ("骨关节炎", "osteoarthritis", ("orthopedics", "geriatrics")),
    ("脊柱侧凸", "scoliosis", ("orthopedics", "pediatrics")),
    ("骨缺损", "bone defects", ("orthopedics",)),
    ("子痫前期", "pre-eclampsia", ("obstetrics",)),
    ("早产", "preterm birth", ("obstetrics", "pediatrics")),
    ("妊娠期糖尿病", "gestational diabetes", ("obstetrics", "endocrinology")),
    ("多囊卵巢综合征", "polycystic ovary syndrome", ("obstetrics", "endocrinology")),
    ("川崎病", "Kawasaki disease", ("pediatrics", "cardiovascular")),
    ("新生儿黄疸", "neonatal jaundice", ("pediatrics",)),
    ("脊髓性肌萎缩症", "spinal muscular atrophy", ("rare_diseases", "neurology")),
    ("血友病", "haemophilia", ("rare_diseases", "hematology")),
    ("法布雷病", "Fabry disease", ("rare_diseases", "nephrology")),
    ("杜氏肌营养不良", "Duchenne muscular dystrophy", ("rare_diseases", "pediatrics")),
    ("肌少症", "sarcopenia", ("geriatrics", "rehabilitation")),
    ("衰弱综合征", "frailty", ("geriatrics",)),
    ("牙周炎", "periodontitis", ("stomatology",)),
    ("口腔鳞状细胞癌", "oral squamous cell carcinoma", ("stomatology", "oncology")),
    ("龋病", "dental caries", ("stomatology", "pediatrics")),
    ("脊髓损伤", "spinal cord injury", ("rehabilitation", "orthopedics")),
    ("急性呼吸窘迫综合征", "acute respiratory distress syndrome", ("critical_care", "respiratory")),
    ("术后疼痛", "post-operative pain", ("anesthesia",)),
    ("术后谵妄", "post-operative delirium", ("anesthesia", "geriatrics")),
    ("慢性胃炎", "chronic gastritis", ("digestive", "traditional_chinese_medicine")),
    ("失眠", "sleeplessness", ("traditional_chinese_medicine", "psychiatry")),
]
DX_TECHNIQUES = [
    ("循环肿瘤DNA甲基化", "ctDNA methylation"),
    ("液体活检", "liquid biopsy"),
    ("外泌体", "exosome"),
    ("数字PCR", "digital PCR"),
    ("荧光定量PCR", "real-time PCR"),
    ("宏基因组测序", "metagenomic sequencing"),
    ("单细胞测序", "single-cell sequencing"),
    ("化学发光免疫分析", "chemiluminescence immunoassay"),
    ("微流控芯片", "microfluidic chip"),
    ("质谱", "mass spectrometry"),
    ("蛋白质组学", "proteomics"),
    ("代谢组学", "metabolomics"),
    ("多重免疫荧光", "multiplex immunofluorescence"),
    ("纳米孔测序", "nanopore sequencing"),
    ("CRISPR核酸检测", "CRISPR-based nucleic-acid detection"),
    ("微小RNA", "microRNA"),
    ("循环肿瘤细胞", "circulating tumour cells"),
    ("自身抗体谱", "autoantibody panel"),
    ("高通量测序", "next-generation sequencing"),
]
PURPOSES = [
    ("早期筛查", "early screening"),
    ("辅助诊断", "diagnosis"),
    ("预后评估", "prognosis"),
    ("疗效预测", "treatment-response prediction"),
    ("复发监测", "recurrence monitoring"),
    ("伴随诊断", "companion diagnostics"),
    ("风险评估", "risk assessment"),
    ("分子分型", "molecular subtyping"),
]
TARGETS = [
    "EGFR",
    "HER2",
    "KRAS G12C",
    "PD-L1",
    "CD19",
    "BCMA",
    "Claudin 18.2",
    "GLP-1",
    "PCSK9",
    "IL-17A",
    "JAK1",
    "BTK",
    "FGFR2",
    "TROP2",
    "NLRP3",
    "SGLT2",
    "tau",
    "CD47",
]
MODALITIES = [
    ("小分子抑制剂", "small-molecule inhibitor"),
    ("单克隆抗体", "monoclonal antibody"),
    ("双特异性抗体", "bispecific antibody"),
    ("抗体偶联药物", "antibody-drug conjugate"),
    ("CAR-T细胞疗法", "CAR-T cell therapy"),
    ("小干扰RNA", "siRNA"),
    ("mRNA疫苗", "mRNA vaccine"),
    ("多肽药物", "peptide drug"),
    ("溶瘤病毒", "oncolytic virus"),
    ("基因治疗载体", "gene therapy vector"),
    ("间充质干细胞制剂", "mesenchymal stem cell product"),
    ("中药复方制剂", "traditional Chinese medicine formula"),
]
DEVICES = [  # (Chinese, English, areas)
    ("可降解冠脉支架", "bioresorbable coronary stent", ("cardiovascular",)),
    ("经导管主动脉瓣系统", "transcatheter aortic valve system", ("cardiovascular",)),
    ("介入栓塞微球", "embolic microspheres", ("oncology",)),
    ("脑深部电刺激器", "deep brain stimulator", ("neurology",)),
    ("可穿戴心电贴", "wearable ECG patch", ("cardiovascular",)),
    ("连续血糖监测系统", "continuous glucose monitoring system", ("endocrinology",)),
    ("骨科手术导航系统", "orthopaedic surgical navigation system", ("orthopedics",)),
    ("下肢康复外骨骼", "lower-limb rehabilitation exoskeleton", ("rehabilitation",)),
    ("智能输液泵", "smart infusion pump", ("critical_care",)),
    ("腔镜吻合器", "endoscopic stapler", ("digestive",)),
    ("磁控胶囊内镜", "magnetically guided capsule endoscope", ("digestive",)),
    ("无创呼吸机", "non-invasive ventilator", ("respiratory", "critical_care")),
    ("隐形矫治器", "clear aligner", ("stomatology",)),
    ("3D打印个性化骨植入物", "3D-printed patient-specific bone implant", ("orthopedics",)),
    ("超声内镜穿刺针", "EUS fine-needle biopsy needle", ("digestive", "oncology")),
    ("眼底激光治疗仪", "retinal laser photocoagulator", ("ophthalmology",)),
    ("经颅磁刺激仪", "transcranial magnetic stimulator", ("psychiatry", "neurology")),
    ("新生儿无创胆红素监测仪", "non-invasive neonatal bilirubin monitor", ("pediatrics",)),
]
DEVICE_FEATURES = [
    ("低剖面", "low-profile"),
    ("药物洗脱", "drug-eluting"),
    ("无线供能", "wirelessly powered"),
    ("自适应算法", "adaptive-algorithm"),
    ("一次性使用", "single-use"),
    ("磁导航", "magnetically navigated"),
    ("远程监测", "remotely monitored"),
    ("小型化", "miniaturised"),
]
IMAGING = [
    ("CT", "CT"),
    ("磁共振", "MRI"),
    ("病理切片", "pathology slides"),
    ("眼底照相", "fundus photographs"),
    ("心电图", "ECGs"),
    ("超声", "ultrasound"),
    ("内镜图像", "endoscopy images"),
    ("胸部X线", "chest X-rays"),
]
MATERIALS = [
    ("可注射水凝胶", "injectable hydrogel"),
    ("丝素蛋白支架", "silk fibroin scaffold"),
    ("脱细胞基质", "decellularised matrix"),
    ("生物活性玻璃", "bioactive glass"),
    ("可降解镁合金", "biodegradable magnesium alloy"),
    ("静电纺纳米纤维膜", "electrospun nanofibre membrane"),
    ("抗菌涂层", "antibacterial coating"),
]
APPLICATIONS = [
    ("骨缺损修复", "bone-defect repair", "orthopedics"),
    ("慢性创面愈合", "chronic wound healing", "dermatology"),
    ("软骨再生", "cartilage regeneration", "orthopedics"),
    ("周围神经修复", "peripheral nerve repair", "neurology"),
    ("牙周组织再生", "periodontal regeneration", "stomatology"),
    ("心肌修复", "myocardial repair", "cardiovascular"),
]
PROCEDURES = [
    ("微创手术技术规范", "minimally invasive surgery protocol"),
    ("围术期管理方案", "perioperative management protocol"),
    ("多学科诊疗路径", "multidisciplinary care pathway"),
    ("康复训练方案", "rehabilitation programme"),
    ("专科护理技术", "specialist nursing technique"),
    ("中医特色疗法", "traditional Chinese medicine therapy"),
]
DATA_TYPES = [
    ("临床表型", "clinical phenotypes"),
    ("影像", "imaging"),
    ("基因组", "genomics"),
    ("病理", "pathology"),
    ("随访结局", "follow-up outcomes"),
    ("检验结果", "laboratory results"),
    ("用药记录", "medication records"),
]
SPECIALTIES = [  # (Chinese, English, areas)
    ("肿瘤早期临床", "early-phase oncology", ("oncology",)),
    ("血液肿瘤与细胞治疗", "haematological malignancies and cell therapy", ("hematology", "oncology")),
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
    ("骨科与运动医学", "orthopaedics and sports medicine", ("orthopedics",)),
    ("妇产与生殖", "obstetrics and reproductive medicine", ("obstetrics",)),
    ("儿科", "paediatrics", ("pediatrics",)),
    ("罕见病", "rare diseases", ("rare_diseases",)),
    ("老年医学", "geriatric medicine", ("geriatrics",)),
    ("口腔医学", "stomatology", ("stomatology",)),
    ("康复医学", "rehabilitation medicine", ("rehabilitation",)),
    ("重症医学", "critical care medicine", ("critical_care",)),
    ("中医药", "traditional Chinese medicine", ("traditional_chinese_medicine",)),
    ("麻醉与围术期医学", "anaesthesia and perioperative medicine", ("anesthesia",)),
    ("医学影像", "medical imaging", ("medical_imaging",)),
]
EQUIPMENT = [  # (Chinese, English, model, maker, areas)
    ("7T全身磁共振成像系统", "7T whole-body MRI system", "HX-7T", "衡析医疗", ("medical_imaging", "neurology")),
    ("光子计数能谱CT", "photon-counting spectral CT", "PCT-880", "澄光影像", ("medical_imaging", "cardiovascular")),
    ("一体化PET/MR", "integrated PET/MR", "NV-PM3", "Norvale Imaging", ("medical_imaging", "oncology")),
    ("冷冻电镜", "cryo-electron microscope", "KC-300", "Kestrel Instruments", ("oncology", "infectious")),
    ("单细胞测序平台", "single-cell sequencing platform", "SC-Flex 2", "启序生物", ("oncology", "immunology")),
    ("空间转录组平台", "spatial transcriptomics platform", "ST-View", "启序生物", ("oncology", "neurology")),
    ("高分辨质谱仪", "high-resolution mass spectrometer", "Q-Orbis 480", "衡析仪器", ("endocrinology", "digestive")),
    ("流式细胞分选仪", "flow cytometry cell sorter", "FS-5L", "Kestrel Instruments", ("hematology", "immunology")),
    ("GMP细胞制备中心", "GMP cell-manufacturing suite", "C级洁净区", "院内自建", ("hematology", "oncology")),
    ("大动物实验中心", "large-animal laboratory", "DSA与手术室", "院内自建", ("cardiovascular", "orthopedics")),
    (
        "步态与运动分析实验室",
        "gait and motion analysis laboratory",
        "MoCap-12",
        "Norvale Motion",
        ("rehabilitation", "orthopedics"),
    ),
    ("睡眠监测中心", "sleep laboratory", "PSG-64", "明眸电子", ("respiratory", "psychiatry")),
]
SAMPLE_TYPES = [
    ("血浆", "plasma"),
    ("血清", "serum"),
    ("新鲜冻存组织", "fresh-frozen tissue"),
    ("石蜡包埋组织", "FFPE tissue"),
    ("外周血单个核细胞", "PBMCs"),
    ("DNA", "DNA"),
    ("尿液", "urine"),
    ("粪便", "stool"),
    ("脑脊液", "cerebrospinal fluid"),
]
SURNAMES = [
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
    ("何", "He"),
    ("林", "Lin"),
    ("罗", "Luo"),
    ("高", "Gao"),
]
GIVEN = [
    ("建国", "Jianguo"),
    ("晓明", "Xiaoming"),
    ("丽华", "Lihua"),
    ("志强", "Zhiqiang"),
    ("海燕", "Haiyan"),
    ("文博", "Wenbo"),
    ("静怡", "Jingyi"),
    ("立新", "Lixin"),
    ("卫东", "Weidong"),
    ("雪梅", "Xuemei"),
    ("思远", "Siyuan"),
    ("振华", "Zhenhua"),
    ("敏", "Min"),
    ("伟", "Wei"),
    ("宁", "Ning"),
    ("悦", "Yue"),
    ("涛", "Tao"),
    ("颖", "Ying"),
]

# Words people type, drawn from the same vocabularies (the benchmark's query mix uses them).
QUERY_TERMS = {
    "zh": [d[0] for d in DISEASES]
    + [t[0] for t in DX_TECHNIQUES]
    + [m[0] for m in MODALITIES]
    + [d[0] for d in DEVICES]
    + [s[0] for s in SPECIALTIES]
    + [e[0] for e in EQUIPMENT]
    + [m[0] for m in MATERIALS]
    + [
        "研究型病房",
        "生物样本库",
        "专病队列",
        "临床试验",
        "伦理审查",
        "先使用后付费",
        "人工智能",
        "试剂盒",
        "细胞治疗",
        "真实世界研究",
    ],
    "en": [d[1] for d in DISEASES]
    + [t[1] for t in DX_TECHNIQUES]
    + [m[1] for m in MODALITIES]
    + [d[1] for d in DEVICES]
    + [
        "research ward",
        "biobank",
        "patient cohort",
        "clinical trial",
        "ethics review",
        "pay later",
        "AI",
        "kit",
        "cell therapy",
        "real-world evidence",
    ],
    "purpose_zh": [p[0] for p in PURPOSES],
    "purpose_en": [p[1] for p in PURPOSES],
    "targets": TARGETS,
}

# ----- listings -----------------------------------------------------------------------------------

RESULT_TYPES = {
    ResultType.patent: 30,
    ResultType.ivd_reagent: 14,
    ResultType.device: 16,
    ResultType.drug_candidate: 10,
    ResultType.software: 12,
    ResultType.biomaterial: 6,
    ResultType.know_how: 7,
    ResultType.clinical_data: 5,
}
RESOURCE_TYPES = {
    ResourceType.research_ward: 10,
    ResourceType.trial_site: 12,
    ResourceType.pi_team: 25,
    ResourceType.biobank: 12,
    ResourceType.disease_cohort: 15,
    ResourceType.trial_ready_cohort: 8,
    ResourceType.equipment: 10,
    ResourceType.ethics_service: 3,
    ResourceType.data_service: 5,
}
RESULT_SHARE = 0.7
ENGLISH_SHARE = 0.65
STALE_SHARE = 0.12
# Not published: the index must not hold them (a twentieth of N on top of the N published).
UNPUBLISHED = ("draft", "pending_review", "withdrawn", "archived")
STAGE_TRL = {
    Stage.discovery: (1, 3),
    Stage.preclinical: (3, 5),
    Stage.clinical_1: (5, 6),
    Stage.clinical_2: (6, 7),
    Stage.clinical_3: (7, 8),
    Stage.registered: (8, 9),
    Stage.marketed: (9, 9),
}
STAGE_WEIGHTS = {
    Stage.discovery: 12,
    Stage.preclinical: 35,
    Stage.clinical_1: 12,
    Stage.clinical_2: 10,
    Stage.clinical_3: 6,
    Stage.registered: 15,
    Stage.marketed: 10,
}
OTHER_OPTIONS = [str(o) for o in LicenceOption if o != LicenceOption.pay_later]
OWNERSHIP = [str(o) for o in OwnershipModel]
AVAILABILITY = [str(a) for a in Availability]
PAY_LATER_TERMS = "先使用后付费：使用期{y}年内免许可费，期满按销售额{r}%支付或退出，权利回归医院。"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class Row:
    """One listing as its table rows: the listing's columns, its areas and its inventors."""

    listing: dict
    areas: list[str]
    inventors: list[dict] = field(default_factory=list)


class Generator:
    def __init__(self, seed: int, insts: list[tuple[uuid.UUID, Institution]], now: datetime) -> None:
        self.rng = random.Random(seed)
        self.insts = insts
        self.now = now
        self.cum_weights = list(accumulate(inst.weight for _, inst in insts))
        self.fitting: dict[tuple[str, ...], list[int]] = {}
        self.by_area: dict[str, list[int]] = {}
        for i, (_, inst) in enumerate(insts):
            for area in inst.focus:
                self.by_area.setdefault(area, []).append(i)
        self.result_types, self.result_weights = list(RESULT_TYPES), list(RESULT_TYPES.values())
        self.resource_types, self.resource_weights = list(RESOURCE_TYPES), list(RESOURCE_TYPES.values())
        self.stages, self.stage_weights = list(STAGE_WEIGHTS), list(STAGE_WEIGHTS.values())

    # -- helpers ----------------------------------------------------------------------------------

    def pick_institution(self, areas: tuple[str, ...] | list[str]) -> int:
        """A specialised hospital of the field half of the time, else any, by size."""
        rng = self.rng
        key = tuple(areas)
        if key not in self.fitting:
            self.fitting[key] = [i for area in key for i in self.by_area.get(area, ())]
        fitting = self.fitting[key]
        if fitting and rng.random() < 0.5:
            return rng.choice(fitting)
        return rng.choices(range(len(self.insts)), cum_weights=self.cum_weights)[0]

    def person(self) -> tuple[str, str]:
        (s, s_en), (g, g_en) = self.rng.choice(SURNAMES), self.rng.choice(GIVEN)
        return s + g, f"{g_en} {s_en}"

    def dates(self, stale: bool) -> tuple[datetime, datetime]:
        """Published within three years; confirmed within 170 days, or for stale ones more than
        180 days ago (clear of the boundary, so the stale job finds nothing to change)."""
        rng = self.rng
        if stale:
            confirmed = self.now - STALE_AFTER - timedelta(days=rng.uniform(5, 400))
            published = confirmed - timedelta(days=rng.uniform(0, 300))
        else:
            published = self.now - timedelta(days=rng.uniform(1, 1100))
            confirmed = max(published, self.now - timedelta(days=rng.uniform(0, 170)))
        return published, confirmed

    # -- one listing ------------------------------------------------------------------------------

    def row(self, status: str = "published") -> Row:
        rng = self.rng
        if rng.random() < RESULT_SHARE:
            kind, type_ = "result", rng.choices(self.result_types, self.result_weights)[0]
            text = self.result_text(type_)
        else:
            kind, type_ = "resource", rng.choices(self.resource_types, self.resource_weights)[0]
            text = self.resource_text(type_)
        index, areas = text.pop("_index"), text.pop("_areas")
        inst_id, inst = self.insts[index]
        english = rng.random() < ENGLISH_SHARE
        stale = rng.random() < STALE_SHARE
        published, confirmed = self.dates(stale)
        listing_id = _uuid(rng)
        listing = {
            "id": listing_id,
            "institution_id": inst_id,
            "owner_kind": "institution",
            "kind": kind,
            "type": str(type_),
            "status": status,
            "title_zh": text["title_zh"][:200],
            "title_en": text["title_en"][:300] if english else None,
            "summary_zh": text["summary_zh"],
            "summary_en": text["summary_en"] if english else None,
            "confidential_details": "关键工艺参数与未公开数据仅在签署保密协议后提供。",
            "keywords": text["keywords"],
            "contact_name": "技术转移办公室",
            "contact_email": f"tto@{inst.slug}.example",
            "contact_phone": f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "stage": None,
            "trl": None,
            "advantages": None,
            "ownership_model": None,
            "licence_options": [],
            "licence_terms": "{}",
            "details": "{}",
            "engagement_modes": [],
            "pricing_model": None,
            "availability": None,
            "created_by_user_id": None,
            "published_at": None,
            "confirmed_at": None,
            "is_stale": False,
            "created_at": published,
            "updated_at": confirmed,
        }
        if status in ("published", "withdrawn", "archived"):
            listing |= {"published_at": published, "confirmed_at": confirmed, "is_stale": stale}
        row = Row(listing, areas)
        if kind == "result":
            stage = rng.choices(self.stages, self.stage_weights)[0]
            options = rng.sample(OTHER_OPTIONS, rng.randint(1, 3))
            if rng.random() < 0.3:
                options.append(LicenceOption.pay_later)
            terms = {
                o: (PAY_LATER_TERMS.format(y=rng.randint(1, 3), r=rng.choice((2, 3, 5))) if o == LicenceOption.pay_later else "")
                for o in options
            }
            listing |= {
                "stage": str(stage),
                "trl": rng.randint(*STAGE_TRL[stage]),
                "advantages": text["advantages"],
                "ownership_model": rng.choice(OWNERSHIP),
                "licence_options": [str(o) for o in options],
                "licence_terms": json.dumps(terms, ensure_ascii=False),
            }
            count = rng.randint(1, 3)
            cuts = sorted(rng.sample(range(1, 10_000), count - 1))
            shares = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=False)]
            row.inventors = [
                {
                    "id": _uuid(rng),
                    "listing_id": listing_id,
                    "position": i,
                    "user_id": None,
                    "name": self.person()[0],
                    "share_bp": share,
                }
                for i, share in enumerate(shares)
            ]
        else:
            listing |= {
                "details": json.dumps(text["details"], ensure_ascii=False),
                "engagement_modes": [str(m) for m in text["modes"]],
                "pricing_model": str(text["pricing"]),
                "availability": rng.choices(AVAILABILITY, (70, 25, 5))[0],
            }
        return row

    # -- results ----------------------------------------------------------------------------------

    def result_text(self, type_: str) -> dict:
        rng = self.rng
        dz, den, dareas = rng.choice(DISEASES)
        n = rng.randint(120, 3000)
        if type_ == ResultType.ivd_reagent or (type_ == ResultType.patent and rng.random() < 0.4):
            (tz, ten), (pz, pen) = rng.choice(DX_TECHNIQUES), rng.choice(PURPOSES)
            sens, spec = rng.uniform(82, 97), rng.uniform(85, 98)
            if type_ == ResultType.ivd_reagent:
                title, title_en = f"{dz}{pz}{tz}检测试剂盒", f"{_cap(ten)} kit for {pen} of {den}"
            else:
                title, title_en = f"一种基于{tz}的{dz}{pz}方法", f"Method for {pen} of {den} based on {ten}"
            summary = (
                f"本成果基于{tz}技术建立{dz}{pz}方案，在{n}例回顾性样本中灵敏度{sens:.1f}%、特异度{spec:.1f}%。"
                f"检测流程可在常规检验科完成，适用于{dz}高危人群与临床随访。"
            )
            summary_en = (
                f"A {ten} assay for {pen} of {den}; in {n} retrospective samples it reached {sens:.1f}% "
                f"sensitivity and {spec:.1f}% specificity, on equipment found in routine laboratories."
            )
            advantages = f"较现有方法灵敏度提高约{rng.randint(5, 25)}%，单次检测成本低于{rng.choice((80, 150, 300, 500))}元，报告时间缩短至{rng.randint(1, 3)}天。"
            keywords = [dz, tz, pz, "体外诊断"]
            areas = list(dareas)
        elif type_ == ResultType.drug_candidate or (type_ == ResultType.patent and rng.random() < 0.4):
            target, (mz, men) = rng.choice(TARGETS), rng.choice(MODALITIES)
            if type_ == ResultType.drug_candidate:
                title, title_en = f"靶向{target}的{mz}（{dz}）", f"{target}-targeted {men} for {den}"
            else:
                title, title_en = (
                    f"一种靶向{target}的{mz}及其在{dz}治疗中的应用",
                    f"A {target}-targeted {men} and its use in {den}",
                )
            summary = (
                f"针对{dz}中{target}通路的异常激活，团队设计了新型{mz}。在动物模型中肿瘤或病灶负荷降低"
                f"{rng.randint(30, 85)}%，安全窗较宽；已完成药效学与初步毒理研究。"
            )
            summary_en = (
                f"A new {men} against {target} signalling in {den}. In animal models it reduced disease burden "
                f"by {rng.randint(30, 85)}% with a wide safety margin; pharmacodynamics and early toxicology are done."
            )
            advantages = f"与同类在研药物相比选择性提高{rng.randint(3, 20)}倍，可口服或长效给药，具备自主知识产权。"
            keywords = [dz, target, mz, "新药研发"]
            areas = list(dareas)
            if "中药" in mz:
                areas.append("traditional_chinese_medicine")
        elif type_ in (ResultType.device, ResultType.patent):
            (vz, ven, vareas), (fz, fen) = rng.choice(DEVICES), rng.choice(DEVICE_FEATURES)
            title, title_en = f"{fz}{vz}", f"{_cap(fen)} {ven}"
            if type_ == ResultType.patent:
                title, title_en = f"一种{fz}{vz}及其制备方法", f"A {fen} {ven} and its manufacture"
            summary = (
                f"针对现有{vz}操作复杂、并发症较多的问题，研发{fz}{vz}。动物实验及{rng.randint(20, 200)}例"
                f"临床探索性使用显示操作时间缩短{rng.randint(15, 45)}%，并发症发生率明显下降。"
            )
            summary_en = (
                f"A {fen} {ven} that is simpler to use than current devices; animal studies and early clinical use "
                f"cut procedure time by {rng.randint(15, 45)}% with fewer complications."
            )
            advantages = f"结构简单、成本可控，关键部件可国产化，已形成{rng.randint(2, 8)}项专利组合。"
            keywords = [vz, fz, "医疗器械"]
            areas = list(vareas)
        elif type_ == ResultType.software:
            (iz, ien) = rng.choice(IMAGING)
            if rng.random() < 0.6:
                title, title_en = f"基于深度学习的{dz}{iz}人工智能辅助诊断软件", f"AI-assisted {den} diagnosis software for {ien}"
                areas = [*dareas, "medical_imaging"]
            else:
                title, title_en = f"{dz}风险预测模型与临床决策支持系统", f"{_cap(den)} risk prediction and decision support"
                areas = list(dareas)
            auc = rng.uniform(0.82, 0.96)
            summary = (
                f"利用{n}例患者的{iz}与临床数据训练模型，外部验证AUC达{auc:.2f}。"
                "系统可嵌入医院信息系统，实时提示高风险患者并生成结构化报告。"
            )
            summary_en = (
                f"Trained on {ien} and clinical data of {n} patients, external validation AUC {auc:.2f}; "
                "it plugs into hospital information systems and flags high-risk patients."
            )
            advantages = f"阅片时间缩短{rng.randint(30, 70)}%，支持国产化服务器部署，已取得软件著作权。"
            keywords = [dz, "人工智能", iz, "深度学习"]
        elif type_ == ResultType.biomaterial:
            (mz, men), (az, aen, area) = rng.choice(MATERIALS), rng.choice(APPLICATIONS)
            title, title_en = f"用于{az}的{mz}", f"{_cap(men)} for {aen}"
            summary = (
                f"研发的{mz}具有良好的生物相容性与可控降解速率，在大动物模型中{az}效果优于对照材料，"
                f"愈合时间缩短{rng.randint(20, 50)}%。"
            )
            summary_en = (
                f"A {men} with good biocompatibility and controlled degradation; in large-animal models it "
                f"outperformed control materials for {aen}."
            )
            advantages = "原料来源稳定，可规模化制备，灭菌后性能稳定。"
            keywords = [mz, az, "生物材料"]
            areas = [area]
        elif type_ == ResultType.know_how:
            pz, pen = rng.choice(PROCEDURES)
            title, title_en = f"{dz}{pz}", f"{_cap(den)}: {pen}"
            summary = (
                f"总结{n}例{dz}患者的诊疗经验，形成标准化{pz}，可缩短住院日{rng.randint(1, 4)}天，"
                "降低再入院率，适合在区域医疗中心推广。"
            )
            summary_en = f"A standardised {pen} for {den}, drawn from {n} patients; it shortens stays and lowers readmissions."
            advantages = "配套培训课程与质控指标，易于复制推广。"
            keywords = [dz, pz, "技术秘密"]
            areas = list(dareas)
            if "中医" in pz:
                areas.append("traditional_chinese_medicine")
        else:  # clinical data
            types = rng.sample(DATA_TYPES, 3)
            title, title_en = f"{dz}多中心临床数据集", f"Multicentre clinical dataset of {den}"
            summary = (
                f"数据集覆盖{n}例{dz}患者，包含{'、'.join(t for t, _ in types)}等数据，经脱敏与质控，"
                "可用于模型训练、真实世界研究与上市后评价。"
            )
            summary_en = (
                f"{n} patients with {den}: {', '.join(e for _, e in types)}; de-identified and quality-controlled "
                "for model training and real-world evidence."
            )
            advantages = "数据标准统一，随访完整率高于90%。"
            keywords = [dz, "临床数据", "真实世界研究"]
            areas = list(dareas)
        areas = list(dict.fromkeys(areas))[:3]
        return {
            "_index": self.pick_institution(areas),
            "_areas": areas,
            "title_zh": title,
            "title_en": title_en,
            "summary_zh": summary,
            "summary_en": summary_en,
            "advantages": advantages,
            "keywords": list(dict.fromkeys(keywords)),
        }

    # -- clinical resources -----------------------------------------------------------------------

    def resource_text(self, type_: str) -> dict:
        rng = self.rng
        sz, sen, sareas = rng.choice(SPECIALTIES)
        dz, den, dareas = rng.choice(DISEASES)
        index = self.pick_institution(sareas)
        inst = self.insts[index][1].data
        name, name_en = inst.name_zh, inst.name_en
        areas = list(sareas)
        if type_ == ResourceType.research_ward:
            beds = rng.randint(8, 60)
            title, title_en = f"{name}{sz}研究型病房", f"{name_en}: {sen} research ward"
            summary = (
                f"研究型病房设{beds}张床位，配备抢救设备与专职研究护士，可承接I期临床、生物等效性试验与{sz}方向的研究者发起研究。"
            )
            summary_en = (
                f"A research ward with {beds} beds and dedicated research nurses for phase I, bioequivalence and {sen} studies."
            )
            details = {"beds": beds, "specialties": [sz]}
            modes, pricing = [EngagementMode.clinical_trial, EngagementMode.investigator_initiated], PricingModel.per_patient
            keywords = ["研究型病房", sz, "I期临床"]
        elif type_ == ResourceType.trial_site:
            phases = sorted(rng.sample(["I", "II", "III", "IV", "BE"], rng.randint(2, 4)))
            active = rng.randint(5, 120)
            title, title_en = f"{name}{sz}药物临床试验机构", f"{name_en}: {sen} clinical trial site"
            summary = f"机构已备案{sz}专业，可承接{'、'.join(phases)}期临床试验，目前在研项目{active}项，启动周期约{rng.randint(4, 12)}周。"
            summary_en = f"A registered {sen} trial site for phases {', '.join(phases)} with {active} active trials."
            details = {"phases": phases, "gcp_specialties": [sz], "active_trials": active}
            modes, pricing = [EngagementMode.clinical_trial], PricingModel.per_project
            keywords = ["临床试验", sz, "GCP"]
        elif type_ == ResourceType.pi_team:
            pi, pi_en = self.person()
            done = rng.randint(4, 90)
            title, title_en = f"{pi}教授团队（{sz}）", f"Prof. {pi_en}'s team ({sen})"
            summary = f"{pi}教授团队隶属{name}，长期从事{sz}临床研究，已作为主要研究者完成{done}项临床试验，擅长{dz}相关研究。"
            summary_en = (
                f"Prof. {pi_en}'s team at {name_en} works in {sen} and has completed {done} trials, with a focus on {den}."
            )
            details = {"pi_name": pi, "specialty": sz, "concurrent_trials": rng.randint(0, 8), "completed_trials": done}
            modes = rng.sample(
                [
                    EngagementMode.clinical_trial,
                    EngagementMode.investigator_initiated,
                    EngagementMode.co_development,
                    EngagementMode.consulting,
                ],
                2,
            )
            pricing = PricingModel.negotiable
            keywords = [sz, pi, "主要研究者", dz]
            areas = list(dict.fromkeys([*sareas, *dareas]))
        elif type_ == ResourceType.biobank:
            samples = rng.sample(SAMPLE_TYPES, rng.randint(2, 4))
            count = rng.randrange(2000, 400_000, 100)
            title, title_en = f"{name}{dz}生物样本库", f"{name_en}: {den} biobank"
            summary = (
                f"样本库保存{dz}患者{'、'.join(s for s, _ in samples)}等样本约{count}份，均关联临床与随访数据，采用泛知情同意。"
            )
            summary_en = (
                f"About {count} {den} samples ({', '.join(e for _, e in samples)}) linked to clinical and follow-up data."
            )
            details = {
                "sample_types": [s for s, _ in samples],
                "sample_count": count,
                "consent_scope": rng.choice(("specific", "broad", "tiered")),
            }
            modes, pricing = [EngagementMode.sample_access], PricingModel.per_sample
            keywords = ["生物样本库", dz, samples[0][0]]
            areas = list(dareas)
        elif type_ in (ResourceType.disease_cohort, ResourceType.trial_ready_cohort):
            size, years = rng.randrange(200, 60_000, 10), float(rng.randint(1, 12))
            types = rng.sample(DATA_TYPES, 3)
            if type_ == ResourceType.trial_ready_cohort:
                title, title_en = f"{dz}临床试验预备队列（{name}）", f"Trial-ready cohort: {den} ({name_en})"
                summary = f"已完成{size}名{dz}患者预筛并同意被联系参加临床试验，可显著缩短受试者招募时间。"
                summary_en = f"{size} pre-screened patients with {den} who agreed to be contacted about trials."
                keywords = [dz, "预备队列", "受试者招募"]
            else:
                title, title_en = f"{name}{dz}专病队列", f"{name_en}: {den} patient cohort"
                summary = f"前瞻性纳入{dz}患者{size}例，中位随访{years:g}年，采集{'、'.join(t for t, _ in types)}等数据，支持真实世界研究。"
                summary_en = f"A prospective cohort of {size} patients with {den}, median follow-up {years:g} years."
                keywords = [dz, "专病数据库", "真实世界研究"]
            details = {"disease": dz, "size": size, "follow_up_years": years, "data_types": [t for t, _ in types]}
            modes, pricing = [EngagementMode.data_access, EngagementMode.investigator_initiated], PricingModel.per_project
            areas = list(dareas)
        elif type_ == ResourceType.equipment:
            ez, een, model, maker, eareas = rng.choice(EQUIPMENT)
            title, title_en = f"{name}{ez}（共享开放）", f"{name_en}: {een} (shared access)"
            summary = f"平台配备{ez}（{maker} {model}），面向企业与外单位开放预约，可由技术员代为操作并提供数据分析咨询。"
            summary_en = f"A shared {een} ({maker} {model}) open to companies, operated by staff, with analysis advice."
            details = {"model": model, "maker": maker, "booking_terms": f"提前{rng.randint(2, 10)}个工作日预约，按小时计费。"}
            modes, pricing = [EngagementMode.equipment_booking], PricingModel.per_hour
            keywords = [ez, "大型设备共享"]
            areas = list(eareas)
        elif type_ == ResourceType.ethics_service:
            days = rng.randint(5, 21)
            title, title_en = f"{name}伦理审查服务", f"{name_en}: ethics review service"
            summary = f"医学伦理委员会受理多中心项目，{'认可牵头单位伦理审查结论' if inst.ethics_alliance_member else '提供快速审查通道'}，平均{days}个工作日出具意见。"
            summary_en = f"The {name_en} ethics committee reviews multi-centre studies in {days} working days on average."
            details = {
                "committee": f"{name}医学伦理委员会",
                "mutual_recognition": inst.ethics_alliance_member,
                "turnaround_days": days,
            }
            modes, pricing = [EngagementMode.consulting], PricingModel.per_project
            keywords = ["伦理审查", "伦理互认" if inst.ethics_alliance_member else "快速审查"]
        else:  # data service
            types = rng.sample(DATA_TYPES, 3)
            title, title_en = f"{name}{sz}临床数据服务", f"{name_en}: {sen} clinical data service"
            summary = (
                f"基于{sz}专病数据库提供{'、'.join(t for t, _ in types)}的检索、统计与联合建模服务，数据不出院，采用隐私计算。"
            )
            summary_en = (
                f"Statistics and joint modelling over {sen} data ({', '.join(e for _, e in types)}); data stay in the hospital."
            )
            details = {"data_types": [t for t, _ in types], "governance": "数据不出院，经隐私计算平台提供联合统计与建模。"}
            modes, pricing = [EngagementMode.data_access, EngagementMode.consulting], PricingModel.annual_fee
            keywords = [sz, "隐私计算", "数据服务"]
        return {
            "_index": index,
            "_areas": areas[:3],
            "title_zh": title,
            "title_en": title_en,
            "summary_zh": summary,
            "summary_en": summary_en,
            "details": details,
            "modes": modes,
            "pricing": pricing,
            "keywords": list(dict.fromkeys(keywords)),
        }


def listings(seed: int, insts: list[tuple[uuid.UUID, Institution]], n: int, now: datetime):
    """N published listings, then N/20 in the other states, in chunks of rows."""
    generator = Generator(seed, insts, now)
    chunk: list[Row] = []
    for i in range(n + n // 20):
        status = "published" if i < n else UNPUBLISHED[i % len(UNPUBLISHED)]
        chunk.append(generator.row(status))
        if len(chunk) == 5000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
