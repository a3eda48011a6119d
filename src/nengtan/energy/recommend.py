"""Energy strategy recommendations (用能策略推荐), each quantified per year with its arithmetic.

Pure: every function takes the figures a service measured (energy by tariff band, monthly
demand, power factor, unit consumption and benchmark level, roof area, idle-time energy) and
the assumptions it needs, and returns a :class:`Recommendation` whose ``steps`` show the
calculation line by line and whose ``assumptions`` name each assumed value with its source and
status.  Savings are per year, in CNY, tce (GB/T 2589 equivalent value) and tCO2.

Money is saved by shifting load even where no energy is saved (then ``tce`` and ``tco2`` are 0
and the text says so); a measure whose saving is not positive is not recommended (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nengtan.energy.gbt2589 import KGCE_PER_KWH_EQUIVALENT


@dataclass(frozen=True)
class Assumption:
    name: str
    value: float
    unit: str
    source: str
    status: str = "assumption"

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "unit": self.unit,
                "source": self.source, "status": self.status}


@dataclass(frozen=True)
class Step:
    """One line of the calculation: ``label = formula = value unit``."""

    label_zh: str
    label_en: str
    formula: str
    value: float
    unit: str

    def as_dict(self) -> dict:
        return {"label_zh": self.label_zh, "label_en": self.label_en, "formula": self.formula,
                "value": self.value, "unit": self.unit}


@dataclass(frozen=True)
class Recommendation:
    code: str
    node: str
    title_zh: str
    title_en: str
    action_zh: str
    action_en: str
    cny_per_year: float
    tce_per_year: float
    tco2_per_year: float
    steps: tuple[Step, ...]
    assumptions: tuple[Assumption, ...] = ()
    investment_cny: float | None = None
    basis: dict = field(default_factory=dict)

    @property
    def payback_years(self) -> float | None:
        if self.investment_cny is None or self.cny_per_year <= 0:
            return None
        return self.investment_cny / self.cny_per_year

    def as_dict(self) -> dict:
        return {
            "code": self.code, "node": self.node, "title_zh": self.title_zh,
            "title_en": self.title_en, "action_zh": self.action_zh, "action_en": self.action_en,
            "cny_per_year": self.cny_per_year, "tce_per_year": self.tce_per_year,
            "tco2_per_year": self.tco2_per_year, "investment_cny": self.investment_cny,
            "payback_years": self.payback_years,
            "steps": [s.as_dict() for s in self.steps],
            "assumptions": [a.as_dict() for a in self.assumptions], "basis": self.basis,
        }


def _kwh_tce(kwh: float) -> float:
    return kwh * KGCE_PER_KWH_EQUIVALENT / 1000.0


def valley_shift(node: str, band_kwh: dict[str, float], prices: dict[str, float],
                 shiftable: Assumption) -> Recommendation | None:
    """Shift a share of peak and sharp (尖峰/高峰) energy to valley hours (移峰填谷).

    saving = share × Σ_b∈{sharp, peak} E_b × (p_b − p_valley); energy use unchanged.
    """
    valley = prices.get("valley")
    if valley is None:
        return None
    steps, total = [], 0.0
    for band in ("sharp", "peak"):
        e, p = band_kwh.get(band, 0.0), prices.get(band)
        if not e or p is None:
            continue
        cny = shiftable.value * e * (p - valley)
        total += cny
        steps.append(Step(f"{band} 时段转移节省", f"saving on {band} energy shifted",
                          f"{shiftable.value:g} × {e:,.0f} kWh × ({p:g} − {valley:g}) CNY/kWh",
                          cny, "CNY/a"))
    if total <= 0:
        return None
    return Recommendation(
        "valley_shift", node, "移峰填谷：将可调负荷移至低谷时段",
        "Shift flexible load from peak to valley hours",
        "将可间断生产（如生料磨、空压机储气、蓄冷蓄热）安排在低谷电价时段运行",
        "Run interruptible production (mills, air storage, thermal/cold storage) in valley hours",
        total, 0.0, 0.0, tuple(steps), (shiftable,),
        basis={"band_kwh": band_kwh, "prices_cny_per_kwh": prices,
               "note": "load shifting saves money, not energy: tce and tCO2 are 0"})


def demand_reduction(node: str, monthly_max_kw: list[float], monthly_target_kw: list[float],
                     demand_charge: float, target: Assumption) -> Recommendation | None:
    """Cap monthly maximum demand (需量管理) at a target such as the 95th percentile of
    15-minute demand: saving = Σ_months (max − target)⁺ × demand charge (CNY/kW·month)."""
    cuts = [max(m - t, 0.0) for m, t in zip(monthly_max_kw, monthly_target_kw)]
    total = sum(cuts) * demand_charge
    if total <= 0:
        return None
    steps = (Step("各月可削减需量之和", "sum of monthly demand reductions",
                  " + ".join(f"{c:,.0f}" for c in cuts) + " kW", sum(cuts), "kW·month"),
             Step("需量电费节省", "demand charge saved",
                  f"{sum(cuts):,.0f} kW·month × {demand_charge:g} CNY/kW·month", total,
                  "CNY/a"))
    return Recommendation(
        "demand_reduction", node, "需量管理：削减月最大需量", "Reduce the monthly maximum demand",
        "设置需量控制（错开大电机启动、负荷限值告警、储能削峰），使月最大需量不超过目标值",
        "Stagger large motor starts, alarm on a demand limit, shave peaks with storage",
        total, 0.0, 0.0, steps, (target,),
        basis={"monthly_max_kw": monthly_max_kw, "monthly_target_kw": monthly_target_kw,
               "demand_charge_cny_per_kw_month": demand_charge})


def pf_adjustment_pct(pf: float, standard: float = 0.90) -> float:
    """Power-factor adjustment of the electricity bill, % (+ penalty, − reward), for the 0.90
    standard of 《功率因数调整电费办法》 (水电财字〔1983〕215号) Table 1: below 0.90, +0.5 % per
    0.01 down to 0.70, +1 % per 0.01 from 0.69 to 0.65, +2 % per 0.01 below 0.65; above 0.90,
    −0.15 % per 0.01 up to 0.94, and −0.75 % at 0.95 and above."""
    steps = round((standard - pf) * 100, 6)
    if steps > 0:
        first = min(steps, round((standard - 0.70) * 100))
        pct = 0.5 * first
        if steps > first:
            second = min(steps - first, 5)
            pct += 1.0 * second
            pct += 2.0 * max(steps - first - second, 0)
        return pct
    above = -steps
    return -0.75 if above >= 5 else -0.15 * min(above, 4)


def power_factor(node: str, pf: float, annual_bill_cny: float, annual_kwh: float,
                 target_pf: Assumption, capacitor_cost: Assumption,
                 hours: float = 8760.0) -> Recommendation | None:
    """Raise the power factor (功率因数) to the target by reactive compensation.

    saving = (adj(pf) − adj(target)) % × bill; capacitor kvar = P̄ × (tan φ₁ − tan φ₂) with
    P̄ = annual kWh ÷ hours; investment = kvar × CNY/kvar.
    """
    import math

    now, after = pf_adjustment_pct(pf), pf_adjustment_pct(target_pf.value)
    saving = (now - after) / 100.0 * annual_bill_cny
    if saving <= 0 or pf >= target_pf.value:
        return None
    p_avg = annual_kwh / hours
    kvar = p_avg * (math.tan(math.acos(pf)) - math.tan(math.acos(target_pf.value)))
    invest = kvar * capacitor_cost.value
    steps = (Step("现行力调电费比例", "current power-factor adjustment",
                  f"pf {pf:.2f} vs standard 0.90", now, "%"),
             Step("补偿后力调电费比例", "adjustment after compensation",
                  f"pf {target_pf.value:.2f}", after, "%"),
             Step("电费节省", "bill saved", f"({now:g} − ({after:g})) % × {annual_bill_cny:,.0f} CNY",
                  saving, "CNY/a"),
             Step("所需无功补偿容量", "capacitor bank needed",
                  f"{p_avg:,.0f} kW × (tan φ({pf:.2f}) − tan φ({target_pf.value:.2f}))", kvar,
                  "kvar"))
    return Recommendation(
        "power_factor", node, "无功补偿：提高功率因数，消除力调电费", "Correct the power factor",
        f"加装/检修无功补偿装置，将功率因数由 {pf:.2f} 提高到 {target_pf.value:.2f}",
        f"Install or repair reactive compensation to raise the power factor from {pf:.2f} to "
        f"{target_pf.value:.2f}", saving, 0.0, 0.0, steps, (target_pf, capacitor_cost),
        investment_cny=invest,
        basis={"rule": "《功率因数调整电费办法》(水电财字〔1983〕215号), standard 0.90",
               "note": "line-loss savings of compensation are not counted"})


def benchmark_gap(node: str, product: str, actual: float, level: float, level_name: str,
                  unit: str, annual_output: float, cny_per_tce: Assumption,
                  tco2_per_tce: Assumption) -> Recommendation | None:
    """Close the gap to a benchmark level (能效对标): tce/a = (actual − level) × output ÷ 1000
    for an intensity in kgce per product unit."""
    gap = actual - level
    if gap <= 0 or annual_output <= 0:
        return None
    tce = gap * annual_output / 1000.0
    cny, tco2 = tce * cny_per_tce.value, tce * tco2_per_tce.value
    steps = (Step("与对标水平差距", "gap to the level", f"{actual:.2f} − {level:g} {unit}", gap, unit),
             Step("年节能量", "energy saved per year",
                  f"{gap:.2f} × {annual_output:,.0f} ÷ 1000", tce, "tce/a"),
             Step("年节约费用", "money saved per year",
                  f"{tce:,.1f} tce × {cny_per_tce.value:,.0f} CNY/tce", cny, "CNY/a"),
             Step("年减排量", "CO2 avoided per year",
                  f"{tce:,.1f} tce × {tco2_per_tce.value:.3f} tCO2/tce", tco2, "tCO2/a"))
    return Recommendation(
        "benchmark_gap", node, f"{product} 单位产品能耗达到{level_name}",
        f"Bring {product} unit consumption to the {level_name} level",
        "对标先进：排查窑系统热耗、余热利用与电耗差距，制定节能技改计划",
        "Close the gap: audit heat consumption, waste-heat recovery and power use; plan retrofits",
        cny, tce, tco2, steps, (cny_per_tce, tco2_per_tce),
        basis={"actual": actual, "level": level, "level_name": level_name, "unit": unit,
               "annual_output": annual_output})


def rooftop_pv(node: str, roof_m2: float, kwp_per_m2: Assumption, yield_kwh_per_kwp: Assumption,
               price_cny_per_kwh: float, grid_tco2_per_mwh: Assumption,
               capex_cny_per_wp: Assumption) -> Recommendation | None:
    """Rooftop PV used on site: kWh/a = area × kWp/m² × kWh/kWp; CNY = kWh × average purchase
    price; tce = kWh × 0.1229/1000 of grid electricity displaced; tCO2 = MWh × grid factor."""
    if roof_m2 <= 0:
        return None
    kwp = roof_m2 * kwp_per_m2.value
    kwh = kwp * yield_kwh_per_kwp.value
    cny, tce = kwh * price_cny_per_kwh, _kwh_tce(kwh)
    tco2 = kwh / 1000.0 * grid_tco2_per_mwh.value
    steps = (Step("装机容量", "capacity", f"{roof_m2:,.0f} m² × {kwp_per_m2.value:g} kWp/m²", kwp, "kWp"),
             Step("年发电量", "yearly generation",
                  f"{kwp:,.0f} kWp × {yield_kwh_per_kwp.value:,.0f} kWh/kWp", kwh, "kWh/a"),
             Step("年节约电费", "purchase avoided", f"{kwh:,.0f} kWh × {price_cny_per_kwh:.4f} CNY/kWh",
                  cny, "CNY/a"),
             Step("替代外购电折标", "purchased electricity displaced",
                  f"{kwh:,.0f} kWh × 0.1229 ÷ 1000", tce, "tce/a"),
             Step("年减排量", "CO2 avoided",
                  f"{kwh / 1000:,.0f} MWh × {grid_tco2_per_mwh.value:.4f} tCO2/MWh", tco2, "tCO2/a"))
    return Recommendation(
        "rooftop_pv", node, "屋顶分布式光伏", "Rooftop PV for own use",
        f"利用约 {roof_m2:,.0f} m² 屋顶建设约 {kwp:,.0f} kWp 分布式光伏，自发自用",
        f"Build about {kwp:,.0f} kWp of PV on {roof_m2:,.0f} m² of roof for own use",
        cny, tce, tco2, steps, (kwp_per_m2, yield_kwh_per_kwp, grid_tco2_per_mwh,
                                capex_cny_per_wp),
        investment_cny=kwp * 1000.0 * capex_cny_per_wp.value,
        basis={"roof_m2": roof_m2, "price_cny_per_kwh": price_cny_per_kwh,
               "note": "renewable electricity is excluded from energy control totals"})


def idle_base_load(node: str, idle_kwh: float, valley_price: float,
                   grid_tco2_per_mwh: Assumption, reference: Assumption) -> Recommendation | None:
    """Switch off what runs at idle times (nights, holidays) above a reference base load:
    kWh/a measured above the reference; CNY at the valley price (idle hours are mostly
    valley); tce at equivalent value; tCO2 by the grid factor."""
    if idle_kwh <= 0:
        return None
    cny, tce = idle_kwh * valley_price, _kwh_tce(idle_kwh)
    tco2 = idle_kwh / 1000.0 * grid_tco2_per_mwh.value
    steps = (Step("空闲时段超出基准的用电", "idle-time energy above the reference",
                  "Σ (kW − reference kW) over idle hours", idle_kwh, "kWh/a"),
             Step("年节约电费", "money saved", f"{idle_kwh:,.0f} kWh × {valley_price:g} CNY/kWh",
                  cny, "CNY/a"),
             Step("年节能量", "energy saved", f"{idle_kwh:,.0f} kWh × 0.1229 ÷ 1000", tce, "tce/a"),
             Step("年减排量", "CO2 avoided",
                  f"{idle_kwh / 1000:,.1f} MWh × {grid_tco2_per_mwh.value:.4f} tCO2/MWh", tco2,
                  "tCO2/a"))
    return Recommendation(
        "idle_base_load", node, "治理非生产时段基础负荷", "Cut idle-time base load",
        "夜间及节假日停产时关闭照明、空调、空压机、循环泵等非必要负荷，设定停机检查清单",
        "Switch off lighting, HVAC, compressors and pumps when production stops; use a checklist",
        cny, tce, tco2, steps, (reference, grid_tco2_per_mwh))


def green_power(node: str, grid_kwh: float, share: Assumption, premium: Assumption,
                grid_tco2_per_mwh: Assumption) -> Recommendation | None:
    """Buy a share of electricity as green power (绿电交易) with certificates: no money saved
    (a premium is paid: negative CNY), tCO2 avoided = MWh × grid factor, and the renewable
    electricity is excluded from energy control totals (tce shown as the control-total
    reduction, not an energy saving)."""
    kwh = grid_kwh * share.value
    if kwh <= 0:
        return None
    cny = -kwh * premium.value
    tce = _kwh_tce(kwh)
    tco2 = kwh / 1000.0 * grid_tco2_per_mwh.value
    steps = (Step("绿电采购量", "green power bought", f"{grid_kwh:,.0f} kWh × {share.value:g}", kwh,
                  "kWh/a"),
             Step("绿电溢价支出", "premium paid", f"−{kwh:,.0f} kWh × {premium.value:g} CNY/kWh",
                  cny, "CNY/a"),
             Step("能耗双控核减", "taken out of control totals", f"{kwh:,.0f} kWh × 0.1229 ÷ 1000",
                  tce, "tce/a"),
             Step("年减排量", "CO2 avoided",
                  f"{kwh / 1000:,.0f} MWh × {grid_tco2_per_mwh.value:.4f} tCO2/MWh", tco2, "tCO2/a"))
    return Recommendation(
        "green_power", node, "清洁能源替代：绿电交易", "Clean-energy substitution: green power",
        "通过绿电交易或绿证采购替代部分外购火电",
        "Replace part of the grid purchase by green power with certificates",
        cny, tce, tco2, steps, (share, premium, grid_tco2_per_mwh),
        basis={"note": "tce here is the reduction of the control total (renewable electricity "
                       "is excluded from 能耗双控), not an energy saving"})
