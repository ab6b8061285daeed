"""The ministry's and provinces' half of the programme (issue 12): the one basic-balance year, rates in percent,
field-level validation, no dead ends, confirmations, evidence files, counts, names, and the bulk download.

安徽省 (340000) is the own province, 北京市 (110000) the other. Helpers and fixtures come from test_programme.py.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

import docx
import fastexcel
import lxml.html
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context
from django.template.loader import get_template
from django.template.loader_tags import BlockNode
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from web.conftest import OTHER_COUNTY, OWN_COUNTY, prepared_download
from web.test_programme import (
    ELIGIBLE,
    RECENT,
    UNKNOWN,
    complete,
    letter,
    login,
    nominated_set,
    open_batch,
    refused,
    unit,
)
from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.assessment.demo import tiny_pdf, tiny_png
from youjun.web.assessment.models import CountyInputs
from youjun.web.audit.models import Transition
from youjun.web.evaluation.models import EvaluationState
from youjun.web.organisation.models import BasicBalance, OrgUnit
from youjun.web.organisation.selectors import basic_balance_year
from youjun.web.programme import recommendation, recommendation_docs, selectors, services
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import (
    Attachment,
    Batch,
    Nomination,
    NominationStatus,
    Notification,
    ProvinceSubmission,
)

pytestmark = pytest.mark.django_db
NO_DATA = ELIGIBLE[2]  # 弋江区: basic balance 2015, no school records and no stored evaluation in the tests


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Any) -> None:
    settings.YOUJUN_EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def years(db: None) -> None:
    """The basic-balance years of test_programme.py: 2015 for the eligible counties, 2023 for 湾沚区."""
    for code in ELIGIBLE:
        BasicBalance.objects.create(county=unit(code), year=2015)
    BasicBalance.objects.create(county=unit(RECENT), year=2023)


@pytest.fixture
def batch(users: dict[str, User], years: None) -> Batch:
    return open_batch(users["ministry"])


def html(response: Any) -> Any:
    return lxml.html.fromstring(response.content.decode())


def visible(response: Any) -> str:
    """The text a user reads in the page's main part (no scripts, whitespace collapsed)."""
    tree = html(response)
    for node in tree.xpath("//script"):
        node.drop_tree()
    main = tree.xpath("//main")
    return re.sub(r"\s+", " ", (main[0] if main else tree).text_content())


def form_url(n: Nomination) -> str:
    return reverse("programme:nomination", args=[n.pk])


def state() -> tuple[Any, ...]:
    """What a request could change in the programme (compared before and after unconfirmed or GET requests)."""
    return (
        tuple(Batch.objects.order_by("pk").values_list("status", "published_on")),
        tuple(Nomination.objects.order_by("pk").values_list("status", "values")),
        Transition.objects.count(),
        Notification.objects.count(),
        ProvinceSubmission.objects.count(),
        tuple(Attachment.objects.order_by("pk").values_list("pk", "deleted_at")),
        tuple(BasicBalance.objects.order_by("pk").values_list("county_id", "year", "document")),
    )


def word_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(paragraphs + cells)


def word_value(content: bytes, caption: str) -> str:
    """The value cell right of a label cell in the Word form."""
    cells = [c.text for t in docx.Document(io.BytesIO(content)).tables for row in t.rows for c in row.cells]
    return cells[cells.index(caption) + 1]


