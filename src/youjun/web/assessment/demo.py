"""Demo data of the assessment app: the demo county's county inputs, a few evidence files, the province's verdicts,
veto findings (all 不存在), then a recompute. Run by ``demo_setup`` (the printed links start with the ``base`` it
gives); safe to run again (it adds nothing twice)."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from youjun.web.accounts.models import User
from youjun.web.assessment import services
from youjun.web.assessment.models import VETO_ITEMS, CountyInputs, Evidence, Review, VetoFinding
from youjun.web.organisation.models import OrgUnit

COUNTY = "340207"
YEAR = 2024
#: Items the province judges 达标 in the demo; G14 stays 待补充 and Q8 不达标, so the reasons list has content.
DEMO_VERDICTS = {
    "G1": ("达标", "规划布局材料齐全，符合要求。"),
    "G2": ("达标", ""),
    "G10": ("达标", ""),
    "G14": ("待补充", "请补充近三年优质高中名额分配到各初中的明细表。"),
    "G15": ("达标", ""),
    "Q5": ("达标", ""),
    "Q7": ("达标", ""),
    "Q8": ("不达标", "抽查发现部分学校书面作业量超出规定，请整改后重新申报。"),
}


def tiny_pdf(text: str = "youjun evidence") -> bytes:
    """A one-page PDF that readers open (objects, xref table with exact offsets, trailer)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A small green PNG (valid chunks and CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x0b\x6e\x4f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _demo_inputs() -> dict[str, object]:
    """Plausible county figures: the synthetic generator's county row (the same one the CLI demo uses)."""
    from youjun.io.synth import generate

    row = generate(1, seed=7, year=YEAR).counties.row(0, named=True)
    return {k: row.get(k) for k in services.FORM_KEYS}


def setup(base: str = "") -> list[str]:
    county = OrgUnit.objects.select_related("parent").get(code=COUNTY)
    county_user = User.objects.filter(username="demo-county").first()
    reviewer = User.objects.filter(username="demo-province").first()
    if county_user is None or reviewer is None:
        return ["综合评估演示数据未生成：缺少演示账号 demo-county / demo-province。"]
    place = f"{county.parent.name if county.parent else ''}{county.name}"
    lines = [f"综合评估（{place}；{YEAR - 1} 年数据已审核，有总体结论和原因，{YEAR} 年仍在采集）："]
    for year in (YEAR, YEAR - 1):  # the current year is still being collected; last year's data are approved
        if not CountyInputs.objects.filter(county=county, year=year).exists():
            raw = {k: "" if v is None else str(v) for k, v in _demo_inputs().items()}
            services.save_inputs(county_user, county, year, raw, based_on_version=1, reason="演示数据")
        if not Evidence.objects.filter(county=county, year=year).exists():
            files = [("G1", "学校布局规划.pdf", tiny_pdf("school layout plan")), ("Q7", "课程表照片.png", tiny_png())]
            for item, name, body in files:
                services.add_evidence(county_user, county, year, item, SimpleUploadedFile(name, body), name)
        if not Review.objects.filter(county=county, year=year).exists():
            for item, (verdict, comment) in DEMO_VERDICTS.items():
                services.add_review(reviewer, county, year, item, verdict, comment)
        if not VetoFinding.objects.filter(county=county, year=year).exists():
            for code in VETO_ITEMS:
                services.add_finding(reviewer, county, year, code, "不存在", "督导检查", "实地督导检查未发现该情形。")
        lines.append(f"  {year} 年：{base}{reverse('assessment:county', args=[COUNTY, year])}")
    return lines
