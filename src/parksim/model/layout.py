"""The state's and the plan's columns, by name.

A layout is a named tuple whose fields hold their own positions: ``FF[r, FirmF.LOGB, i]`` is firm i's log output
level in replication r. Adding a column is adding a name. Compiled code reads a field of a module-level layout as
a constant (no cost against a literal index).
"""

from __future__ import annotations

import collections
from typing import NamedTuple

import numpy as np

FIRM_YEAR = 10  # stream kind: a firm's yearly decisions (key: firm key, year)


HISTORY = 3

#: the "year" of a firm's yearly root (key * 64 + year) whose numbers redraw a certified starting firm's traits
#: (model.firms._certified_traits); simulated years are fewer (simulation.years <= 50)
CERTIFIED_YEAR = 63


def layout(name: str, *fields: str):
    """Columns by name: a named tuple whose fields hold their own positions (``FirmF.LOGB`` is the column of a firm's
    log output level in ``FF``). Compiled code reads a field of a module-level layout as a constant."""
    return collections.namedtuple(name, fields)(*range(len(fields)))


# --- plan: scalar parameters ------------------------------------------------------------
Par = layout(
    "Par",
    "W",
    "RENT_SHARE",
    "LAND_DF",
    "RENT_DF",
    "BUILD_DF",
    "LAND_DROP",
    "RENT_DROP",
    "BUILD_DROP",
    "RENT_INV_SHARE",
    "FACTORY_TOTAL",
    "FACTORY_OCC",
    "CARRY",
    "EXTRA_QUOTA",
    "REG_PROB",
    "RD_EXIT_FACTOR",
    "RD_MULT",
    "CREDIT_BONUS",
    "ABOVE",
    "INST0",
    "INST_NEW",
    "INST_CLOSE",
    "INCUB0",
    "INCUB_ADD",
    "LIST0",
    "LIST_MIN",
    "LIST_PROB",
    "CULT_APPLY",
    "CULT_APPROVE",
    "BASELINE_OUT",
    "LAND_KM2",
    "WARM_UP",
    "WARM_RATE",
    # seed 002's promise (months from signing), the yardstick of the promise_kept_share indicator
    "PROM_LAND",
    "PROM_RENT",
    "PROM_BUILD",
    # high-tech enterprise
    "H_SMALL",
    "H_MEDIUM",
    "H_LARGE",
    "H_BAND_S",
    "H_BAND_M",
    "H_ST",
    "H_HT",
    "H_SCORE",
    "H_AGE",
    "H_VALID",
    "H_MONTH",
    "H_APPLY",
    "H_REAPPLY",
    "H_APPROVE",
    "H_VIOL",
    "H_REVOKE",
    "H_RENEW",  # approval chance of a re-certification (重新认定)
    "POOL_SCORE",  # cultivation pool: score margin below the threshold
    "POOL_RD",  # cultivation pool: share of the band's R&D ratio a firm must reach
    "POOL_ENTRY",  # cultivation pool: yearly chance a firm near the conditions is enrolled
    "POOL_APPLY",  # cultivation pool: chance an eligible pool firm applies
    "POOL_APPROVE",  # cultivation pool: added to a pool firm's approval chance
    "POOL_GAIN",  # cultivation pool: innovation points a pool firm gains a year on top of SCORE_GAIN
    # firms' traits over time
    "SCORE_GAIN",  # innovation points an R&D-active firm gains a year
    "RD_GROWTH",  # yearly log-growth of an R&D-active firm's R&D share
    "HT_GAIN",  # yearly gain of an R&D-active firm's high-tech revenue share
    "RD_ADOPT",  # yearly hazard that an above-size R&D-inactive firm starts R&D
    "INST_ADOPT",  # yearly hazard that an above-size R&D-active firm sets up an R&D institution
    "SMALL_ADOPT",  # factor on both hazards for a firm below the above-size threshold
    "ADOPT_FACTOR",  # the R&D-coverage lever's factor on both hazards
    # tech-based SME
    "T_STAFF",
    "T_REVENUE",
    "T_PASS",
    "T_IP1",
    "T_HNTE",
    "T_MONTH",
    # tech-based: the definition (0 national tech-SME, 1 Chongqing registry) and the registry's conditions
    "T_KIND",
    "C_ST",
    "C_SENIOR",
    "C_RDACT",
    # 专精特新
    "Z_AGE",
    "Z_RD",
    "Z_RATIO",
    "Z_REVENUE",
    "Z_VALID",
    "Z_MONTH",
    "Z_APPLY",
    "Z_APPROVE",
    "MACRO_SD",
    # the initial status's effects (rules.assessment.status_effects)
    "SF0",
    "QF0",
    "GB0",
)


