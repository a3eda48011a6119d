"""Manual entries of the demo park (submitted, approved, rejected) with evidence.

Who acts (plain user names until the security issue brings logins):

* 王芳 ``wangfang`` — data clerk (填报员) of the cement plant; 李强 ``liqiang`` — its energy
  manager; 赵敏 ``zhaomin`` — its carbon manager, who reviews fuel lab data;
* 陈静 ``chenjing`` — statistics clerk of the dyeing plant; 孙浩 ``sunhao`` — its energy manager;
* 刘洋 ``liuyang`` — finance clerk of the electronics plant.

The entries never change the park's figures: the approved reading and production values are
those the park already holds (the diesel ledger's month-end total; a daily output first
approved with a typo and then corrected), and the coal lot is still awaiting review.  The
evidence files (a ledger and a production report as CSV, a coal lab report as PDF) are small
and generated from the data, so the same build stores the same files.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nengtan.config import get_settings
from nengtan.demo.context import Context
from nengtan.services import evidence
from nengtan.services import manual_entries as entries
from nengtan.services.audit import Actor
from nengtan.store.models import MeterTail, Product, ProductionRecord
from nengtan.timeseries.calendar import from_us

SOURCE = "demo"
CLERK, ENERGY, CARBON = Actor("wangfang", SOURCE), Actor("liqiang", SOURCE), Actor("zhaomin", SOURCE)
TEX_CLERK, TEX_ENERGY = Actor("chenjing", SOURCE), Actor("sunhao", SOURCE)
ELE_CLERK = Actor("liuyang", SOURCE)
DIESEL = "CEM-D-101"


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    """Six entries: approved, approved after a superseded version, submitted after a
    rejection, rejected, withdrawn and a draft."""
    demo = _Steps(engine, get_settings().resolved_evidence_dir())
    _diesel_reading(demo, ids[DIESEL], tz)
    _coal_lot(demo, last)
    _fabric_output(demo, last)
    _clinker_output(demo, last)
    _economics_draft(demo, last)


class _Steps:
    """Each workflow action in its own transaction, as the API runs them (so the audit log's
    lock is always taken last in a transaction)."""

    def __init__(self, engine: Engine, root) -> None:
        self.engine, self.root = engine, root

    def read(self, query):
        with Session(self.engine) as s:
            return s.scalar(query)

    def upload(self, data: bytes, name: str, actor: Actor, tenant: str, description: str) -> int:
        with Session(self.engine) as s, s.begin():
            return evidence.store(s, self.root, data, filename=name, actor=actor, tenant=tenant,
                                  description=description).id

    def __call__(self, action, *args, **kwargs) -> int:
        with Session(self.engine) as s, s.begin():
            return action(s, *args, **kwargs).id


def _csv(rows: list[list[object]]) -> bytes:
    return ("\ufeff" + "\r\n".join(",".join(str(c) for c in r) for r in rows) + "\r\n").encode()


def _diesel_reading(demo: _Steps, meter_id: int, tz: ZoneInfo) -> None:
    """The month-end total of the loaders' diesel ledger, approved; a duplicate withdrawn."""
    tail = demo.read(select(MeterTail).where(MeterTail.meter_id == meter_id))
    value = float(tail.value[-1])
    local = from_us(int(tail.ts[-1])).astimezone(tz)
    month = (local.date() - timedelta(days=1)).strftime("%Y-%m")
    ledger = _csv([["日期", "领用单位", "车辆", "发油量(kg)", "累计(kg)", "经手人"],
                   [f"{month}-末", "原料车间", "装载机1#/2#", "—", f"{value:.0f}", "王芳"]])
    file_id = demo.upload(ledger, f"油库发油台账_{month}.csv", CLERK, "CEM",
                          "油库发油台账月末汇总 / diesel issue ledger, month end")
    payload = {"meter": DIESEL, "ts": local.isoformat(), "value": value, "unit": "kg",
               "reason": "油库发油台账月末累计"}
    entry = demo(entries.create, "reading", payload, CLERK, note=f"{month} 月末抄表",
                 submit=True, evidence_ids=[file_id])
    demo(entries.approve, entry, ENERGY, comment="与油库台账核对一致")
    dup = demo(entries.create, "reading", payload, CLERK, note=f"{month} 月末抄表")
    demo(entries.withdraw, dup, CLERK, comment="重复录入，撤回")


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 showing ``lines`` (ASCII) in Helvetica; no dates inside, so the
    same lines give the same bytes."""
    text = "BT /F1 11 Tf 56 780 Td 15 TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for ln in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
         b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("ascii")),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _coal_lot(demo: _Steps, last: date) -> None:
    """A coal lot whose lab values were mistyped: rejected by the carbon manager, corrected,
    and awaiting her review."""
    report_no = f"HY-MZ-{last:%Y}-M{last:%m%d}"
    lab = _pdf(["Shandong Luyue Cement Co., Ltd. - Laboratory",
                f"Coal quality test report {report_no}",
                f"Lot MC{last:%Y%m%d}M, bituminous coal, sampled on arrival {last.isoformat()}",
                "Net calorific value, as received (GB/T 213-2008): 22480 kJ/kg",
                "Total carbon, as received (GB/T 476-2008): 56.80 %",
                "Total moisture (GB/T 211-2017): 9.6 %",
                "Tested by: Zhang Wei    Checked by: Li Na"])
    file_id = demo.upload(lab, f"{report_no}_煤质化验报告.pdf", CLERK, "CEM",
                          "煤质化验报告 / coal lab report")
    payload = {"node": "CEM", "carrier": "bituminous_coal", "delivered_on": last.isoformat(),
               "quantity": 2860.4, "unit": "t", "supplier": "晋北煤业供应链有限公司",
               "lot_no": f"MC{last:%Y%m%d}M", "ncv": 22480, "ncv_unit": "kJ/kg",
               "carbon_content_pct": 5.68, "lab": "山东鲁岳水泥有限公司化验室",
               "report_no": report_no, "method": "GB/T 213-2008",
               "note": "元素碳含量按 GB/T 476-2008 测定"}
    entry = demo(entries.create, "fuel_delivery", payload, CLERK, note="补录到货煤批次",
                 submit=True, evidence_ids=[file_id])
    demo(entries.reject, entry, CARBON, "元素碳含量应为 56.80%（见化验报告），请更正后重新提交")
    demo(entries.revise, entry, CLERK, payload={**payload, "carbon_content_pct": 56.8},
         note="按化验报告更正元素碳含量", submit=True)


def _output(demo: _Steps, code: str, day: date) -> float:
    return demo.read(select(ProductionRecord.quantity)
                     .join(Product, Product.id == ProductionRecord.product_id)
                     .where(Product.code == code, ProductionRecord.period_start == day,
                            ProductionRecord.period_end == day))


def _fabric_output(demo: _Steps, last: date) -> None:
    """A day's fabric output approved with a typo, then corrected: version 1 superseded."""
    quantity = _output(demo, "DYED-FABRIC", last)
    report = _csv([["日期", "产品", "产量(10^4 m)", "班组"],
                   [last.isoformat(), "印染布", f"{quantity:.4f}", "甲/乙/丙"]])
    file_id = demo.upload(report, f"TEX_生产日报_{last.isoformat()}.csv", TEX_CLERK, "TEX",
                          "生产日报 / daily production report")
    payload = {"node": "TEX", "product": "DYED-FABRIC", "period_start": last.isoformat(),
               "period_end": last.isoformat(), "quantity": round(quantity * 10, 4),
               "unit": "10^4 m", "source": "生产日报（手工填报）"}
    entry = demo(entries.create, "production", payload, TEX_CLERK, submit=True,
                 evidence_ids=[file_id])
    demo(entries.approve, entry, TEX_ENERGY)
    demo(entries.revise, entry, TEX_CLERK, payload={**payload, "quantity": quantity},
         note="小数点错位，按生产日报更正", submit=True)
    demo(entries.approve, entry, TEX_ENERGY, comment="已与生产日报核对")


