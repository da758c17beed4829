"""The building blocks of the scenario schema: typed quantities, sources, and the documented field :func:`_p`.

Each field is declared with :func:`_p`, which records its unit, the source of its default (a seed file, a
public source named in the domain notes, or ``assumption``) and its bounds: a hard ``limit`` (refused outside)
and a ``plausible`` range (a warning outside), see :mod:`parksim.scenario.bounds`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from parksim.scenario.bounds import check_field
from parksim.scenario.dists import ENTITY, Param, in_range

# --- typed quantities -------------------------------------------------------------
_PQ = Param
Prob = Annotated[_PQ, AfterValidator(in_range(0.0, 1.0))]
NonNeg = Annotated[_PQ, AfterValidator(in_range(0.0))]
Pos = Annotated[_PQ, AfterValidator(in_range(0.0, strict_lo=True))]
Real = _PQ
EProb = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0, 1.0))]
ENonNeg = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0))]
EPos = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0, strict_lo=True))]
EScore = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0, 100.0))]

ASSUMPTION = "assumption"
SEED_000 = "seed 000_33ecaa117b1942e4.txt (Xiushan)"
SEED_001 = "seed 001_72549c66496bd046.txt (Zunyi, Nanjing, Quanzhou, East Lake)"
SEED_002 = "seed 002_e4c908b9ddb99f14.txt (Liangping 1/2/6-month promise)"
SEED_003 = "seed 003_1a37f358bfc2a9f6.txt (Chongqing parks)"
SEED_004 = "seed 004_8688862d7be7c5d3.txt (Ningxia)"
HNTE_RULE = "国科发火〔2016〕32号 and guideline 〔2016〕195号 (DOMAIN §3)"
TSME_RULE = "国科发政〔2017〕115号 (DOMAIN §3)"
ZJTX_RULE = "专精特新 SME criteria (DOMAIN §3)"
NBS = "National Bureau of Statistics above-size threshold (DOMAIN §3)"
FUNNEL = "funnel evidence, Chongqing/Sichuan 2020-2025 (DOMAIN §2)"
VALUE_ADDED = (
    "China 2022: all-industry value added 401,644亿元 (NBS statistical communiqué, 2023-02-28) ÷ above-size revenue"
    " ≈1,380,000亿元 (profit 84,039亿元 at a 6.09% margin, same communiqué) = 0.29, an upper bound for above-size firms;"
    " 169 national high-tech zones 2021: zone GDP 15.3万亿元 (MOST press conference, Xinhua, 2022-09-14) ÷ revenue"
    " 49.5万亿元 (2021年国家高新区综合发展与数据分析报告, 中国高新区杂志社, 2022) = 0.31; Shenzhen 2022 above-size value added ÷ gross output 0.22-0.25"
    " (research notes eastlake-nanjing-zunyi.md §4)"
)
CQ_REGISTRY = "《重庆市科技型企业入库培育实施细则》 (2022 revision; its 政策解读, mirror dated 2022-06-22, research notes chongqing.md §A4)"


def _p(
    default: Any,
    unit: str,
    doc: str,
    source: str = ASSUMPTION,
    *,
    plausible: tuple[float, float] | None = None,
    limit: tuple[float, float] | None = None,
    allow_inf: bool = False,
    **kw,
) -> Any:
    """A documented field: default, unit, meaning, where the default comes from, and its bounds.

    ``limit``: values outside are refused (they cannot describe a park); ``plausible``: values outside are
    accepted with a warning (most often a value in another unit). Every number must be finite unless
    ``allow_inf``. See :mod:`parksim.scenario.bounds`.
    """
    extra: dict = {"unit": unit, "source": source}
    if plausible is not None:
        extra["plausible"] = plausible
    if limit is not None:
        extra["limit"] = limit
    if allow_inf:
        extra["allow_inf"] = True
    if callable(default) and not isinstance(default, (int, float, str, bool)):
        return Field(default_factory=default, description=doc, json_schema_extra=extra, **kw)
    return Field(default, description=doc, json_schema_extra=extra, **kw)


class _Model(BaseModel):
    # strict: TOML values are typed, so "6" or true where a number is expected is an error
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    @field_validator("*")
    @classmethod
    def _bounds(cls, v, info: ValidationInfo):
        return check_field(cls, info.field_name, v)


def _logn(median: float, sigma: float) -> dict:
    return {"dist": "lognormal", "median": median, "sigma": sigma}


def _tri(low: float, mode: float, high: float) -> dict:
    return {"dist": "triangular", "low": low, "mode": mode, "high": high}


def _unif(low: float, high: float) -> dict:
    return {"dist": "uniform", "low": low, "high": high}


COMPARISONS = (">", ">=", "<", "<=", "==")


def _known_indicator(v):
    from parksim.rules.indicators import INDICATORS

    if v not in INDICATORS:
        raise ValueError(f"unknown indicator {v!r}; expected one of {sorted(INDICATORS)}")
    return v


def _known_comparison(v):
    if v not in COMPARISONS:
        raise ValueError(f"unknown comparison {v!r}; expected one of {list(COMPARISONS)}")
    return v