def excel_cell(content: bytes, caption: str) -> tuple[float, str]:
    """The value right of a label on the sheet 「表单」 and the number format Excel shows it with."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
            for si in ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).findall("m:si", ns)
        ]
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    formats = {f.get("numFmtId"): f.get("formatCode") for f in styles.iter(f"{{{ns['m']}}}numFmt")}
    xfs = styles.find("m:cellXfs", ns)
    assert xfs is not None
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells = row.findall("m:c", ns)
        for i, c in enumerate(cells[:-1]):
            v = c.find("m:v", ns)
            if c.get("t") == "s" and v is not None and strings[int(v.text or 0)] == caption:
                target = cells[i + 1]
                xf = xfs[int(target.get("s") or 0)]
                value = target.find("m:v", ns)
                assert value is not None and value.text is not None
                return float(value.text), formats.get(xf.get("numFmtId") or "", "")
    raise AssertionError(f"{caption} not on the sheet")


def asks_first(client: Client, url: str, data: dict[str, Any], *expected: str) -> None:
    """An unconfirmed POST answers the confirmation page (what will happen, who is told) and changes nothing."""
    before = state()
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    text = visible(response)
    assert "请确认" in text and "此操作确认后不能撤销" in text
    for part in expected:
        assert part in text, part
    assert state() == before


def confirm(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, {**data, "confirmed": "1"})


# ----------------------------------------------------------------------------------------------------
# 1. One basic-balance year


def test_the_year_is_kept_once_and_the_chooser_the_form_and_condition_2_read_it(
    users: dict[str, User], batch: Batch, evaluations: Any
) -> None:
    # The county inputs still carry another year (2014): it is not a second truth any more.
    CountyInputs.objects.create(county=unit(OWN_COUNTY), year=2024, values={"basic_balance_year": 2014})
    assert basic_balance_year(unit(OWN_COUNTY)) == 2015
    province = login(users["province"])
    chooser = province.get(reverse("programme:province", args=[batch.number, "340000"]))
    option = html(chooser).xpath(f'//select[@name="county"]//option[@value="{OWN_COUNTY}"]')[0]
    assert "2015 年通过基本均衡认定" in option.text_content() and "2014" not in option.text_content()
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    assert "basic_balance_year" not in n.values  # derived when shown, never stored
    _defn, values = recommendation_docs.values_of(n)
    assert (values["basic_balance_year"], values["basic_balance_years"], values["condition_2"]) == (2015, 9, "符合")
    assert services.eligibility(n, batch)[1].startswith("2015 年通过国家基本均衡认定")
    page = visible(province.get(form_url(n)))
    assert "2015 年通过国家基本均衡认定，距批次年度 9 年" in page and "2014" not in page
    assert "2015" in word_value(province.get(reverse("programme:nomination_export", args=[n.pk, "docx"])).content,
                                "通过国家基本均衡认定年份")  # fmt: skip
    # A reason beyond 500 characters is refused and nothing changes.
    with pytest.raises(YoujunError, match="理由最多 500 个字"):
        services.set_basic_balance(users["province"], unit(OWN_COUNTY), 2022, "", "理" * 501)
    assert recommendation_docs.values_of(n)[1]["basic_balance_year"] == 2015
    # Corrected by the province: every reader follows at once.
    services.set_basic_balance(users["province"], unit(OWN_COUNTY), 2022, "", "认定文件核对有误")
    assert recommendation_docs.values_of(n)[1]["condition_2"] == "不符合"
    assert services.eligibility(n, batch)[0] is False


def test_the_province_records_and_corrects_the_year_on_its_page_with_an_audit_row(
    users: dict[str, User], evaluations: Any
) -> None:
    client = login(users["province"])
    url = reverse("programme:basic_balance", args=["340000"])
    assert client.get(url).status_code == 200
    generation = EvaluationState.objects.get(county=unit(OWN_COUNTY), year=2024).generation
    response = client.post(url, {"county": OWN_COUNTY, "year": "2016", "document": "国督〔2016〕1号"})
    assert response.status_code == 302
    record = BasicBalance.objects.get(county=unit(OWN_COUNTY))
    assert (record.year, record.document) == (2016, "国督〔2016〕1号")
    # The stored result's eligibility depends on the year: the county-year is marked changed and recomputed.
    assert EvaluationState.objects.get(county=unit(OWN_COUNTY), year=2024).generation == generation + 1
    # A correction needs a reason; a year outside 2012–this year is refused beside its field.
    bad = client.post(url, {"county": OWN_COUNTY, "year": "2017"})
    assert bad.status_code == 400
    assert html(bad).xpath('//*[@id="bb-reason"]/following-sibling::span[@class="field-error"]')[0].text == (
        "修改已登记的认定年份（2016 年）时请写明理由"
    )
    assert html(bad).xpath('//div[@id="error-summary"]//a/@href') == ["#bb-reason"]
    future = client.post(url, {"county": OWN_COUNTY, "year": str(timezone.localdate().year + 1), "reason": "x"})
    assert "认定年份应在 2012–" in visible(future) and future.status_code == 400
    assert client.post(url, {"county": OWN_COUNTY, "year": "2017", "reason": "复核认定文件"}).status_code == 302
    trail = Transition.objects.filter(kind="basic_balance", county=unit(OWN_COUNTY)).order_by("pk")
    assert [(t.action, t.source, t.target) for t in trail] == [
        ("登记基本均衡认定年份", "", "2016"),
        ("修改基本均衡认定年份", "2016", "2017"),
    ]
    assert trail[1].reason == "复核认定文件；认定文件：国督〔2016〕1号" and trail[1].actor == users["province"]
    assert "复核认定文件" in visible(client.get(url))  # the page shows the trail
    # Only the province edits, only its own counties; others do not even see the page outside.
    assert login(users["ministry"]).post(url, {"county": OWN_COUNTY, "year": "2015"}).status_code == 403
    assert login(users["other_province"]).get(url).status_code == 404
    assert login(users["county"]).get(url).status_code == 404
    other = client.post(url, {"county": OTHER_COUNTY, "year": "2015"})
    assert other.status_code == 400 and "请从列表中选择安徽省的县（市、区）" in visible(other)
    assert BasicBalance.objects.get(county=unit(OWN_COUNTY)).year == 2017


def test_the_year_cannot_change_under_the_ministrys_review(users: dict[str, User], batch: Batch) -> None:
    first, _second = nominated_set(users, batch)
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    error = refused(services.set_basic_balance, users["province"], first.county, 2013, "", "更正")
    assert error.status == 400 and "正在教育部审核" in error.message
    assert BasicBalance.objects.get(county=first.county).year == 2015


# ----------------------------------------------------------------------------------------------------
# 2. Rates in percent, the same on page, Word and Excel


@pytest.mark.parametrize("typed", ["0.87", "87", "87%"])
def test_a_rate_is_entered_in_percent_and_shown_alike_on_page_word_and_excel(
    users: dict[str, User], batch: Batch, evaluations: Any, typed: str
) -> None:
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    client = login(users["province"])
    response = client.post(form_url(n), {"f-recognition_rate": typed}, follow=True)
    n.refresh_from_db()
    assert n.values["recognition_rate"] == 0.87  # stored as the fraction
    notices = [str(m) for m in response.context["messages"]]
    understood = "「社会认可度」填写的 0.87 已按 87% 理解。如不是此意，请修改后再保存。"
    assert (understood in notices) is (typed == "0.87")
    field = html(response).xpath('//input[@id="f-recognition_rate"]')[0]
    assert field.get("value") == "87"  # never 0.8699999999999999
    assert "以小数表示" not in response.content.decode()
    word = client.get(reverse("programme:nomination_export", args=[n.pk, "docx"])).content
    assert word_value(word, "社会认可度") == "87.00%"
    excel = client.get(reverse("programme:nomination_export", args=[n.pk, "xlsx"])).content
    assert excel_cell(excel, "社会认可度") == (0.87, "0.00%")  # Excel shows 87.00%
    # Read-only (after the sign-off) the page prints what Word prints.
    Nomination.objects.filter(pk=n.pk).update(status=NominationStatus.SUBMITTED)
    shown = html(client.get(form_url(n))).xpath('//span[@data-key="recognition_rate"]')[0].text_content()
    assert shown.strip() == "87.00%"


def test_a_whole_percent_comes_back_without_a_decimal(users: dict[str, User], batch: Batch, evaluations: Any) -> None:
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    client = login(users["province"])
    client.post(form_url(n), {"f-recognition_rate": "85"})
    assert html(client.get(form_url(n))).xpath('//input[@id="f-recognition_rate"]')[0].get("value") == "85"


def test_every_percent_field_reads_percent_and_refuses_above_100(users: dict[str, User], batch: Batch) -> None:
    n = services.nominate(users["province"], batch, unit(NO_DATA))  # no data: the share is typed in
    client = login(users["province"])
    before = dict(Nomination.objects.get(pk=n.pk).values)
    over = client.post(form_url(n), {"f-units_passed_share": "150", "f-units_total": "12"})
    assert over.status_code == 400
    error = html(over).xpath('//div[@id="field-units_passed_share"]//span[@class="field-error"]')[0].text
    assert error == "百分数应在 0 到 100 之间，填写的是 150"
    assert Nomination.objects.get(pk=n.pk).values == before  # nothing saved, not even the valid count
    saved = client.post(form_url(n), {"f-units_passed_share": "0.95", "f-units_total": "12"}, follow=True)
    n.refresh_from_db()
    assert n.values["units_passed_share"] == 0.95 and n.values["units_total"] == 12
    assert "「逐校达标评估单元比例」填写的 0.95 已按 95% 理解。如不是此意，请修改后再保存。" in [
        str(m) for m in saved.context["messages"]
    ]
    assert html(saved).xpath('//input[@id="f-units_passed_share"]')[0].get("value") == "95"


# ----------------------------------------------------------------------------------------------------
# 3. Field-level validation


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (
            "contact_phone",
            "abc",
            "请填写手机号（11 位）或带区号的固定电话（如 0551-12345678，分机：0551-12345678-801）",
        ),
        (
            "contact_phone",
            "1234567",
            "请填写手机号（11 位）或带区号的固定电话（如 0551-12345678，分机：0551-12345678-801）",
        ),
        ("contact_email", "not-an-email", "请填写有效的电子邮箱地址（如 name@example.gov.cn）"),
        ("target_year", "2040", "年份应在 2022–2035 之间，填写的是 2040"),
        ("target_year", "二〇二六", "请填写四位年份（如 2026），填写的是「二〇二六」"),
        ("recognition_rate", "-5", "百分数应在 0 到 100 之间，填写的是 -5"),
        ("recognition_rate", "很高", "「很高」不是数字，请以百分数填写，如 87 表示 87%"),
        ("schools_primary", "-3", "应不小于 0"),
        ("schools_primary", "1.5", "请填写整数，填写的是「1.5」"),
    ],
)
def test_a_wrong_entry_is_refused_beside_its_field_with_a_summary_linking_to_it(
    users: dict[str, User], batch: Batch, field: str, typed: str, message: str
) -> None:
    n = services.nominate(users["province"], batch, unit(NO_DATA))
    client = login(users["province"])
    before = Nomination.objects.get(pk=n.pk).values
    response = client.post(form_url(n), {f"f-{field}": typed, "f-contact_name": "李四"})
    assert response.status_code == 400
    tree = html(response)
    wrapper = tree.xpath(f'//div[@id="field-{field}"]')[0]
    assert "invalid" in wrapper.get("class")
    assert wrapper.xpath('.//span[@class="field-error"]')[0].text == message
    assert wrapper.xpath(f'.//*[@id="f-{field}"]')[0].get("value") == typed  # the entry is kept to correct
    assert tree.xpath('//div[@id="error-summary"]//a/@href') == [f"#f-{field}"]
    assert Nomination.objects.get(pk=n.pk).values == before


def test_every_wrong_entry_is_reported_at_once_in_the_order_of_the_form(users: dict[str, User], batch: Batch) -> None:
    n = services.nominate(users["province"], batch, unit(NO_DATA))
    response = login(users["province"]).post(
        form_url(n),
        {"f-contact_phone": "abc", "f-recognition_rate": "150", "f-target_year": "2040", "f-schools_primary": "x"},
    )
    links = html(response).xpath('//div[@id="error-summary"]//a/@href')
    assert links == ["#f-schools_primary", "#f-recognition_rate", "#f-target_year", "#f-contact_phone"]


def test_more_units_passing_than_units_is_refused_for_a_county_without_data(
    users: dict[str, User], batch: Batch
) -> None:
    n = services.nominate(users["province"], batch, unit(NO_DATA))
    client = login(users["province"])
    response = client.post(form_url(n), {"f-units_total": "40", "f-units_passed": "41"})
    wrapper = html(response).xpath('//div[@id="field-units_passed"]')[0]
    assert "不能大于「评估单元数」（40），填写的是 41" in wrapper.xpath('.//span[@class="field-error"]')[0].text
    assert "units_passed" not in Nomination.objects.get(pk=n.pk).values
    assert client.post(form_url(n), {"f-units_total": "40", "f-units_passed": "40"}).status_code == 302
    assert Nomination.objects.get(pk=n.pk).values["units_passed"] == 40


@pytest.mark.parametrize(
    "phone", ["13812345678", "0551-12345678", "055112345678", "0551-12345678-801", "010-6209 6114"]
)
def test_chinese_mobiles_and_landlines_with_extensions_are_accepted(
    users: dict[str, User], batch: Batch, phone: str
) -> None:
    n = services.nominate(users["province"], batch, unit(NO_DATA))
    response = login(users["province"]).post(
        form_url(n), {"f-contact_phone": phone, "f-contact_email": "zhang.san@ahedu.gov.cn"}
    )
    assert response.status_code == 302
    n.refresh_from_db()
    assert n.values["contact_phone"] == phone and n.values["contact_email"] == "zhang.san@ahedu.gov.cn"


def test_the_batch_form_refuses_beside_the_fields(users: dict[str, User]) -> None:
    client = login(users["ministry"])
    response = client.post(
        reverse("programme:batch_new"),
        {
            "name": "",
            "year": "1999",
            "deadline": "2020-01-01T10:00",
            "quota_min": "0",
            "quota_max": "x",
            "min_years": "-1",
        },
    )
    assert response.status_code == 400
    tree = html(response)
    assert tree.xpath('//div[@id="error-summary"]//a/@href') == [
        "#name", "#year", "#deadline", "#quota_min", "#quota_max", "#min_years"
    ]  # fmt: skip
    errors = {
        w.xpath(".//input/@id")[0]: w.xpath('.//span[@class="field-error"]')[0].text
        for w in tree.xpath('//div[contains(@class, "invalid")]')
    }
    assert errors["year"] == "批次年度应在 2021–2035 之间" and errors["deadline"] == "推荐截止时间应晚于现在"
    assert not Batch.objects.exists()


# ----------------------------------------------------------------------------------------------------
# 4. No dead ends


def test_a_county_without_data_is_nominated_with_the_fields_it_has(users: dict[str, User], batch: Batch) -> None:
    province = users["province"]
    n = services.nominate(province, batch, unit(NO_DATA))
    assert "units_total" not in n.data_keys
    page = login(province).get(form_url(n))
    units = html(page).xpath('//div[@id="field-units_total"]')[0]
    assert units.xpath('.//input[@name="f-units_total"]')  # editable, because no data supplies it
    assert "（本县暂无评估数据，请据实填写）" in units.text_content()
    assert html(page).xpath('//input[@name="f-cvs.1.primary_cv"]')  # the coefficients too
    complete(province, n)
    other = services.nominate(province, batch, unit(OWN_COUNTY))
    complete(province, other)
    letter(province, batch)
    assert services.submit_set(province, batch, unit("340000"), "张三") == 2
    n.refresh_from_db()
    assert n.status == NominationStatus.SUBMITTED and n.values["units_total"] == 1


def test_a_draft_is_edited_until_submitted_and_again_after_a_return(users: dict[str, User], batch: Batch) -> None:
    first, _second = nominated_set(users, batch)
    client = login(users["province"])
    assert client.post(form_url(first), {"f-main_measures": "第一稿"}).status_code == 302
    assert client.post(form_url(first), {"f-main_measures": "第二稿"}).status_code == 302
    first.refresh_from_db()
    assert first.values["main_measures"] == "第二稿"
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    page = client.get(form_url(first))
    assert not html(page).xpath('//textarea[@name="f-main_measures"]') and "保存推荐表" not in visible(page)
    locked = client.post(form_url(first), {"f-main_measures": "第三稿"}, follow=True)
    assert "推荐当前为「已报送」，不能修改。" in visible(locked)
    services.review(users["ministry"], first, "return", "请补充举措")
    assert html(client.get(form_url(first))).xpath('//textarea[@name="f-main_measures"]')
    assert client.post(form_url(first), {"f-main_measures": "第三稿"}).status_code == 302
    first.refresh_from_db()
    assert first.values["main_measures"] == "第三稿"


def test_no_page_writes_on_get(users: dict[str, User], years: None, evaluations: Any) -> None:
    batch = open_batch(users["ministry"], days=3)  # a deadline within the reminder window
    first, _second = nominated_set(users, batch)
    province, ministry = login(users["province"]), login(users["ministry"])
    pages = [
        reverse("programme:index"),
        reverse("programme:notifications"),
        reverse("programme:province_dashboard", args=["340000"]),
        reverse("programme:province", args=[batch.number, "340000"]),
        reverse("programme:basic_balance", args=["340000"]),
        reverse("programme:nomination", args=[first.pk]),
        reverse("programme:nomination_export", args=[first.pk, "docx"]),
        reverse("programme:province_forms", args=[batch.number, "340000"]),
        reverse("programme:batch", args=[batch.number]),
        reverse("programme:batch_forms", args=[batch.number]),
    ]
    before = state()
    for url in pages[1:]:  # the index sends a province to its dashboard
        assert province.get(url).status_code == 200, url
    for url in (reverse("programme:index"), reverse("programme:batch", args=[batch.number])):
        assert ministry.get(url).status_code == 200
    for url in (reverse("programme:public"), reverse("programme:public_export")):
        assert Client().get(url).status_code == 200
    assert state() == before
    reminder = visible(province.get(reverse("programme:province", args=[batch.number, "340000"])))
    assert "本省推荐将于" in reminder  # the near deadline is shown, computed


def test_after_the_sign_off_the_page_shows_the_result_and_no_live_buttons(users: dict[str, User], batch: Batch) -> None:
    nominated_set(users, batch)
    client = login(users["province"])
    url = reverse("programme:province", args=[batch.number, "340000"])
    before = html(client.get(url))
    assert before.xpath('//form[@id="submit-form"]') and before.xpath('//form[@id="nominate-form"]')
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    after = client.get(url)
    tree = html(after)
    assert not tree.xpath('//form[@id="submit-form"]') and not tree.xpath('//form[@id="nominate-form"]')
    assert not tree.xpath('//form[@id="letter-form"]')
    assert "签发报送（共 0 个）" not in visible(after) and "共 0 个" not in visible(after)
    result = tree.xpath('//p[@id="signed-off"]')[0].text_content()
    assert "已签发报送" in result and "签发人 张三" in result and "推荐函.pdf" in result
    error = refused(services.nominate, users["province"], batch, unit(ELIGIBLE[2]))
    assert error.message == "安徽省已签发报送第一批义务教育优质均衡先行创建的推荐，不能再增加推荐县（区）。"


def test_the_ministrys_finished_batch_shows_its_result_only(users: dict[str, User], batch: Batch) -> None:
    first, second = nominated_set(users, batch)
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    for n in (first, second):
        services.set_verdicts(users["ministry"], n, "met", "met")
        services.review(users["ministry"], n, "confirm")
    services.move_batch(users["ministry"], batch, "publish", timezone.localdate())
    page = login(users["ministry"]).get(reverse("programme:batch", args=[batch.number]))
    assert not html(page).xpath('//div[@id="batch-actions"]')
    assert "名单已于" in html(page).xpath('//p[@id="batch-result"]')[0].text_content()


# ----------------------------------------------------------------------------------------------------
# 5. Confirmation before every irreversible action


def test_opening_and_closing_a_batch_ask_first(users: dict[str, User], years: None) -> None:
    client = login(users["ministry"])
    draft = services.create_batch(
        users["ministry"], name="第一批义务教育优质均衡先行创建", year=2024, quota_min=2, quota_max=3, min_years=3,
        deadline=timezone.now() + dt.timedelta(days=20),
    )  # fmt: skip
    url = reverse("programme:batch_move", args=[draft.number, "open"])
    asks_first(client, url, {}, "确认开始推荐", "各省可推荐县（区）", "将通知：各省级教育行政部门（2 个账号）")
    assert confirm(client, url, {}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "open"
    assert Notification.objects.filter(user=users["province"], key=f"batch-open-{draft.pk}").exists()
    close = reverse("programme:batch_move", args=[draft.number, "close"])
    asks_first(client, close, {}, "确认截止推荐", "不能再推荐县（区）或签发报送")
    confirm(client, close, {})
    draft.refresh_from_db()
    assert draft.status == "closed"
    # A move that cannot be made is refused at once, never confirmed.
    again = client.post(url, follow=True)
    assert "批次当前状态为「推荐截止」，不能开始推荐。" in visible(again) and "请确认" not in visible(again)


def test_the_sign_off_asks_first_and_names_the_counties_and_the_letter(users: dict[str, User], batch: Batch) -> None:
    nominated_set(users, batch)
    client = login(users["province"])
    url = reverse("programme:submit_set", args=[batch.number, "340000"])
    asks_first(
        client, url, {"signatory": "张三"},
        "确认签发并报送教育部", "报送 2 个县（市、区）：芜湖市镜湖区、芜湖市鸠江区", "推荐函.pdf", "将通知：教育部",
    )  # fmt: skip
    assert confirm(client, url, {"signatory": "张三"}).status_code == 302
    assert set(Nomination.objects.values_list("status", flat=True)) == {"submitted"}
    submission = ProvinceSubmission.objects.get()
    assert submission.signatory == "张三" and submission.letter is not None
    assert submission.letter.original_name == "推荐函.pdf"


def test_a_missing_signatory_is_shown_beside_its_field(users: dict[str, User], batch: Batch) -> None:
    nominated_set(users, batch)
    response = login(users["province"]).post(reverse("programme:submit_set", args=[batch.number, "340000"]))
    assert response.status_code == 400
    assert html(response).xpath('//span[@id="signatory-error"]')[0].text == "请填写签发人"


def test_publishing_asks_first_and_the_list_is_public_from_its_date(users: dict[str, User], batch: Batch) -> None:
    first, second = nominated_set(users, batch)
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    for n in (first, second):
        services.set_verdicts(users["ministry"], n, "met", "met")
        services.review(users["ministry"], n, "confirm")
    client = login(users["ministry"])
    url = reverse("programme:batch_move", args=[batch.number, "publish"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    data = {"published_on": tomorrow.isoformat()}
    asks_first(
        client, url, data, "确认公布名单", f"公布日期 {tomorrow:%Y-%m-%d}", f"自 {tomorrow:%Y-%m-%d} 起",
        "2 个先行创建县（市、区）的县级教育行政部门",
    )  # fmt: skip
    confirm(client, url, data)
    batch.refresh_from_db()
    assert batch.status == "published" and batch.published_on == tomorrow
    # Not public before its date: neither the page nor the export.
    public = Client()
    assert "名单尚未公布" in visible(public.get(reverse("programme:public")))
    export = fastexcel.read_excel(public.get(reverse("programme:public_export")).content).load_sheet(0, header_row=1)
    assert export.to_polars().height == 0
    notice = Notification.objects.get(user=users["province"], key=f"batch-published-{batch.pk}").text
    assert notice == f"第一批义务教育优质均衡先行创建县名单已确定，将于 {tomorrow:%Y-%m-%d} 公布。"
    assert "先行创建先行创建" not in notice
    Batch.objects.filter(pk=batch.pk).update(published_on=timezone.localdate())
    page = visible(public.get(reverse("programme:public")))
    assert "第一批义务教育优质均衡先行创建县名单" in page and "芜湖市鸠江区" in page and "芜湖市镜湖区" in page


def test_confirming_rejecting_and_withdrawing_ask_first(users: dict[str, User], years: None) -> None:
    batch = open_batch(users["ministry"], quota_min=2, quota_max=3)
    first, second, third = nominated_set(users, batch, ELIGIBLE)
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    ministry = login(users["ministry"])
    services.set_verdicts(users["ministry"], first, "met", "met")
    url = reverse("programme:nomination_action", args=[first.pk, "confirm"])
    asks_first(ministry, url, {}, "确认列入先行创建县名单", "芜湖市鸠江区列入第一批义务教育优质均衡先行创建县名单")
    confirm(ministry, url, {})
    first.refresh_from_db()
    assert first.status == "confirmed"
    reject = reverse("programme:nomination_action", args=[second.pk, "reject"])
    no_reason = ministry.post(reject, {"reason": ""}, follow=True)
    assert "退回或不通过时必须填写理由。" in visible(no_reason) and "请确认" not in visible(no_reason)
    asks_first(
        ministry, reject, {"reason": "样本不足"}, "确认不予确认", "理由：样本不足", "将通知：安徽省省级教育行政部门"
    )
    confirm(ministry, reject, {"reason": "样本不足"})
    second.refresh_from_db()
    assert second.status == "rejected" and second.reason == "样本不足"
    services.review(users["ministry"], third, "return", "请补充")
    province = login(users["province"])
    withdraw = reverse("programme:nomination_action", args=[third.pk, "withdraw"])
    asks_first(province, withdraw, {}, "确认撤回推荐", "释放 1 个推荐名额", "将通知：教育部")
    confirm(province, withdraw, {})
    third.refresh_from_db()
    assert third.status == "withdrawn"
    assert Notification.objects.filter(user=users["ministry"], key=f"withdrawn-{third.pk}").exists()


# ----------------------------------------------------------------------------------------------------
# 6. Evidence and the stamped letter


def test_evidence_is_checked_stored_and_served_only_inside_the_jurisdiction(
    users: dict[str, User], batch: Batch, settings: Any
) -> None:
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    client = login(users["province"])
    url = reverse("programme:evidence_upload", args=[n.pk, "condition_1"])
    fake = client.post(url, {"file": SimpleUploadedFile("会议纪要.pdf", tiny_png())}, follow=True)
    assert "文件内容与扩展名「.pdf」不符" in visible(fake)
    wrong = client.post(url, {"file": SimpleUploadedFile("run.exe", b"MZ...")}, follow=True)
    assert "不支持的文件类型「.exe」" in visible(wrong)
    assert not Attachment.objects.exists()
    assert client.post(url, {"file": SimpleUploadedFile("会议纪要.pdf", tiny_pdf())}).status_code == 302
    stored = Attachment.objects.get()
    path = settings.YOUJUN_EVIDENCE_DIR / stored.stored_name
    assert path.read_bytes() == tiny_pdf() and re.fullmatch(r"[0-9a-f]{32}", stored.stored_name)
    assert (stored.kind, stored.unit, stored.nomination) == ("condition_1", unit(OWN_COUNTY), n)
    file_url = reverse("programme:attachment", args=[stored.pk])
    for key in ("province", "prefecture", "county", "ministry", "viewer"):
        got = login(users[key]).get(file_url)
        assert got.status_code == 200 and b"".join(got.streaming_content) == tiny_pdf(), key
        assert got["X-Content-Type-Options"] == "nosniff"
    for key in ("other_province", "other_prefecture", "other_county"):
        assert login(users[key]).get(file_url).status_code == 404, key
    assert (
        login(users["other_province"]).post(url, {"file": SimpleUploadedFile("x.pdf", tiny_pdf())}).status_code == 404
    )
    assert login(users["county"]).post(url, {"file": SimpleUploadedFile("x.pdf", tiny_pdf())}).status_code == 403
    # The province deletes its file while the form is editable; the row stays (who, when).
    assert client.post(reverse("programme:attachment_delete", args=[stored.pk])).status_code == 302
    stored.refresh_from_db()
    assert stored.deleted_at is not None and stored.deleted_by == users["province"]
    assert client.get(file_url).status_code == 404


def test_an_oversized_file_is_refused_unread(users: dict[str, User], batch: Batch, settings: Any) -> None:
    settings.YOUJUN_EVIDENCE_MAX_BYTES = 1024
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    response = login(users["province"]).post(
        reverse("programme:evidence_upload", args=[n.pk, "condition_3"]),
        {"file": SimpleUploadedFile("大.pdf", tiny_pdf() + b"0" * 200_000)},
    )
    assert response.status_code == 413 and "文件过大（上限 1 KB）" in response.content.decode()
    assert not Attachment.objects.exists()


def test_submission_needs_the_evidence_and_the_sign_off_the_stamped_letter(
    users: dict[str, User], batch: Batch
) -> None:
    province = users["province"]
    first, second = (services.nominate(province, batch, unit(c)) for c in ELIGIBLE[:2])
    complete(province, first)
    complete(province, second)
    Attachment.objects.filter(nomination=second, kind="condition_3").update(deleted_at=timezone.now())
    error = refused(services.submit_set, province, batch, unit("340000"), "张三")
    assert "芜湖市镜湖区：请上传条件三（良好教育生态）佐证材料" in error.message
    services.add_evidence(province, second, "condition_3", SimpleUploadedFile("调查.pdf", tiny_pdf()), "调查.pdf")
    error = refused(services.submit_set, province, batch, unit("340000"), "张三")
    assert error.message == "请先上传加盖省级教育行政部门公章的推荐文件扫描件（盖章扫描件），再签发报送。"
    client = login(province)
    page = client.post(
        reverse("programme:submit_set", args=[batch.number, "340000"]), {"signatory": "张三"}, follow=True
    )
    assert "请先上传加盖省级教育行政部门公章的推荐文件扫描件" in visible(page)
    upload = reverse("programme:letter_upload", args=[batch.number, "340000"])
    assert client.post(upload, {"file": SimpleUploadedFile("推荐函.pdf", tiny_pdf("letter"))}).status_code == 302
    assert client.post(upload, {"file": SimpleUploadedFile("推荐函（盖章）.pdf", tiny_pdf("stamp"))}).status_code == 302
    letters = Attachment.objects.filter(kind="letter").order_by("pk")
    assert [(a.original_name, a.deleted_at is None) for a in letters] == [
        ("推荐函.pdf", False),  # replaced: the row stays, the file goes
        ("推荐函（盖章）.pdf", True),
    ]
    assert services.submit_set(province, batch, unit("340000"), "张三") == 2
    submission = ProvinceSubmission.objects.get()
    assert submission.letter is not None and submission.letter.original_name == "推荐函（盖章）.pdf"
    letter_url = reverse("programme:attachment", args=[submission.letter.pk])
    assert login(users["ministry"]).get(letter_url).status_code == 200
    assert login(users["other_province"]).get(letter_url).status_code == 404
    assert login(users["prefecture"]).get(letter_url).status_code == 404  # a province's letter: not the city's
    again = client.post(upload, {"file": SimpleUploadedFile("新.pdf", tiny_pdf())}, follow=True)
    assert "已签发报送，盖章扫描件不能再更换。" in visible(again)


# ----------------------------------------------------------------------------------------------------
# 7. Counts that say what they count


def test_counts_name_their_states_in_a_fixed_order_and_quotas_count_live_nominations(
    users: dict[str, User], batch: Batch
) -> None:
    assert selectors.breakdown({"withdrawn": 2, "confirmed": 4, "returned": 1, "rejected": 1}) == (
        "已确认 4 · 退回 1 · 不予确认 1 · 撤回 2"
    )
    assert selectors.breakdown({}) == "—"
    states = {"340207": "confirmed", "340202": "returned", "340209": "rejected", "340210": "withdrawn"}
    for code, status in states.items():
        Nomination.objects.create(
            batch=batch, county=unit(code), province=unit("340000"), status=status, form_id="recommendation-2021",
            form_version="2",
        )  # fmt: skip
    assert services.quota_used(batch, unit("340000")) == 2
    index = html(login(users["ministry"]).get(reverse("programme:index")))
    row = index.xpath('//table[@id="batches"]//tr[td]')[0]
    assert row.xpath("./td")[-1].text_content() == "已确认 1 · 退回 1 · 不予确认 1 · 撤回 1"
    page = html(login(users["province"]).get(reverse("programme:province", args=[batch.number, "340000"])))
    assert page.xpath('//*[@id="used"]')[0].text == "2"
    assert page.xpath('//*[@id="breakdown"]')[0].text == "已确认 1 · 退回 1 · 不予确认 1 · 撤回 1"


# ----------------------------------------------------------------------------------------------------
# 8. Names, the chooser, the notice cited, no internal ids


@pytest.mark.parametrize(
    ("code", "local", "national"),
    [
        ("340207", "芜湖市鸠江区", "安徽省芜湖市鸠江区"),
        ("110101", "北京市东城区", "北京市东城区"),
        ("500229", "重庆市城口县", "重庆市城口县"),
        ("419001", "济源市", "河南省济源市"),
        ("441901", "东莞市", "广东省东莞市"),
        ("660101", "第一师（师本级）", "新疆生产建设兵团第一师（师本级）"),
        ("340200", "芜湖市", "安徽省芜湖市"),
        ("340000", "安徽省", "安徽省"),
    ],
)
def test_counties_are_named_with_their_prefecture(code: str, local: str, national: str) -> None:
    place = OrgUnit.objects.select_related("parent").get(code=code)
    assert (place.local_name, place.national_name) == (local, national)


def test_the_chooser_groups_by_prefecture_marks_what_cannot_be_chosen_and_filters(
    users: dict[str, User], batch: Batch
) -> None:
    BasicBalance.objects.create(county=unit("340102"), year=2016)  # 合肥市瑶海区
    page = login(users["province"]).get(reverse("programme:province", args=[batch.number, "340000"]))
    tree = html(page)
    groups = {g.get("label"): g for g in tree.xpath('//select[@name="county"]/optgroup')}
    assert list(groups)[:2] == ["合肥市", "芜湖市"] and len(groups) == 16
    wuhu = {o.get("value"): o for o in groups["芜湖市"].xpath("./option")}
    assert wuhu[RECENT].get("disabled") is not None
    assert "不可推荐：基本均衡认定不满 3 年（2023 年）" in wuhu[RECENT].text_content()
    assert "无学校数据" in wuhu[NO_DATA].text_content() and wuhu[NO_DATA].get("disabled") is None
    assert "无学校数据" not in wuhu[OWN_COUNTY].text_content()
    assert "未登记基本均衡认定年份" in wuhu[UNKNOWN].text_content() and wuhu[UNKNOWN].get("disabled") is None
    assert wuhu[OWN_COUNTY].get("data-search") == "芜湖市鸠江区 340207"
    assert tree.xpath('//input[@id="county-filter"]') and "county-filter" in "".join(tree.xpath("//script/text()"))
    services.nominate(users["province"], batch, unit(OWN_COUNTY))
    again = html(login(users["province"]).get(reverse("programme:province", args=[batch.number, "340000"])))
    taken = again.xpath(f'//option[@value="{OWN_COUNTY}"]')[0]
    assert taken.get("disabled") is not None and "已在本批次推荐名单中" in taken.text_content()


def test_names_carry_the_prefecture_and_across_provinces_the_province(users: dict[str, User], batch: Batch) -> None:
    first, _second = nominated_set(users, batch)
    province_page = visible(login(users["province"]).get(reverse("programme:province", args=[batch.number, "340000"])))
    assert "芜湖市鸠江区" in province_page and "芜湖市镜湖区" in province_page
    ministry_page = visible(login(users["ministry"]).get(reverse("programme:batch", args=[batch.number])))
    assert "安徽省芜湖市鸠江区" in ministry_page and "安徽省芜湖市镜湖区" in ministry_page
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    told = Notification.objects.get(user=users["ministry"]).text
    assert told == "安徽省报送了第一批义务教育优质均衡先行创建推荐（2 个县（区）：芜湖市镜湖区、芜湖市鸠江区）。"
    services.review(users["ministry"], first, "return", "补充佐证")
    assert Notification.objects.filter(text="教育部退回修改芜湖市鸠江区的推荐：补充佐证").exists()


def test_a_list_title_never_doubles_its_words() -> None:
    assert services.list_title(Batch(name="第一批义务教育优质均衡先行创建")) == "第一批义务教育优质均衡先行创建县名单"
    assert services.list_title(Batch(name="第二批")) == "第二批先行创建县名单"


def test_programme_pages_cite_the_2021_notice() -> None:
    """The programme's pages fill the ``footer`` block with 教基厅函〔2021〕43号 (the site's base template gives the
    block its default, the evaluation method); the public list also says so in its text."""
    for name in ("public", "batch", "batch_new", "province_set", "province_dashboard", "nomination", "index",
                 "notifications", "basic_balance"):  # fmt: skip
        template = get_template(f"youjun/programme/{name}.html").template  # type: ignore[attr-defined]
        footer = [b for b in template.nodelist.get_nodes_by_type(BlockNode) if b.name == "footer"]
        assert footer, name
        text = footer[0].nodelist.render(Context({}))
        assert "教基厅函〔2021〕43号" in text and "教督〔2017〕6号" not in text, name
    page = visible(Client().get(reverse("programme:public")))
    assert "依据《教育部办公厅关于开展县域义务教育优质均衡创建工作的通知》（教基厅函〔2021〕43号）" in page


def test_no_internal_ids_on_screen_or_paper(users: dict[str, User], batch: Batch, evaluations: Any) -> None:
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    client = login(users["province"])
    page = client.get(form_url(n)).content.decode()
    assert "recommendation-2021" not in page and "推荐表（2021 年通知附件）" in page
    word = word_text(client.get(reverse("programme:nomination_export", args=[n.pk, "docx"])).content)
    assert "recommendation-2021" not in word and "（第 2 版）" in word


def test_the_tackling_list_comes_from_the_catalogue(users: dict[str, User], batch: Batch, evaluations: Any) -> None:
    defn = recommendation.definition()
    assert {i.code for i in catalogue().items} == set(defn.field("tackling_items").choices)
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    client = login(users["province"])
    tree = html(client.get(form_url(n)))
    legends = [legend.text for legend in tree.xpath('//div[@id="f-tackling_items"]/fieldset/legend')]
    assert legends == [f"{g.code}. {g.name}" for g in catalogue().groups]
    item = catalogue().by_code()["2.1"]
    box = tree.xpath('//input[@name="f-tackling_items"][@value="2.1"]')[0]
    assert item.label in box.getparent().text_content()
    client.post(form_url(n), {"f-tackling_items": ["2.1", "4.5"]})
    n.refresh_from_db()
    assert n.values["tackling_items"] == ["2.1", "4.5"]
    word = word_value(
        client.get(reverse("programme:nomination_export", args=[n.pk, "docx"])).content, "拟探索的攻坚清单事项"
    )
    group = next(g for g in catalogue().groups if g.code == "2")
    assert f"{group.code}. {group.name}：{item.label}" in word and catalogue().by_code()["4.5"].label in word


# ----------------------------------------------------------------------------------------------------
# 9. Every form in one download


def test_every_form_of_a_province_or_a_batch_in_one_zip_inside_the_jurisdiction(
    users: dict[str, User], batch: Batch
) -> None:
    nominated_set(users, batch)
    beijing = services.nominate(users["other_province"], batch, unit(OTHER_COUNTY))
    url = reverse("programme:province_forms", args=[batch.number, "340000"])
    response = prepared_download(login(users["province"]), url)
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["安徽省芜湖市镜湖区推荐表.docx", "安徽省芜湖市鸠江区推荐表.docx"]
    assert "鸠江区" in word_text(archive.read("安徽省芜湖市鸠江区推荐表.docx"))
    assert login(users["other_province"]).get(url).status_code == 404
    whole = reverse("programme:batch_forms", args=[batch.number])
    everything = zipfile.ZipFile(io.BytesIO(prepared_download(login(users["ministry"]), whole).content)).namelist()
    assert everything == ["北京市东城区推荐表.docx", "安徽省芜湖市镜湖区推荐表.docx", "安徽省芜湖市鸠江区推荐表.docx"]
    own = zipfile.ZipFile(io.BytesIO(prepared_download(login(users["province"]), whole).content)).namelist()
    assert own == ["安徽省芜湖市镜湖区推荐表.docx", "安徽省芜湖市鸠江区推荐表.docx"]
    services.withdraw(users["other_province"], beijing)
    assert login(users["other_province"]).get(whole).status_code == 404  # withdrawn forms are not sent
