"""The data contract: the annual school workbook (学校年度数据表) column by column, its enumerations, units and Chinese
labels (data-contract.md §1). The lowest layer of the package: the standards, the engine, io and the web all build on
it, and it imports nothing of theirs.

This table is the public interface counties exchange. A change is a new ``TEMPLATE_VERSION``; old files keep
importing. Each column has an English key (used in code, CSV and JSON) and the Chinese header of the template;
the reader accepts either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TEMPLATE_VERSION = 2
#: Version 2 (2026) added the G3 small-rural room counts (``music_rooms_small_rural``, ``art_rooms_small_rural``);
#: version 1 workbooks read unchanged (those columns are optional, blank when absent).

Kind = Literal["int", "number", "year", "text", "code6", "enum"]

SCHOOL_SHEET = "学校"
COUNTY_SHEET = "县级指标"
NOTES_SHEET = "填表说明"

YES_NO = ("是", "否")
VERDICT = ("达标", "不达标", "待补充")
FINDING = ("不存在", "存在")  # a veto finding (一票否决事项核查结论): 存在 = the situation was found

SCHOOL_TYPES = (
    "小学",
    "初中",
    "九年一贯制学校",
    "十二年一贯制学校",
    "完全中学",
    "教学点",
    "特殊教育学校",
)
OWNERSHIP = ("公办", "民办")
URBAN_RURAL = ("城区", "镇区", "乡村")
VETO_NAMES = (
    "以考试方式招生",
    "违规择校",
    "设重点校或重点班",
    "有编不补、长期聘用编外教师",
    "发生重大安全责任事故或严重违规违纪事件",
    "弄虚作假",
)
MORAL_RATING = ("优秀", "良好", "合格", "不合格")
#: A school identifier as it may appear in a URL, a file name and the database (the national 学校标识码 is 10 digits).
ID_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_-]*$"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    kind: Kind
    required: bool = False
    default: int | float | str | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    note: str = ""
    used_by: str = ""
    max_length: int = 0  # text: at most this many characters (0: no limit beyond the reader's cell limit)
    pattern: str = ""  # text: a regular expression the whole value must match
    pattern_text: str = ""  # text: what the pattern allows, in words (the error message)


def _pair(
    key: str, header: str, note: str, used_by: str, required: bool = True, default: int | None = None
) -> tuple[Column, Column]:
    """A per-stage count column: ``{key}_primary`` and ``{key}_junior``."""
    return (
        Column(f"{key}_primary", f"小学{header}", "int", required, default, unit="人", note=note, used_by=used_by),
        Column(f"{key}_junior", f"初中{header}", "int", required, default, unit="人", note=note, used_by=used_by),
    )


SCHOOL_COLUMNS: tuple[Column, ...] = (
    Column("year", "统计年度", "year", True, note="统计年度，如 2024", used_by="全部"),
    Column(
        "school_id",
        "学校标识码",
        "text",
        True,
        note="同一年度内唯一；数字、英文字母、连字符或下划线，至多 32 个字符",
        used_by="全部",
        max_length=32,
        pattern=ID_PATTERN,
        pattern_text="数字、英文字母、连字符（-）和下划线（_），并以数字或字母开头",
    ),
    Column("school_name", "学校名称", "text", True, used_by="全部", max_length=128),
    Column("county_code", "县级区划代码", "code6", True, note="6 位行政区划代码", used_by="全部"),
    Column("county_name", "县级区划名称", "text", True, used_by="全部", max_length=64),
    Column("school_type", "办学类型", "enum", True, choices=SCHOOL_TYPES, used_by="评估范围、G4"),
    Column("ownership", "举办者", "enum", True, choices=OWNERSHIP, used_by="评估范围、G13"),
    Column("urban_rural", "城乡分类", "enum", True, choices=URBAN_RURAL, used_by="G13、放宽条件"),
    Column("boarding", "寄宿制学校", "enum", False, "否", choices=YES_NO, used_by="G13"),
    Column("built_year", "建成年份", "year", note="用于 G3、G4 的放宽条件", used_by="G3、G4"),
    Column(
        "students_primary",
        "小学在校生数",
        "int",
        True,
        unit="人",
        note="学年初有正式学籍的在校生",
        used_by="全部",
    ),
    Column(
        "students_junior",
        "初中在校生数",
        "int",
        True,
        unit="人",
        note="学年初有正式学籍的在校生",
        used_by="全部",
    ),
    Column(
        "students_senior",
        "高中在校生数",
        "int",
        False,
        0,
        unit="人",
        note="完全中学、十二年一贯制学校填写，用于分摊",
        used_by="分摊",
    ),
    *_pair("teachers", "专任教师数", "按学段填报的专任教师数", "G9、G12、核查"),
    Column(
        "qualified_teachers_primary",
        "小学高于规定学历专任教师数",
        "int",
        True,
        unit="人",
        note="小学为专科及以上学历",
        used_by="R1",
    ),
    Column(
        "qualified_teachers_junior",
        "初中高于规定学历专任教师数",
        "int",
        True,
        unit="人",
        note="初中为本科及以上学历",
        used_by="R1",
    ),
    *_pair("backbone_teachers", "县级及以上骨干教师数", "县级及以上教育行政部门认定的骨干教师", "R2"),
    *_pair("pe_teachers", "体育专任教师数", "", "R3"),
    *_pair("music_teachers", "音乐专任教师数", "", "R3"),
    *_pair("art_teachers", "美术专任教师数", "", "R3"),
    *_pair(
        "itinerant_pe_art_teachers",
        "交流轮岗兼职走教体育艺术教师数",
        "仅在启用 R3 过渡期放宽时计入",
        "R3 放宽",
        required=False,
        default=0,
    ),
    Column("teaching_aux_area", "教学及辅助用房面积(㎡)", "number", True, unit="㎡", used_by="R4"),
    Column(
        "indoor_sports_area",
        "室内体育用房面积(㎡)",
        "number",
        True,
        unit="㎡",
        note="不得大于教学及辅助用房面积",
        used_by="R4、R5",
    ),
    Column("outdoor_sports_area", "室外体育运动场地面积(㎡)", "number", True, unit="㎡", used_by="R5"),
    Column(
        "extra_sports_area",
        "可计入的改造及租赁体育场地面积(㎡)",
        "number",
        False,
        0,
        unit="㎡",
        note="屋顶、地下改造场地及步行10分钟内租赁场馆，仅在启用 R5 放宽时计入",
        used_by="R5 放宽",
    ),
    Column(
        "dense_city_centre",
        "人口密度过高中心城区学校",
        "enum",
        False,
        "否",
        choices=YES_NO,
        used_by="R5 放宽",
    ),
    Column(
        "equipment_value",
        "教学仪器设备资产值(元)",
        "number",
        True,
        unit="元",
        note="以元为单位（统计报表为万元的请乘以 10000）",
        used_by="R6",
    ),
    Column("multimedia_rooms", "网络多媒体教室数(间)", "int", True, unit="间", used_by="R7"),
    Column("classes_primary", "小学班级数", "int", unit="个", used_by="G3、核查"),
    Column("classes_junior", "初中班级数", "int", unit="个", used_by="G3、核查"),
    Column(
        "max_class_size_primary",
        "小学最大班额",
        "int",
        unit="人",
        note="全校小学各班中学生数最多的班级人数",
        used_by="G5",
    ),
    Column(
        "max_class_size_junior",
        "初中最大班额",
        "int",
        unit="人",
        note="全校初中各班中学生数最多的班级人数",
        used_by="G5",
    ),
    Column(
        "music_rooms",
        "音乐专用教室数",
        "int",
        unit="间",
        note="每间面积达到 96㎡ 的音乐专用教室",
        used_by="G3",
    ),
    Column("art_rooms", "美术专用教室数", "int", unit="间", note="每间面积达到 90㎡ 的美术专用教室", used_by="G3"),
    Column(
        "music_rooms_legacy",
        "音乐专用教室数(达到放宽面积)",
        "int",
        unit="间",
        note="面积 73㎡ 及以上、不足 96㎡ 的音乐专用教室（2016 年及以前建成的学校计入）",
        used_by="G3 放宽",
    ),
    Column(
        "art_rooms_legacy",
        "美术专用教室数(达到放宽面积)",
        "int",
        unit="间",
        note="面积 67㎡ 及以上、不足 90㎡ 的美术专用教室（2016 年及以前建成的学校计入）",
        used_by="G3 放宽",
    ),
    Column(
        "music_rooms_small_rural",
        "音乐专用教室数(达到乡村小规模学校放宽面积)",
        "int",
        unit="间",
        note="面积达到小学 54㎡、初中 61㎡（有初中学生的学校按 61㎡），但不足 73㎡ 的音乐专用教室"
        "（乡村学校最大班额小于 30 人的计入）；模板第 2 版新增",
        used_by="G3 放宽",
    ),
    Column(
        "art_rooms_small_rural",
        "美术专用教室数(达到乡村小规模学校放宽面积)",
        "int",
        unit="间",
        note="面积达到小学 54㎡、初中 61㎡（有初中学生的学校按 61㎡），但不足 67㎡ 的美术专用教室"
        "（乡村学校最大班额小于 30 人的计入）；模板第 2 版新增",
        used_by="G3 放宽",
    ),
    Column("migrant_students", "进城务工人员随迁子女在校生数", "int", unit="人", used_by="G4 放宽"),
    Column("zoned_students", "就近划片入学学生数", "int", unit="人", used_by="G13"),
    Column("public_funds", "公用经费预算总额(元)", "number", unit="元", used_by="G6、Q4"),
    Column("training_funds", "教师培训经费(元)", "number", unit="元", used_by="Q4"),
    Column("certified_teachers", "持教师资格证专任教师数", "int", unit="人", used_by="G12"),
    Column("trained_360h_teachers", "近5年培训满360学时专任教师数", "int", unit="人", used_by="G9"),
    Column("has_charter_ict", "学校章程及管理教学信息化", "enum", choices=YES_NO, used_by="Q3"),
    Column("moral_education_rating", "德育及校园文化建设评价", "enum", choices=MORAL_RATING, used_by="Q6"),
    Column("books", "图书册数", "int", unit="册", used_by="K5（2012）"),
    Column("computers", "教学用计算机台数", "int", unit="台", used_by="K4（2012）"),
    *_pair("titled_teachers", "中级及以上专业技术职务专任教师数", "", "K8（2012）", required=False),
)

# County-level inputs of the guarantee and quality items (standard-2017.md §4–5); evaluated by the full assessment.
COUNTY_COLUMNS: tuple[Column, ...] = (
    Column("year", "统计年度", "year", True),
    Column("county_code", "县级区划代码", "code6", True, note="6 位行政区划代码"),
    Column("county_name", "县级区划名称", "text", True, max_length=64),
    Column("basic_balance_year", "通过国家基本均衡认定年份", "year", note="申请优质均衡认定须满 3 年"),
    Column("g1_verdict", "G1 学校规划布局合理(审核结论)", "enum", choices=VERDICT),
    Column("g2_verdict", "G2 城乡“四统一”(审核结论)", "enum", choices=VERDICT),
    Column("public_funds_quota_primary", "小学生均公用经费基准定额(元)", "number", unit="元", used_by="G2、G6"),
    Column("public_funds_quota_junior", "初中生均公用经费基准定额(元)", "number", unit="元", used_by="G2、G6"),
    Column("special_ed_funds_per_student", "特殊教育学校生均公用经费(元)", "number", unit="元", used_by="G7"),
    Column("teacher_avg_salary", "教师年平均工资收入(元)", "number", unit="元", used_by="G8"),
    Column("civil_servant_avg_salary", "当地公务员年平均工资收入(元)", "number", unit="元", used_by="G8"),
    Column("performance_pay_full", "足额核定绩效工资总量", "enum", choices=YES_NO, used_by="G8"),
    Column("g10_verdict", "G10 统筹分配编制和岗位(审核结论)", "enum", choices=VERDICT),
    Column("rotation_eligible_teachers", "符合交流条件教师数", "int", unit="人", used_by="G11"),
    Column("rotated_teachers", "交流轮岗教师数", "int", unit="人", used_by="G11"),
    Column("rotated_backbone_teachers", "交流轮岗骨干教师数", "int", unit="人", used_by="G11"),
    Column("quality_hs_plan", "优质高中招生计划数", "int", unit="人", used_by="G14"),
    Column("quality_hs_allocated", "优质高中分配到初中学校的招生名额数", "int", unit="人", used_by="G14"),
    Column("g14_verdict", "G14 名额分配向农村初中倾斜(审核结论)", "enum", choices=VERDICT),
    Column("eligible_migrant_children", "符合条件的随迁子女数", "int", unit="人", used_by="G15"),
    Column("migrant_in_public", "随迁子女在公办学校就读数", "int", unit="人", used_by="G15"),
    Column("migrant_in_purchased", "随迁子女在政府购买服务民办学校就读数", "int", unit="人", used_by="G15"),
    Column("g15_verdict", "G15 留守儿童关爱体系健全(审核结论)", "enum", choices=VERDICT),
    Column("junior_graduates", "初中毕业生数", "int", unit="人", used_by="Q1"),
    Column("junior_transfer_in", "初中三年转入学生数", "int", unit="人", used_by="Q1"),
    Column("junior_transfer_out", "初中三年转出学生数", "int", unit="人", used_by="Q1"),
    Column("grade7_enrolment", "三年前初一入学人数", "int", unit="人", used_by="Q1"),
    Column("junior_deaths", "初中三年死亡学生数", "int", unit="人", used_by="Q1"),
    Column("disabled_children", "适龄残疾儿童少年数", "int", unit="人", used_by="Q2"),
    Column(
        "disabled_enrolled",
        "适龄残疾儿童少年入学数(含随班就读、特教学校、送教上门)",
        "int",
        unit="人",
        used_by="Q2",
    ),
    Column("q5_verdict", "Q5 教师熟练运用信息化手段(审核结论)", "enum", choices=VERDICT),
    Column("q7_verdict", "Q7 课程开齐开足(审核结论)", "enum", choices=VERDICT),
    Column("q8_verdict", "Q8 无过重课业负担(审核结论)", "enum", choices=VERDICT),
    Column(
        "q9_lowest_level",
        "Q9 质量监测各科最低学业水平等级",
        "enum",
        choices=("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"),
        used_by="Q9",
    ),
    Column("q9_max_difference_rate", "Q9 质量监测各科最大校际差异率", "number", used_by="Q9"),
    Column(
        "recognition_valid",
        "社会认可度调查有效回答数",
        "int",
        unit="个",
        used_by="S1",
        note="不含“不了解”等不计入的回答",
    ),
    Column(
        "recognition_positive",
        "社会认可度调查认可回答数",
        "int",
        unit="个",
        used_by="S1",
        note="满意、比较满意、基本满意",
    ),
    Column(
        "recognition_rate",
        "社会认可度(按群体加权)",
        "number",
        used_by="S1",
        note="仅当规则集规定群体权重时填写，0–1 之间的小数；填写后优先于上两列",
    ),
    *(
        Column(f"v{i}_finding", f"V{i} {name}(核查结论)", "enum", choices=FINDING, used_by=f"V{i}")
        for i, name in enumerate(VETO_NAMES, start=1)
    ),
)

SHEETS: dict[str, tuple[Column, ...]] = {SCHOOL_SHEET: SCHOOL_COLUMNS, COUNTY_SHEET: COUNTY_COLUMNS}

SCHOOL_BY_KEY: dict[str, Column] = {c.key: c for c in SCHOOL_COLUMNS}
