"""Word (.docx) building blocks shared by the self-evaluation report and the data-defined forms.

python-docx gives the package, styles and paragraphs; tables and charts are written here as WordprocessingML /
DrawingML directly, because:

- a table built cell by cell through python-docx costs O(rows²) (every ``cell()`` walks the grid) — a report of a
  300-school county has tables of hundreds of rows, built here in one XML string;
- python-docx has no chart API, and charts must be *native* Word charts (``c:chartSpace`` parts with cached values)
  so that Word, WPS and LibreOffice draw them with the reader's own fonts: an embedded picture would need a CJK
  font on the machine that renders it, a native chart does not.

Chinese text renders with standard fonts: the document defaults and the body styles name 宋体 (SimSun) for East Asian
text and the headings 黑体 (SimHei), with every theme-font attribute removed (a theme attribute would win over the
explicit name). Pages are A4 with the margins of Chinese official documents and a centred page number in the footer.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from lxml import etree  # type: ignore[import-untyped]

__all__ = [
    "BODY_FONT",
    "HEADING_FONT",
    "Chart",
    "Series",
    "add_chart",
    "add_heading",
    "add_page_break",
    "add_paragraph",
    "add_table",
    "new_document",
    "to_bytes",
]

BODY_FONT = "宋体"  # SimSun
HEADING_FONT = "黑体"  # SimHei
LATIN_FONT = "Times New Roman"
BODY_SIZE = Pt(12)  # 小四
TABLE_HALF_POINTS = 21  # 五号 (10.5 pt) in table cells

CHART_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"
C_NS = CHART_URI
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object) -> str:
    """Text safe inside XML: characters XML 1.0 forbids (control characters pasted from elsewhere) are dropped."""
    return _XML_ILLEGAL.sub("", str(text))


# ----------------------------------------------------------------------------------------------------
# Document and styles


def new_document(*, title: str = "", footer_page_numbers: bool = True) -> DocumentObject:
    """An empty A4 document with Chinese fonts in the defaults and styles and page numbers in the footer."""
    doc = Document()
    _set_fonts(doc)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.0), Cm(2.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.footer_distance = Cm(1.5)
    if footer_page_numbers:
        _page_number_footer(doc)
    doc.core_properties.title = clean(title)[:255]
    doc.core_properties.language = "zh-CN"
    doc.core_properties.author = "优均"
    return doc


def _fonts_element(east_asia: str) -> etree._Element:
    return parse_xml(
        f'<w:rFonts {nsdecls("w")} w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" '
        f'w:eastAsia="{east_asia}" w:cs="{LATIN_FONT}"/>'
    )


def _replace_fonts(rpr: etree._Element, east_asia: str) -> None:
    """Put an explicit rFonts (no theme attributes) first in ``rpr``."""
    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    rpr.insert(0, _fonts_element(east_asia))


def _set_fonts(doc: DocumentObject) -> None:
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _replace_fonts(rpr, BODY_FONT)
            for lang in rpr.findall(qn("w:lang")):
                lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = BODY_SIZE
    _replace_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.3
    for name, size in (("Title", 22), ("Heading 1", 16), ("Heading 2", 14), ("Heading 3", 12)):
        style = doc.styles[name]
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = None
        _replace_fonts(style.element.get_or_add_rPr(), HEADING_FONT)
        rpr = style.element.rPr
        for color in rpr.findall(qn("w:color")) if rpr is not None else []:
            rpr.remove(color)
        style.paragraph_format.space_before = Pt(12 if name != "Heading 3" else 6)
        style.paragraph_format.space_after = Pt(6)
    title_pf = doc.styles["Title"].paragraph_format
    title_pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The Title style of the default template draws a bottom border: not in a Chinese report.
    ppr = doc.styles["Title"].element.pPr
    if ppr is not None:
        for border in ppr.findall(qn("w:pBdr")):
            ppr.remove(border)
    caption = doc.styles.add_style("图表标题", WD_STYLE_TYPE.PARAGRAPH)
    caption.base_style = doc.styles["Normal"]
    caption.font.size = Pt(10.5)
    caption.font.bold = True
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.space_before = Pt(6)
    _strip_theme_fonts(styles)


def _strip_theme_fonts(styles: etree._Element) -> None:
    for fonts in styles.iter(qn("w:rFonts")):
        for attr in _THEME_ATTRS:
            fonts.attrib.pop(qn(attr), None)


def _page_number_footer(doc: DocumentObject) -> None:
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("第 ")
    paragraph._p.append(
        parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>')
    )
    paragraph.add_run(" 页")


def add_heading(doc: DocumentObject, text: str, level: int = 1) -> Paragraph:
    heading: Paragraph = doc.add_heading(clean(text), level=level)
    return heading


def add_paragraph(
    doc: DocumentObject,
    text: str = "",
    *,
    bold: bool = False,
    size: float | None = None,
    align: str | None = None,
    style: str | None = None,
    indent: bool = False,
) -> Paragraph:
    """A body paragraph; ``indent`` gives the two-character first-line indent of Chinese prose."""
    paragraph = doc.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(clean(text))
        run.bold = bold or None
        if size is not None:
            run.font.size = Pt(size)
    if align == "center":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "right":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(24)
    return paragraph


def add_page_break(doc: DocumentObject) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def to_bytes(doc: DocumentObject) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell with its own formatting: bold, horizontal span, shading, alignment, minimum height."""

    text: str
    bold: bool = False
    span: int = 1
    shade: str | None = None
    align: str | None = None  # "center" / "right"
    height_lines: int = 0  # blank lines added below the text (opinion boxes)