def _clinker_output(demo: _Steps, last: date) -> None:
    """A clinker output that disagrees with the DCS daily report: rejected."""
    quantity = _output(demo, "CLINKER", last)
    shift = _csv([["日期", "班次", "熟料产量(t)"],
                  [last.isoformat(), "全天（交班记录合计）", f"{quantity + 48:.1f}"]])
    file_id = demo.upload(shift, f"CEM_交班记录_{last.isoformat()}.csv", CLERK, "CEM",
                          "交班记录 / shift log")
    entry = demo(entries.create, "production", {
        "node": "CEM", "product": "CLINKER", "period_start": last.isoformat(),
        "period_end": last.isoformat(), "quantity": round(quantity + 48, 1), "unit": "t",
        "source": "交班记录（手工填报）"}, CLERK, submit=True, evidence_ids=[file_id])
    demo(entries.reject, entry, ENERGY, f"与DCS生产日报不符（日报 {quantity:.1f} t），请核对后修订")


def _economics_draft(demo: _Steps, last: date) -> None:
    """Last month's output value of the electronics plant, saved as a draft."""
    end = last.replace(day=1) - timedelta(days=1)
    demo(entries.create, "economic", {
        "node": "ELE", "period_start": end.replace(day=1).isoformat(),
        "period_end": end.isoformat(), "output_value": 1268.5, "added_value": 241.0,
        "unit": "10^4 CNY", "source": "财务月报（手工填报）"}, ELE_CLERK,
        note="待财务月报定稿后提交")