NV = len(Par)


# project entity distributions
ProjDist = layout(
    "ProjDist",
    "LAND_DELAY",
    "RENT_DELAY",
    "BUILD_DELAY",
    "RENT_PATIENCE",
    "BUILD_PATIENCE",
    "PLANNED",
    "REALISE",
    "FLOOR",
    "LAND",
    "INVEST",
)


ND = len(ProjDist)


# sector scalars
Sec = layout(
    "Sec",
    "IND",
    "GROWTH",
    "SHOCK_SD",
    "NOISE_SD",
    "HY",
    "HM",
    "YOUNG",
    "RAMP_M",
    "RAMP_S",
    "RD_NOISE",
    "WEIGHT",
    "RHO",
    "RD_ACTIVE",
    "IP1",
    "IP2_MEAN",
    "FIELD",
    "NICHE",
    "RD_INST",
    "KEY",
    "VA",
)


NS = len(Sec)


# sector entity distributions
SecDist = layout(
    "SecDist",
    "PROD",
    "RD_SHARE",
    "ST",
    "HT",
    "HTS",
    "SCORE",
)


NSD = len(SecDist)


# synthetic baseline per sector
Base = layout(
    "Base",
    "N",
    "TOTAL",
    "HNTE",
    "TSME",
    "ZJTX",
    "RENT",
    "HAS",
)


NB = len(Base)


BaseDist = layout(
    "BaseDist",
    "REVENUE",
    "AGE",
    "FLOOR",
)


NBD = len(BaseDist)


# per month
Month = layout(
    "Month",
    "RATE",
    "FADD",
    "LADD",
    "QUOTA",
)


NM = len(Month)


# register rows (nan: not given)
Reg = layout(
    "Reg",
    "SECTOR",
    "REVENUE",
    "AGE",
    "EMPLOYEES",
    "RD",
    "ST",
    "HT",
    "HTS",
    "IP1",
    "IP2",
    "NICHE",
    "RDINST",
    "LISTED",
    "HEXP",
    "TSME",
    "ZEXP",
    "FLOOR",
)


NG = len(Reg)


# known projects
Known = layout(
    "Known",
    "SIGN",
    "SECTOR",
    "RENT",
    "PLANNED",
    "FLOOR",
    "LAND",
    "INVEST",
    "LANDED",
    "JOBS",
)


NK = len(Known)


# --- block state ------------------------------------------------------------------------
FirmF = layout(
    "FirmF",
    "BIRTH",
    "DEATH",
    "LOGB",
    "RAMP_M",
    "RAMP_S",
    "PROD",
    "ST",
    "HT",
    "HTS",
    "SCORE",
    "HEXP",
    "ZEXP",
    "FLOOR",
    "SHARE",
    "RDG",  # factor on the firm's R&D share from its yearly growth since it was created (traits.rd_share_growth)
)


NF0 = len(FirmF)


FirmI = layout(
    "FirmI",
    "SECTOR",
    "IND",
    "ALIVE",
    "RDACT",
    "IP1",
    "IP2",
    "FIELD",
    "NICHE",
    "RDINST",
    "REG",
    "HON",
    "HEVER",
    "TSME",
    "ZON",
    "ZEVER",
    "LISTED",
    "PABOVE",
    "PTECH",
    "POOL",  # in the high-tech cultivation pool (高企培育库)
    "KEY",
)


NI = len(FirmI)


# yearly decision uniforms (as the SimPy engine's)
Draw = layout(
    "Draw",
    "HAPPLY",
    "HAPPROVE",
    "HVIOL",
    "HREVOKE",
    "ZAPPLY",
    "ZAPPROVE",
    "LISTING",
    "HPOOL",  # enrolment in the cultivation pool
)

#: the draws of a firm's traits over time, numbers of the sequence of its monthly-noise root (``FR``, whose normal number
#: m is the noise of month m, outputs m * 2**20 + 1, ...): uniform TRAIT_U + 8 year + Trait.X (outputs from 2**50 on)
#: and normal TRAIT_Z + 64 year + k (outputs from 2**41 on: k = 0 the R&D share of a firm that starts R&D, 1 + k' its
#: R&D noise of year k'); a single mix each, cheaper than a hash of the firm's key at every year end
TRAIT_U = 1 << 50
TRAIT_Z = 1 << 21
Trait = layout("Trait", "RDSTART", "RDINST")


# projects
ProjF = layout(
    "ProjF",
    "SIGN",
    "NEXT",
    "AMOUNT",
    "LANDMU",
    "INVEST",
    "LEVEL",
    "PRODUCTIVITY",
    "PATIENCE",
    "STAGE_DELAY",
    "ELAPSED",
    "U_LANDDROP",
    "U_STAGEDROP",
    "LANDT",  # when the project landed (for the promise)
)


