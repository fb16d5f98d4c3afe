"""Place names in English: the cities and districts organizations are in are written in Chinese
(上海, 徐汇区); English pages show them as people write them in English (Shanghai, Xuhui District).
The table covers the municipalities, provincial capitals and other large cities, and every district
of the cities the platform serves first; a name not in it is shown as written."""

from __future__ import annotations

import re

from markupsafe import Markup

from marketplace.i18n import current_locale

HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")

CITIES = {
    "上海": "Shanghai", "北京": "Beijing", "天津": "Tianjin", "重庆": "Chongqing", "杭州": "Hangzhou",
    "广州": "Guangzhou", "深圳": "Shenzhen", "南京": "Nanjing", "苏州": "Suzhou", "武汉": "Wuhan",
    "成都": "Chengdu", "西安": "Xi'an", "长沙": "Changsha", "郑州": "Zhengzhou", "济南": "Jinan",
    "青岛": "Qingdao", "沈阳": "Shenyang", "大连": "Dalian", "哈尔滨": "Harbin", "长春": "Changchun",
    "石家庄": "Shijiazhuang", "太原": "Taiyuan", "合肥": "Hefei", "福州": "Fuzhou", "厦门": "Xiamen",
    "南昌": "Nanchang", "南宁": "Nanning", "昆明": "Kunming", "贵阳": "Guiyang", "海口": "Haikou",
    "兰州": "Lanzhou", "西宁": "Xining", "银川": "Yinchuan", "乌鲁木齐": "Ürümqi", "呼和浩特": "Hohhot",
    "拉萨": "Lhasa", "宁波": "Ningbo", "无锡": "Wuxi", "温州": "Wenzhou", "绍兴": "Shaoxing",
    "嘉兴": "Jiaxing", "湖州": "Huzhou", "金华": "Jinhua", "台州": "Taizhou", "常州": "Changzhou",
    "南通": "Nantong", "珠海": "Zhuhai", "佛山": "Foshan", "东莞": "Dongguan", "香港": "Hong Kong",
    "澳门": "Macao", "其他": "Other",
}  # fmt: skip

DISTRICTS = {
    # 上海
    "黄浦区": "Huangpu", "徐汇区": "Xuhui", "长宁区": "Changning", "静安区": "Jing'an", "普陀区": "Putuo",
    "虹口区": "Hongkou", "杨浦区": "Yangpu", "闵行区": "Minhang", "宝山区": "Baoshan", "嘉定区": "Jiading",
    "浦东新区": "Pudong New Area", "金山区": "Jinshan", "松江区": "Songjiang", "青浦区": "Qingpu",
    "奉贤区": "Fengxian", "崇明区": "Chongming",
    # 北京
    "东城区": "Dongcheng", "西城区": "Xicheng", "朝阳区": "Chaoyang", "丰台区": "Fengtai",
    "石景山区": "Shijingshan", "海淀区": "Haidian", "门头沟区": "Mentougou", "房山区": "Fangshan",
    "通州区": "Tongzhou", "顺义区": "Shunyi", "昌平区": "Changping", "大兴区": "Daxing", "怀柔区": "Huairou",
    "平谷区": "Pinggu", "密云区": "Miyun", "延庆区": "Yanqing",
    # 杭州
    "上城区": "Shangcheng", "拱墅区": "Gongshu", "西湖区": "Xihu", "滨江区": "Binjiang", "萧山区": "Xiaoshan",
    "余杭区": "Yuhang", "临平区": "Linping", "钱塘区": "Qiantang", "富阳区": "Fuyang", "临安区": "Lin'an",
}  # fmt: skip


def english_place(name: str | None, table: dict[str, str]) -> str:
    if not name:
        return ""
    found = table.get(name.strip())
    if found is None:
        return name
    return found if found.endswith("Area") or table is CITIES or found == "Other" else f"{found} District"


def city(name: str | None) -> str:
    """A city's name in the page's language (Jinja filter `city`)."""
    return english_place(name, CITIES) if current_locale.get() == "en" else (name or "")


def district(name: str | None) -> str:
    """A district's name in the page's language (Jinja filter `district`)."""
    return english_place(name, DISTRICTS) if current_locale.get() == "en" else (name or "")


def place(city_name: str | None, district_name: str | None = None) -> str:
    """ "上海 · 徐汇区" / "Xuhui District, Shanghai" (Jinja global `place`)."""
    if current_locale.get() != "en":
        return " · ".join(part for part in (city_name, district_name) if part)
    return ", ".join(part for part in (district(district_name), city(city_name)) if part)


def zh_lang(text: str | None) -> Markup:
    """` lang="zh-CN"` for text people wrote in Chinese shown on an English page (an organization
    without an English name), so the page says which parts are Chinese; nothing otherwise."""
    if current_locale.get() == "en" and text and HAN.search(text):
        return Markup(' lang="zh-CN"')
    return Markup("")