CellLike = str | Cell


def _cell_xml(cell: CellLike, width: int) -> str:
    if not isinstance(cell, Cell):
        cell = Cell(cell)
    props = [f'<w:tcW w:w="{width}" w:type="dxa"/>']
    if cell.span > 1:
        props.append(f'<w:gridSpan w:val="{cell.span}"/>')
    if cell.shade:
        props.append(f'<w:shd w:val="clear" w:color="auto" w:fill="{cell.shade}"/>')
    props.append('<w:vAlign w:val="center"/>')
    jc = f'<w:jc w:val="{cell.align}"/>' if cell.align else ""
    rpr = f'<w:rPr>{"<w:b/>" if cell.bold else ""}<w:sz w:val="{TABLE_HALF_POINTS}"/></w:rPr>'
    ppr = f'<w:pPr><w:spacing w:before="20" w:after="20" w:line="260" w:lineRule="auto"/>{jc}{rpr}</w:pPr>'
    lines = clean(cell.text).split("\n")
    paragraphs = "".join(
        f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>' for line in lines
    )
    paragraphs += f"<w:p>{ppr}</w:p>" * cell.height_lines
    return f"<w:tc><w:tcPr>{''.join(props)}</w:tcPr>{paragraphs}</w:tc>"


def add_table(
    doc: DocumentObject,
    rows: Sequence[Sequence[CellLike]],
    widths_cm: Sequence[float],
    *,
    header_rows: int = 1,
) -> None:
    """Append a bordered table (header rows shaded, bold and repeated on every page) built as one XML string.

    ``widths_cm`` gives the grid; a :class:`Cell` with ``span`` covers several grid columns.
    """
    grid = [round(w * 567) for w in widths_cm]  # twentieths of a point per centimetre
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    borders = "".join(border.format(side) for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    parts = [
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{sum(grid)}" w:type="dxa"/>',
        f'<w:jc w:val="center"/><w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>',
        '<w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar>',
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" '
        'w:noVBand="1"/></w:tblPr><w:tblGrid>',
        "".join(f'<w:gridCol w:w="{w}"/>' for w in grid),
        "</w:tblGrid>",
    ]
    for index, row in enumerate(rows):
        header = index < header_rows
        trpr = "<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>" if header else "<w:trPr><w:cantSplit/></w:trPr>"
        cells: list[str] = []
        column = 0
        for cell in row:
            if header and not isinstance(cell, Cell):
                cell = Cell(cell, bold=True, shade="D9E1F2", align="center")
            span = cell.span if isinstance(cell, Cell) else 1
            cells.append(_cell_xml(cell, sum(grid[column : column + span])))
            column += span
        parts.append(f"<w:tr>{trpr}{''.join(cells)}</w:tr>")
    parts.append("</w:tbl>")
    table = parse_xml("".join(parts))
    doc.element.body.insert_element_before(table, "w:sectPr")
    # an empty paragraph keeps two consecutive tables from merging into one
    doc.add_paragraph().paragraph_format.space_after = Pt(2)


# ----------------------------------------------------------------------------------------------------
# Native charts


@dataclass(frozen=True, slots=True)
class Series:
    """One chart series; ``kind`` is ``"bar"`` (clustered columns) or ``"line"`` (e.g. a limit drawn across).

    A line is dashed (a limit, a projection) unless ``dashed`` is False (figures followed over the years), and
    ``markers`` puts a dot on each of its points (a line of one point is then still seen)."""

    name: str
    values: Sequence[float | None]
    kind: str = "bar"
    color: str = "4472C4"
    dashed: bool = True
    markers: bool = False


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    number_format: str = "0.000"
    axis_title: str = ""


def add_chart(doc: DocumentObject, chart: Chart, *, width_cm: float = 15.5, height_cm: float = 8.0) -> str:
    """Append a native Word chart (a ``word/charts/chartN.xml`` part with cached values) in its own paragraph.

    The chart's data also go into an embedded workbook, so that 「编辑数据」 in Word/WPS opens them. Returns the
    part name of the chart.
    """
    package = doc.part.package
    number = 1 + sum(1 for part in package.iter_parts() if str(part.partname).startswith("/word/charts/chart"))
    chart_part = Part(
        PackURI(f"/word/charts/chart{number}.xml"), CHART_CONTENT_TYPE, b"", package
    )  # blob set below, once the embedded workbook's relationship id is known
    workbook = Part(
        PackURI(f"/word/embeddings/Microsoft_Excel_Worksheet{number}.xlsx"),
        XLSX_CONTENT_TYPE,
        _chart_workbook(chart),
        package,
    )
    workbook_rid = chart_part.relate_to(workbook, RT.PACKAGE)
    chart_part._blob = _chart_xml(chart, workbook_rid)
    rid = doc.part.relate_to(chart_part, RT.CHART)
    doc_pr_id = 1000 + number
    cx, cy = int(width_cm * 360000), int(height_cm * 360000)
    inline = (
        f'<w:r {nsdecls("w", "wp", "a", "r")}><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{doc_pr_id}" name="图表 {number}" descr="{escape(clean(chart.title))}"/>'
        "<wp:cNvGraphicFramePr/>"
        f'<a:graphic><a:graphicData uri="{CHART_URI}">'
        f'<c:chart xmlns:c="{C_NS}" r:id="{rid}"/>'
        "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph._p.append(parse_xml(inline))
    return str(chart_part.partname)


def _sheet_ref(column: int, count: int) -> str:
    letter = chr(ord("A") + column)
    return f"Sheet1!${letter}$2:${letter}${count + 1}"


def _str_cache(values: Sequence[str]) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{escape(clean(v))}</c:v></c:pt>' for i, v in enumerate(values))
    return f'<c:strCache><c:ptCount val="{len(values)}"/>{points}</c:strCache>'


def _num_cache(values: Sequence[float | None], number_format: str) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{v!r}</c:v></c:pt>' for i, v in enumerate(values) if v is not None)
    return (
        f'<c:numCache><c:formatCode>{number_format}</c:formatCode><c:ptCount val="{len(values)}"/>{points}</c:numCache>'
    )


def _series_xml(chart: Chart, index: int, series: Series) -> str:
    count = len(chart.categories)
    letter = chr(ord("B") + index)
    name = (
        f"<c:tx><c:strRef><c:f>Sheet1!${letter}$1</c:f>{_str_cache([series.name])}</c:strRef></c:tx>"
        f"<c:spPr>{_fill(series)}</c:spPr>"
    )
    body = (
        f"<c:cat><c:strRef><c:f>{_sheet_ref(0, count)}</c:f>{_str_cache(chart.categories)}</c:strRef></c:cat>"
        f"<c:val><c:numRef><c:f>{_sheet_ref(index + 1, count)}</c:f>"
        f"{_num_cache(series.values, chart.number_format)}</c:numRef></c:val>"
    )
    extra = _marker(series) if series.kind == "line" else '<c:invertIfNegative val="0"/>'
    labels = ""
    if series.kind == "bar":
        labels = (
            f'<c:dLbls><c:numFmt formatCode="{chart.number_format}" sourceLinked="0"/>'
            "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
            '<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="800"/></a:pPr>'
            '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr><c:showLegendKey val="0"/><c:showVal val="1"/>'
            '<c:showCatName val="0"/><c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>'
            "</c:dLbls>"
        )
    smooth = '<c:smooth val="0"/>' if series.kind == "line" else ""
    return f'<c:ser><c:idx val="{index}"/><c:order val="{index}"/>{name}{extra}{labels}{body}{smooth}</c:ser>'


def _fill(series: Series) -> str:
    if series.kind == "line":
        solid = f'<a:solidFill><a:srgbClr val="{series.color}"/></a:solidFill>'
        dash = '<a:prstDash val="dash"/>' if series.dashed else '<a:prstDash val="solid"/>'
        return f'<a:ln w="22225">{solid}{dash}</a:ln>'
    return f'<a:solidFill><a:srgbClr val="{series.color}"/></a:solidFill>'


def _marker(series: Series) -> str:
    if not series.markers:
        return '<c:marker><c:symbol val="none"/></c:marker>'
    fill = f'<a:solidFill><a:srgbClr val="{series.color}"/></a:solidFill>'
    return f'<c:marker><c:symbol val="circle"/><c:size val="5"/><c:spPr>{fill}<a:ln>{fill}</a:ln></c:spPr></c:marker>'


def _text_props(size: int, bold: bool = False) -> str:
    b = ' b="1"' if bold else ""
    return (
        f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}"{b}>'
        f'<a:latin typeface="{LATIN_FONT}"/><a:ea typeface="{BODY_FONT}"/></a:defRPr></a:pPr>'
        '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>'
    )


def _chart_xml(chart: Chart, workbook_rid: str) -> bytes:
    bars = [(i, s) for i, s in enumerate(chart.series) if s.kind == "bar"]
    lines = [(i, s) for i, s in enumerate(chart.series) if s.kind == "line"]
    axes = '<c:axId val="50010001"/><c:axId val="50010002"/>'
    plot = ""
    if bars:
        plot += (
            '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
            + "".join(_series_xml(chart, i, s) for i, s in bars)
            + f'<c:gapWidth val="80"/>{axes}</c:barChart>'
        )
    if lines:
        plot += (
            '<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>'
            + "".join(_series_xml(chart, i, s) for i, s in lines)
            + f'<c:marker val="1"/>{axes}</c:lineChart>'
        )
    axis_title = ""
    if chart.axis_title:
        axis_title = (
            f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="zh-CN" sz="900"/>'
            f'<a:t>{escape(clean(chart.axis_title))}</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title>'
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
        '<c:date1904 val="0"/><c:lang val="zh-CN"/><c:roundedCorners val="0"/><c:chart>'
        f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1200" b="1"/></a:pPr>'
        f'<a:r><a:rPr lang="zh-CN" sz="1200" b="1"><a:latin typeface="{LATIN_FONT}"/><a:ea typeface="{HEADING_FONT}"/>'
        f"</a:rPr><a:t>{escape(clean(chart.title))}</a:t></a:r></a:p></c:rich></c:tx>"
        '<c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
        f"<c:plotArea><c:layout/>{plot}"
        '<c:catAx><c:axId val="50010001"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        '<c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="low"/>'
        f'{_text_props(900)}<c:crossAx val="50010002"/><c:crosses val="autoZero"/>'
        '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="50010002"/><c:scaling><c:orientation val="minMax"/><c:min val="0"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill>'
        f'<a:srgbClr val="D9D9D9"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>{axis_title}'
        f'<c:numFmt formatCode="{chart.number_format}" sourceLinked="0"/><c:majorTickMark val="out"/>'
        f'<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>{_text_props(900)}'
        '<c:crossAx val="50010001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
        "</c:plotArea>"
        f'<c:legend><c:legendPos val="b"/><c:overlay val="0"/>{_text_props(900)}</c:legend>'
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        f"{_text_props(900)}"
        f'<c:externalData r:id="{workbook_rid}"><c:autoUpdate val="0"/></c:externalData>'
        "</c:chartSpace>"
    )
    return xml.encode("utf-8")


def _chart_workbook(chart: Chart) -> bytes:
    """The chart's data as a small workbook (Sheet1: categories in column A, one series per column)."""
    from xlsxwriter import Workbook  # type: ignore[import-untyped]

    buffer = io.BytesIO()
    workbook = Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Sheet1")
    sheet.write_string(0, 0, "")
    for i, series in enumerate(chart.series):
        sheet.write_string(0, i + 1, series.name)
    for row, category in enumerate(chart.categories, start=1):
        sheet.write_string(row, 0, category)
        for i, series in enumerate(chart.series):
            value = series.values[row - 1]
            if value is not None:
                sheet.write_number(row, i + 1, value)
    workbook.close()
    return buffer.getvalue()