NPF = len(ProjF)


ProjI = layout(
    "ProjI",
    "STATE",
    "SECTOR",
    "RENT",
    "KEY",
    "ORDER",
    "QUEUED",
)


NPI = len(ProjI)


Stage = layout(
    "Stage",
    "DONE",
    "LAND",
    "QUEUE",
    "STAGE",
    "SIGN",
)


# replication scalars
RepF = layout(
    "RepF",
    "FLEVEL",
    "FTOTAL",
    "LLEVEL",
    "QLEFT",
    "INVEST",
    "LANDACQ",
    "NEXTSIGN",
    "INCUB",
    "GBONUS",
    "QFACTOR",
)


NRS = len(RepF)


RepI = layout(
    "RepI",
    "FIRMS",
    "PROJ",
    "ACTIVE",
    "QF",  # end of the factory-space queue (entries RepI.QFH .. RepI.QF-1 of QF)
    "QL",  # end of the land queue
    "QFH",  # head of the factory-space queue
    "QLH",  # head of the land queue
    "SEQ",
    "SIGNED",
    "LANDED",
    "PRODUCING",
    "DROPPED",
    "NEWH",
    "NEWZ",
    "APPLY",
    "WAITING",
    "INST",
    # signed projects whose promise deadline falls in this year / the next, and those of them that kept it
    "DUE",
    "KEPT",
    "DUE_NEXT",
    "KEPT_NEXT",
    "NEWINST",  # firms that set up an R&D institution during the year
    "ERROR",
)


NRI = len(RepI)


ERR_OVERFLOW, ERR_OCCUPIED = 1, 2


#: a new firm's normal scores: numbers of the counter-based sequence of its creation root (R.keyed_normal_at);
#: its yearly R&D noise is numbers Score.RD_YEAR + year
Score = layout(
    "Score",
    "PROD",
    "RD_ACTIVE",
    "RD_SHARE",
    "ST",
    "HT",
    "HTS",
    "SCORE",
    "IP1",
    "IP2",
    "FIELD",
    "NICHE",
    "RDINST",
    "REG",
    "LATENT",
    "RD_YEAR",
)


Root = layout(
    "Root",
    "ARRIVALS",
    "INST",
)


NRR = len(Root)


class _HnteP(NamedTuple):
    rd_ratio_small: float
    rd_ratio_medium: float
    rd_ratio_large: float
    band_small: float
    band_medium: float
    min_st_staff_share: float
    min_hightech_revenue_share: float
    min_innovation_score: float
    min_age_months: float


class _ZjtxP(NamedTuple):
    min_age_months: float
    min_rd: float
    min_rd_ratio: float
    min_revenue: float


class State(NamedTuple):
    """A block's state, the arrays the procedures read and write (a leading replication axis; shapes:
    :func:`parksim.engines.fast.pool._state_shapes`)."""

    FF: np.ndarray  # firms' floats (FirmF, then yearly R&D efficiency, revenue and R&D)
    FI: np.ndarray  # firms' integers (FirmI)
    FR: np.ndarray  # roots of the firms' monthly noise
    PF: np.ndarray  # projects' floats (ProjF)
    PI: np.ndarray  # projects' integers (ProjI)
    PR: np.ndarray  # projects' streams
    AL: np.ndarray  # event heap: (time, project)
    QF: np.ndarray  # factory-space queue
    QL: np.ndarray  # land queue
    RS: np.ndarray  # replication floats (RepF)
    RI: np.ndarray  # replication integers and counters (RepI)
    RR: np.ndarray  # replication streams (Root)
    SH: np.ndarray  # sectors' yearly shocks, this month's drifts and noise scale
    RATE: np.ndarray  # signing rate by month
    REC: np.ndarray  # year-end records (rules.indicators.RECORD)


class Plan(NamedTuple):
    """A scenario's parameters as arrays, one row per replication (or one row for all): :func:`parksim.engines.fast.plan.plan`."""

    PV: np.ndarray  # scalar values (Par)
    PD: np.ndarray  # project distributions (ProjDist)
    SV: np.ndarray  # sector values (Sec)
    SD: np.ndarray  # sector distributions (SecDist)
    BV: np.ndarray  # synthetic baseline per sector (Base)
    BD: np.ndarray  # baseline distributions (BaseDist)
    MV: np.ndarray  # per month (Month)
    WR: np.ndarray  # warm-up signings by month
    KP: np.ndarray  # known projects (Known)
    REG: np.ndarray  # register rows (Reg)
    TS_STAFF: np.ndarray  # tech-SME points tables
    TS_RD: np.ndarray
    TS_IP2: np.ndarray
