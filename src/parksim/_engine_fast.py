"""The fast engine: many replications of the same park model at once, compiled with numba.

The SimPy engine (:mod:`parksim._engine_simpy`) runs one replication as a
discrete-event simulation in Python. This engine runs a *block* of
replications in compiled code, on every core: each replication is advanced by a
``nogil`` numba function on a thread of its own, over struct-of-arrays state
with a leading replication axis. The model is the same:

* the **rules** are the functions of :mod:`parksim.rules` (growth, ramp-up,
  exit ages, signings, certification conditions, year-end sums), compiled in
  place (they are written in the NumPy subset numba compiles);
* the **scheduling** differs. Projects are records whose next event time (landing,
  giving up, production start) is kept in an active list; each month the
  engine processes the events falling in it in time order, then runs the
  month end (growth, exits, certification rounds, year end) as the SimPy
  clock does. Factory space and land are served in signing order with the
  head of the queue blocking, as in the SimPy containers. Event times are
  continuous, as in SimPy; the monthly firm updates are the same in both.
* the **random numbers** come from keyed xoshiro256** streams
  (:mod:`parksim._fastrand`): one per project (and the firm it becomes), per starting
  firm, per sector (shocks); a firm's monthly output noise and its decisions in a year
  (certification rounds, listing) are keyed numbers computed where they are used
  (:func:`parksim._fastrand.keyed_normal`, :func:`parksim._fastrand.keyed_uniform`) from a
  root the firm draws once, so the month loop reads one word per firm and writes none back
  for its noise. So scenario variants stay coupled
  (common random numbers). They are not
  the NumPy streams of the SimPy engine: the engines agree in distribution,
  not draw by draw (tested: ``tests/test_engine_agreement.py``).
* the **yearly assessment** runs in Python between blocks of months (the
  rules of :mod:`parksim.rules.assessment`), so status effects act on the
  months after the decision, as in SimPy; a portfolio's parks advance in
  lockstep.

Uncertain parameters are drawn per replication by :func:`parksim._realise.realise`
from the same streams as the SimPy engine (so both engines see the same
parameter values for a seed and replication).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import math
import mmap
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from . import _compiling
from . import _fastrand as R
from ._errors import Problem, ScenarioError
from ._random import ARRIVALS, INSTITUTIONS, KNOWN_PROJECT, MACRO, PROJECT, REGISTER, SECTOR, SYNTHETIC_FIRM, WARM_UP, key_of
from .rules import assessment as A
from .rules import certification as C
from .rules import firms as F
from .rules import growth as G
from .rules import indicators as I
from .rules import levers as LV
from .rules.pipeline import (
    choose,
    dropout,
    in_the_past,
    investment,
    next_signing,
    poisson_ppf,
    quota_after,
    quota_lapse,
    remaining,
    stage_delay,
    starting_floor_space,
)


def occupied_error(scenario, occupied_m2: float) -> ScenarioError:
    """The error for a park whose starting firms occupy more standard-factory floor space than it has (both engines)."""
    return ScenarioError(
        [
            Problem(
                scenario._source,
                "capacity.factory_floor_m2",
                f"{scenario.capacity.factory_floor_m2:g} m² is less than the floor space occupied at the start ({occupied_m2:g} m²);"
                " expected at least that: raise it or set capacity.factory_occupied_m2",
            )
        ]
    )


#: call-site cast: numba compiles a function once per *literal* constant it is called with (kind=8, rent=True, ...);
#: passing every constant as a plain int64 keeps one compiled version per function (a large part of the compile time)
_I = np.int64

FIRM_YEAR = 10  # stream kind: a firm's yearly decisions (key: firm key, year)
HISTORY = 3


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
    # tech-based SME
    "T_STAFF",
    "T_REVENUE",
    "T_PASS",
    "T_IP1",
    "T_HNTE",
    "T_MONTH",
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
)
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

# internal functions are only called from compiled code: no Python wrappers (they cost most of the compile time)
_JIT = dict(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)
_ENTRY = dict(cache=True, nogil=True, error_model="numpy")
#: functions that allocate nothing run without reference counting (numba's ``_nrt`` option): every compiled call
#: otherwise increments and decrements the count of each array argument (two atomic updates per array per call, as
#: soon as the function calls another out of line), and the per-event functions take a dozen arrays; the callers
#: hold the arrays, and numba refuses to compile an allocation in such a function
_LEAN = dict(_JIT, _nrt=False)


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


# ======================================================================================
# compiled part
# ======================================================================================
@numba.njit(**_LEAN)
def _key(kind, index):
    return (np.int64(kind) << 40) | np.int64(index)


@numba.njit(**_LEAN)
def _stream(s, seed, kind, park, key):
    """Seed stream ``s`` for (run seed, replication, kind, key); ``seed`` holds the run seed and the replication's
    number in the run (not its row in the block: streams never depend on how replications are split)."""
    shared = kind == SECTOR or kind == MACRO
    b = kind if shared else kind + 1000 * park
    R.seed_into(s, seed[0], seed[1], np.uint64(b), np.uint64(key))


@numba.njit(**_LEAN)
def _firm_year(seed, park, key, y):
    """Root of firm ``key``'s decisions in year y (certification rounds, listing): uniform j of the year is
    ``R.keyed_uniform(root, j)``, computed where it is used (nothing stored per firm)."""
    return R.key_hash(seed[0], seed[1], np.uint64(FIRM_YEAR + 1000 * park), np.uint64(key * 64 + y))


@numba.njit(**_LEAN)
def _firm_level(FF, r, i, t):
    """Output rate of firm i at month end t (for its workers: rate / labour productivity), as the month's step left it:
    its full-capacity level ``exp(logb)`` times its ramp-up factor."""
    return R.exp(FF[r, FirmF.LOGB, i]) * G.ramp(t - FF[r, FirmF.BIRTH, i], FF[r, FirmF.RAMP_M, i], FF[r, FirmF.RAMP_S, i])


@numba.njit(**_LEAN)
def _new_firm(r, i, s, birth, level, age0, ramp, latent, known_rd, known_prod, Y, pr, seed, park, key, st, FF, FI, FR, SV, SD, PV):
    """Fill firm row ``i`` of replication ``r`` from the firm's stream ``st`` (seeded); FR[r, i] gets the root of its monthly noise.

    The firm's attributes are a Gaussian copula, as :func:`parksim.rules.firms.tech_score` describes: each is a
    standard normal score ``x = rho * z0 + sqrt(1 - rho**2) * z`` on the latent
    orientation ``z0``, mapped through its distribution (:func:`R.ppf_z`), or
    compared with the normal quantile of its probability for a yes/no attribute
    (thresholds :func:`rules.firms.threshold` precomputed by :func:`plan`). Drawing the normals
    directly saves the uniform -> normal -> uniform round trips.
    """
    # the attributes' normal scores are numbers 0, 1, ... of a counter-based sequence rooted at one draw of the
    # stream (independent of one another, so computed side by side), then the exit time's exponential
    h = R.next_u64(st)
    z_prod = R.keyed_normal_at(h, _I(Score.PROD))
    z_rd_active = R.keyed_normal_at(h, _I(Score.RD_ACTIVE))
    z_rd_share = R.keyed_normal_at(h, _I(Score.RD_SHARE))
    z_st = R.keyed_normal_at(h, _I(Score.ST))
    z_ht = R.keyed_normal_at(h, _I(Score.HT))
    z_hts = R.keyed_normal_at(h, _I(Score.HTS))
    z_score = R.keyed_normal_at(h, _I(Score.SCORE))
    z_ip1 = R.keyed_normal_at(h, _I(Score.IP1))
    z_ip2 = R.keyed_normal_at(h, _I(Score.IP2))
    z_field = R.keyed_normal_at(h, _I(Score.FIELD))
    z_niche = R.keyed_normal_at(h, _I(Score.NICHE))
    z_rdinst = R.keyed_normal_at(h, _I(Score.RDINST))
    z_reg = R.keyed_normal_at(h, _I(Score.REG))
    z_latent = R.keyed_normal_at(h, _I(Score.LATENT))
    e_exit = R.exponential(st)
    # normal scores (rules.firms): the tech attributes share the firm's latent tech orientation z0
    z0 = z_latent if math.isnan(latent) else latent
    rho = SV[pr, s, Sec.RHO]
    drawn_active = F.present(F.tech_score(rho, z0, z_rd_active), SV[pr, s, Sec.RD_ACTIVE])
    # the drawn share is read only for a firm drawn R&D-active without a register's share
    drawn_share = (
        R.ppf_z_at4(SD, pr, s, _I(SecDist.RD_SHARE), F.tech_score(rho, z0, z_rd_share)) if drawn_active and math.isnan(known_rd) else 0.0
    )
    rd_active, rd_share = F.research(drawn_active, drawn_share, known_rd)
    FI[r, FirmI.SECTOR, i] = s
    FI[r, FirmI.IND, i] = np.int64(SV[pr, s, Sec.IND])
    FI[r, FirmI.ALIVE, i] = 1
    FI[r, FirmI.KEY, i] = key
    FF[r, FirmF.BIRTH, i] = birth
    FF[r, FirmF.LOGB, i] = math.log(max(level, 1e-9))
    FF[r, FirmF.RAMP_M, i] = SV[pr, s, Sec.RAMP_M] if ramp else 0.0
    FF[r, FirmF.RAMP_S, i] = SV[pr, s, Sec.RAMP_S]
    FF[r, FirmF.PROD, i] = R.ppf_z_at4(SD, pr, s, _I(SecDist.PROD), z_prod) if math.isnan(known_prod) else known_prod
    FI[r, FirmI.RDACT, i] = 1 if rd_active else 0
    FF[r, FirmF.DEATH, i] = F.exit_time(
        birth, e_exit, age0, rd_active, PV[pr, Par.RD_EXIT_FACTOR], SV[pr, s, Sec.HY], SV[pr, s, Sec.HM], SV[pr, s, Sec.YOUNG]
    )
    # the R&D intensity of each year from the one it is born in (its birth is its creation, or before it for a
    # starting firm); earlier years have none: a year end read them only for a firm born at that very instant (the
    # SimPy engine may start a project's production at a year end before it runs), whose year's output is 0
    sd = SV[pr, s, Sec.RD_NOISE]
    first = min(Y, max(0, int(birth // 12.0)))
    for y in range(first):
        FF[r, NF0 + y, i] = 0.0
    for y in range(first, Y):
        # (rd_efficiency of an R&D-inactive firm is 0 whatever its noise: numbers of its own sequence, read by nothing else)
        FF[r, NF0 + y, i] = F.rd_efficiency(rd_share, rd_active, sd, R.keyed_normal_at(h, _I(Score.RD_YEAR + y))) if rd_active else 0.0
    FF[r, FirmF.ST, i] = R.ppf_z_at4(SD, pr, s, _I(SecDist.ST), F.tech_score(rho, z0, z_st))
    FF[r, FirmF.HT, i] = R.ppf_z_at4(SD, pr, s, _I(SecDist.HT), F.tech_score(rho, z0, z_ht))
    FF[r, FirmF.HTS, i] = R.ppf_z_at4(SD, pr, s, _I(SecDist.HTS), z_hts)
    FF[r, FirmF.SCORE, i] = R.ppf_z_at4(SD, pr, s, _I(SecDist.SCORE), F.tech_score(rho, z0, z_score))
    FI[r, FirmI.IP1, i] = 1 if F.present(F.tech_score(rho, z0, z_ip1), SV[pr, s, Sec.IP1]) else 0
    FI[r, FirmI.IP2, i] = poisson_ppf(R.ndtr(F.tech_score(rho, z0, z_ip2)), SV[pr, s, Sec.IP2_MEAN])
    FI[r, FirmI.FIELD, i] = 1 if F.present(F.tech_score(rho, z0, z_field), SV[pr, s, Sec.FIELD]) else 0
    FI[r, FirmI.NICHE, i] = 1 if F.present(F.tech_score(rho, z0, z_niche), SV[pr, s, Sec.NICHE]) else 0
    FI[r, FirmI.RDINST, i] = 1 if F.present(F.tech_score(rho, z0, z_rdinst), SV[pr, s, Sec.RD_INST]) else 0
    FI[r, FirmI.REG, i] = 1 if F.present(F.tech_score(rho, z0, z_reg), PV[pr, Par.REG_PROB]) else 0
    for k in (FirmI.HON, FirmI.HEVER, FirmI.TSME, FirmI.ZON, FirmI.ZEVER, FirmI.LISTED, FirmI.PABOVE, FirmI.PTECH):
        FI[r, k, i] = 0
    FF[r, FirmF.HEXP, i] = -np.inf
    FF[r, FirmF.ZEXP, i] = -np.inf
    FF[r, FirmF.FLOOR, i] = 0.0
    for k in range(NF0 + Y, FF.shape[1]):
        FF[r, k, i] = 0.0
    FR[r, i] = R.next_u64(st)  # the root of the firm's monthly noise (R.keyed_normal(root, month))
    return rd_share if rd_active else 0.0


@numba.njit(**_JIT)
def _starting_firms(r, Y, pr, seed, park, FF, FI, FR, SV, SD, PV, BV, BD, REG):
    """Register rows, then each sector's synthetic starting firms (as ParkModel._starting_firms)."""
    nsec = SV.shape[1]
    cap = FF.shape[2]
    n = 0
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    u = np.empty(10)
    st = np.empty(4, np.uint64)
    for g in range(REG.shape[0]):
        if n >= cap:
            return -1
        s = int(REG[g, Reg.SECTOR])
        key = _key(_I(REGISTER), _I(g))
        _stream(st, seed, _I(REGISTER), park, key)
        for j in range(10):
            u[j] = R.uniform(st)
        revenue = REG[g, Reg.REVENUE]
        has_base = BV[pr, s, Base.HAS] > 0
        if not math.isnan(REG[g, Reg.AGE]):
            age = 12.0 * REG[g, Reg.AGE]
        elif has_base:
            age = 12.0 * R.ppf(BD[pr, s, BaseDist.AGE], u[1])
        else:
            age = 60.0
        level = G.year_end_level(revenue, SV[pr, s, Sec.GROWTH])
        known_prod = np.nan
        if not math.isnan(REG[g, Reg.EMPLOYEES]) and REG[g, Reg.EMPLOYEES] > 0:
            known_prod = F.register_productivity(revenue, REG[g, Reg.EMPLOYEES])
        known_rd = np.nan
        if not math.isnan(REG[g, Reg.RD]):
            known_rd = F.register_rd_share(REG[g, Reg.RD], revenue)
        _new_firm(
            r,
            _I(n),
            _I(s),
            -age,
            level,
            age,
            _I(0),
            np.nan,
            known_rd,
            known_prod,
            Y,
            pr,
            seed,
            park,
            key,
            st,
            FF,
            FI,
            FR,
            SV,
            SD,
            PV,
        )
        if not math.isnan(REG[g, Reg.ST]):
            FF[r, FirmF.ST, n] = REG[g, Reg.ST]
        if not math.isnan(REG[g, Reg.HT]):
            FF[r, FirmF.HT, n] = REG[g, Reg.HT]
        if not math.isnan(REG[g, Reg.HTS]):
            FF[r, FirmF.HTS, n] = REG[g, Reg.HTS]
        if not math.isnan(REG[g, Reg.IP1]):
            FI[r, FirmI.IP1, n] = int(REG[g, Reg.IP1])
        if not math.isnan(REG[g, Reg.IP2]):
            FI[r, FirmI.IP2, n] = int(REG[g, Reg.IP2])
        if not math.isnan(REG[g, Reg.NICHE]):
            FI[r, FirmI.NICHE, n] = int(REG[g, Reg.NICHE])
        if not math.isnan(REG[g, Reg.RDINST]):
            FI[r, FirmI.RDINST, n] = int(REG[g, Reg.RDINST])
        if not math.isnan(REG[g, Reg.LISTED]):
            FI[r, FirmI.LISTED, n] = int(REG[g, Reg.LISTED])
        _history(FF, r, _I(n), REV, RD, revenue, FF[r, NF0, n] if FI[r, FirmI.RDACT, n] == 1 else 0.0, age)
        if not math.isnan(REG[g, Reg.HEXP]) and REG[g, Reg.HEXP] > 0:
            FI[r, FirmI.HON, n] = 1
            FI[r, FirmI.HEVER, n] = 1
            FF[r, FirmF.HEXP, n] = REG[g, Reg.HEXP]
        FI[r, FirmI.TSME, n] = 1 if REG[g, Reg.TSME] > 0 else 0
        if not math.isnan(REG[g, Reg.ZEXP]) and REG[g, Reg.ZEXP] > 0:
            FI[r, FirmI.ZON, n] = 1
            FI[r, FirmI.ZEVER, n] = 1
            FF[r, FirmF.ZEXP, n] = REG[g, Reg.ZEXP]
        FF[r, FirmF.FLOOR, n] = 0.0 if math.isnan(REG[g, Reg.FLOOR]) else REG[g, Reg.FLOOR]
        FI[r, FirmI.PABOVE, n] = 1 if C.above_size(revenue, FI[r, FirmI.IND, n], PV[pr, Par.ABOVE]) else 0
        FI[r, FirmI.PTECH, n] = 1 if (FI[r, FirmI.TSME, n] == 1 or FI[r, FirmI.HON, n] == 1) else 0
        n += 1
    for s in range(nsec):
        first = n
        for j in range(int(BV[pr, s, Base.N])):
            if n >= cap:
                return -1
            key = _key(_I(SYNTHETIC_FIRM), (np.int64(SV[pr, s, Sec.KEY]) << 20) | j)
            _stream(st, seed, _I(SYNTHETIC_FIRM), park, key)
            for k in range(10):
                u[k] = R.uniform(st)
            revenue = R.ppf(BD[pr, s, BaseDist.REVENUE], u[0])
            age = 12.0 * R.ppf(BD[pr, s, BaseDist.AGE], u[1])
            latent = F.starting_orientation(u[2])  # the certified share are the firms of highest orientation
            level = G.year_end_level(revenue, SV[pr, s, Sec.GROWTH])
            _new_firm(r, _I(n), _I(s), -age, level, age, _I(0), latent, np.nan, np.nan, Y, pr, seed, park, key, st, FF, FI, FR, SV, SD, PV)
            _history(FF, r, _I(n), REV, RD, revenue, FF[r, NF0, n] if FI[r, FirmI.RDACT, n] == 1 else 0.0, age)
            hnte, hnte_expiry, tech_sme, zjtx, zjtx_expiry = F.starting_certificates(
                u[2], u[3], u[5], u[6], BV[pr, s, Base.HNTE], BV[pr, s, Base.TSME], BV[pr, s, Base.ZJTX], PV[pr, Par.H_VALID], PV[pr, Par.Z_VALID]
            )
            if hnte:
                FI[r, FirmI.HON, n] = 1
                FI[r, FirmI.HEVER, n] = 1
                FF[r, FirmF.HEXP, n] = hnte_expiry
            FI[r, FirmI.TSME, n] = 1 if tech_sme else 0
            if zjtx:
                FI[r, FirmI.ZON, n] = 1
                FI[r, FirmI.ZEVER, n] = 1
                FF[r, FirmF.ZEXP, n] = zjtx_expiry
            if u[7] < BV[pr, s, Base.RENT]:
                FF[r, FirmF.FLOOR, n] = R.ppf(BD[pr, s, BaseDist.FLOOR], u[8])
            FI[r, FirmI.PABOVE, n] = 1 if C.above_size(revenue, FI[r, FirmI.IND, n], PV[pr, Par.ABOVE]) else 0
            FI[r, FirmI.PTECH, n] = 1 if (FI[r, FirmI.TSME, n] == 1 or FI[r, FirmI.HON, n] == 1) else 0
            n += 1
        total = BV[pr, s, Base.TOTAL]
        if not math.isnan(total) and n > first:
            drawn = 0.0
            for i in range(first, n):
                drawn += FF[r, REV + HISTORY - 1, i]
            if drawn > 0:
                factor, log_factor = F.calibration(total, drawn)
                for i in range(first, n):
                    FF[r, FirmF.LOGB, i] += log_factor
                    for k in range(HISTORY):
                        FF[r, REV + k, i] *= factor
                        FF[r, RD + k, i] *= factor
                    FI[r, FirmI.PABOVE, i] = 1 if C.above_size(FF[r, REV + HISTORY - 1, i], FI[r, FirmI.IND, i], PV[pr, Par.ABOVE]) else 0
    return n


@numba.njit(**_LEAN)
def _history(FF, r, i, REV, RD, revenue, rd_share_last, age_months):
    for k in range(HISTORY):  # column HISTORY-1-k is year -(k+1)
        if age_months > 12.0 * k or k == 0:
            FF[r, REV + HISTORY - 1 - k, i] = revenue
            FF[r, RD + HISTORY - 1 - k, i] = revenue * rd_share_last


# --- projects ----------------------------------------------------------------------------
@numba.njit(**_LEAN)
def _schedule(r, j, t, AL, RI):
    """Push project j's next event at time t on the replication's event heap (stale entries are skipped when popped)."""
    if math.isinf(t):
        return
    k = RI[r, RepI.ACTIVE]
    RI[r, RepI.ACTIVE] = k + 1
    while k > 0:
        parent = (k - 1) // 2
        if AL[r, parent, 0] <= t:
            break
        AL[r, k, 0] = AL[r, parent, 0]
        AL[r, k, 1] = AL[r, parent, 1]
        k = parent
    AL[r, k, 0] = t
    AL[r, k, 1] = j


@numba.njit(**_LEAN)
def _pop(r, AL, RI):
    """Remove the earliest entry of the event heap."""
    n = RI[r, RepI.ACTIVE] - 1
    RI[r, RepI.ACTIVE] = n
    if n == 0:
        return
    t, j = AL[r, n, 0], AL[r, n, 1]
    k = 0
    while True:
        c = 2 * k + 1
        if c >= n:
            break
        if c + 1 < n and AL[r, c + 1, 0] < AL[r, c, 0]:
            c += 1
        if AL[r, c, 0] >= t:
            break
        AL[r, k, 0] = AL[r, c, 0]
        AL[r, k, 1] = AL[r, c, 1]
        k = c
    AL[r, k, 0] = t
    AL[r, k, 1] = j


@numba.njit(**_LEAN)
def _start_project(r, j, t, signed_at, known, PF, PI, PR, RI, PV, PD, SV, KP, AL):
    """A project signed at ``signed_at`` begins at ``t`` (as ParkModel._project up to landing)."""
    st = PR[r, j]
    # a fixed number of draws per project in a fixed order (common random numbers across variants): uniforms for
    # yes/no decisions and the sector, normal scores for quantities (R.ppf_z: no uniform -> normal round trip)
    # (counter-based sequences rooted at two draws of the project's stream: the draws do not wait for one another)
    hu = R.next_u64(st)
    hz = R.next_u64(st)
    u_sector = R.keyed_uniform(hu, _I(0))
    u_rent = R.keyed_uniform(hu, _I(1))
    u_land_drop = R.keyed_uniform(hu, _I(2))
    u_stage_drop = R.keyed_uniform(hu, _I(3))
    z_planned = R.keyed_normal_at(hz, _I(0))
    z_realise = R.keyed_normal_at(hz, _I(1))
    z_floor = R.keyed_normal_at(hz, _I(2))
    z_land = R.keyed_normal_at(hz, _I(3))
    z_invest = R.keyed_normal_at(hz, _I(4))
    z_land_delay = R.keyed_normal_at(hz, _I(5))
    z_rent_delay = R.keyed_normal_at(hz, _I(6))
    z_build_delay = R.keyed_normal_at(hz, _I(7))
    z_patience = R.keyed_normal_at(hz, _I(8))
    pr = 0 if PV.shape[0] == 1 else r
    status_landed = False
    productivity = np.nan
    if known < 0:
        nsec = SV.shape[1]
        s = choose(u_sector, SV[pr, :, Sec.WEIGHT]) if nsec > 1 else 0
        rent = u_rent < PV[pr, Par.RENT_SHARE]
        planned = R.ppf_z_at(PD, pr, _I(ProjDist.PLANNED), z_planned)
        floor = R.ppf_z_at(PD, pr, _I(ProjDist.FLOOR), z_floor)
        land = R.ppf_z_at(PD, pr, _I(ProjDist.LAND), z_land)
        invest = investment(R.ppf_z_at(PD, pr, _I(ProjDist.INVEST), z_invest), rent, PV[pr, Par.RENT_INV_SHARE])
    else:
        s = int(KP[known, Known.SECTOR])
        rent = KP[known, Known.RENT] > 0
        planned = KP[known, Known.PLANNED]
        floor = 0.0 if math.isnan(KP[known, Known.FLOOR]) else KP[known, Known.FLOOR]
        land = 0.0 if math.isnan(KP[known, Known.LAND]) else KP[known, Known.LAND]
        if math.isnan(KP[known, Known.INVEST]):
            invest = investment(R.ppf_z_at(PD, pr, _I(ProjDist.INVEST), z_invest), rent, PV[pr, Par.RENT_INV_SHARE])
        else:
            invest = KP[known, Known.INVEST]
        status_landed = KP[known, Known.LANDED] > 0
        if not math.isnan(KP[known, Known.JOBS]) and KP[known, Known.JOBS] > 0:
            productivity = planned / KP[known, Known.JOBS]
    realisation = R.ppf_z_at(PD, pr, _I(ProjDist.REALISE), z_realise)
    elapsed = max(0.0, -signed_at)
    land_delay = stage_delay(R.ppf_z_at(PD, pr, _I(ProjDist.LAND_DELAY), z_land_delay), PV[pr, Par.LAND_DF])
    later_delay = stage_delay(
        R.ppf_z_at(PD, pr, _I(ProjDist.RENT_DELAY if rent else ProjDist.BUILD_DELAY), z_rent_delay if rent else z_build_delay),
        PV[pr, Par.RENT_DF] if rent else PV[pr, Par.BUILD_DF],
    )
    if known < 0 and signed_at < 0 and in_the_past(land_delay, later_delay, elapsed, u_land_drop < PV[pr, Par.LAND_DROP]):
        PI[r, ProjI.STATE, j] = Stage.DONE  # a synthetic project signed before the start (warm-up) that the baseline stands for
        return
    if signed_at >= 0:
        RI[r, RepI.SIGNED] += 1
    PI[r, ProjI.SECTOR, j] = s
    PI[r, ProjI.RENT, j] = 1 if rent else 0
    PF[r, ProjF.SIGN, j] = signed_at
    PF[r, ProjF.AMOUNT, j] = max(floor if rent else land, 1e-9)
    PF[r, ProjF.LANDMU, j] = land
    PF[r, ProjF.INVEST, j] = invest
    PF[r, ProjF.LEVEL, j] = planned * realisation
    PF[r, ProjF.PRODUCTIVITY, j] = productivity
    PF[r, ProjF.PATIENCE, j] = R.ppf_z_at(PD, pr, _I(ProjDist.RENT_PATIENCE if rent else ProjDist.BUILD_PATIENCE), z_patience)
    PF[r, ProjF.STAGE_DELAY, j] = later_delay
    PF[r, ProjF.U_LANDDROP, j] = u_land_drop
    PF[r, ProjF.U_STAGEDROP, j] = u_stage_drop
    PI[r, ProjI.QUEUED, j] = 0
    if status_landed:
        PF[r, ProjF.ELAPSED, j] = elapsed
        PI[r, ProjI.STATE, j] = Stage.LAND
        PF[r, ProjF.NEXT, j] = t
        _schedule(r, j, t, AL, RI)
        PF[r, ProjF.U_LANDDROP, j] = 2.0  # already landed: no landing drop-out, not counted as landing
    else:
        wait, PF[r, ProjF.ELAPSED, j] = remaining(land_delay, elapsed)
        PI[r, ProjI.STATE, j] = Stage.LAND
        PF[r, ProjF.NEXT, j] = t + wait
        _schedule(r, j, PF[r, ProjF.NEXT, j], AL, RI)


@numba.njit(**_LEAN)
def _queue_insert(Q, r, head, tail, j, PF, PI):
    """Insert project j into the waiting queue Q[r, head:tail], sorted by (signing time, order); returns the new tail.

    The queue is append-mostly (a project landing now was usually signed after those waiting), so the
    scan from the tail is short. Each project queues at most once, so the tail never passes the room
    for projects. A project that gives up stays in place, marked by its state, and is skipped when it
    reaches the head: removal is O(1), where shifting the queue made a long queue quadratic.
    """
    key_t, key_o = PF[r, ProjF.SIGN, j], PI[r, ProjI.ORDER, j]
    pos = tail
    while pos > head:
        k = Q[r, pos - 1]
        if PF[r, ProjF.SIGN, k] < key_t or (PF[r, ProjF.SIGN, k] == key_t and PI[r, ProjI.ORDER, k] < key_o):
            break
        Q[r, pos] = k
        pos -= 1
    Q[r, pos] = j
    return tail + 1


@numba.njit(**_LEAN)
def _granted(r, j, t, PF, PI, RS, RI, AL):
    """Project j obtains its space at t: invest, then the stage delay runs (minus time already elapsed)."""
    if PI[r, ProjI.QUEUED, j] == 1:
        RI[r, RepI.WAITING] -= 1
        PI[r, ProjI.QUEUED, j] = 0
    RS[r, RepF.INVEST] += PF[r, ProjF.INVEST, j]
    if PI[r, ProjI.RENT, j] == 0:
        RS[r, RepF.LANDACQ] += PF[r, ProjF.LANDMU, j]
        RS[r, RepF.QLEFT] = quota_after(RS[r, RepF.QLEFT], PF[r, ProjF.AMOUNT, j])
    wait, _ = remaining(PF[r, ProjF.STAGE_DELAY, j], PF[r, ProjF.ELAPSED, j])
    PI[r, ProjI.STATE, j] = Stage.STAGE
    PF[r, ProjF.NEXT, j] = t + wait
    _schedule(r, j, t + wait, AL, RI)


@numba.njit(**_LEAN)
def _serve(r, rent, t, Q, PF, PI, RS, RI, AL):
    """Serve the waiting queue of factory space (rent) or land in signing order; the head blocks."""
    lvl = RepF.FLEVEL if rent else RepF.LLEVEL
    tail = RepI.QF if rent else RepI.QL
    head = RepI.QFH if rent else RepI.QLH
    while RI[r, head] < RI[r, tail]:
        j = Q[r, RI[r, head]]
        if PI[r, ProjI.STATE, j] != Stage.QUEUE:  # gave up while waiting
            RI[r, head] += 1
            continue
        amount = PF[r, ProjF.AMOUNT, j]
        if RS[r, lvl] < amount:
            break
        RS[r, lvl] -= amount
        RI[r, head] += 1
        _granted(r, j, t, PF, PI, RS, RI, AL)


@numba.njit(**_LEAN)
def _put(r, rent, amount, t, QF, QL, PF, PI, RS, RI, AL):
    if rent:
        RS[r, RepF.FLEVEL] += amount
        _serve(r, _I(1), t, QF, PF, PI, RS, RI, AL)
    else:
        RS[r, RepF.LLEVEL] += amount
        _serve(r, _I(0), t, QL, PF, PI, RS, RI, AL)


@numba.njit(**_LEAN)
def _project_event(r, j, t, Y, seed, park, FF, FI, FR, PF, PI, PR, QF, QL, RS, RI, PV, SV, SD, AL):
    """Process the due event of project j at time t; return True if the project is finished."""
    pr = 0 if PV.shape[0] == 1 else r
    state = PI[r, ProjI.STATE, j]
    rent = PI[r, ProjI.RENT, j] == 1
    if state == Stage.LAND:
        u_drop = PF[r, ProjF.U_LANDDROP, j]
        if u_drop <= 1.0:  # (a project already landed at the start skips this)
            if u_drop < PV[pr, Par.LAND_DROP]:
                RI[r, RepI.DROPPED] += 1
                return True
            RI[r, RepI.LANDED] += 1
        # ask for space: queue in signing order, served at once if it is the head and space suffices
        Q = QF if rent else QL
        tail = RepI.QF if rent else RepI.QL
        RI[r, tail] = _queue_insert(Q, r, RI[r, RepI.QFH if rent else RepI.QLH], RI[r, tail], j, PF, PI)
        PI[r, ProjI.STATE, j] = Stage.QUEUE
        PF[r, ProjF.NEXT, j] = np.inf
        _serve(r, _I(rent), t, Q, PF, PI, RS, RI, AL)
        if PI[r, ProjI.STATE, j] == Stage.QUEUE:
            PI[r, ProjI.QUEUED, j] = 1
            RI[r, RepI.WAITING] += 1
            PF[r, ProjF.NEXT, j] = t + PF[r, ProjF.PATIENCE, j]
            _schedule(r, j, PF[r, ProjF.NEXT, j], AL, RI)
        return False
    if state == Stage.QUEUE:  # patience ran out
        Q = QF if rent else QL
        PI[r, ProjI.STATE, j] = Stage.DONE  # left in the queue, skipped when it reaches the head
        RI[r, RepI.WAITING] -= 1
        PI[r, ProjI.QUEUED, j] = 0
        RI[r, RepI.DROPPED] += 1
        _serve(r, _I(rent), t, Q, PF, PI, RS, RI, AL)  # the requests behind it try again
        return True
    if state == Stage.STAGE:
        drop = PF[r, ProjF.U_STAGEDROP, j] < (PV[pr, Par.RENT_DROP] if rent else PV[pr, Par.BUILD_DROP])
        if drop:
            if rent:
                _put(r, _I(1), PF[r, ProjF.AMOUNT, j], t, QF, QL, PF, PI, RS, RI, AL)
            RI[r, RepI.DROPPED] += 1
            return True
        RI[r, RepI.PRODUCING] += 1
        i = RI[r, RepI.FIRMS]
        if i >= FF.shape[2]:
            RI[r, RepI.ERROR] = ERR_OVERFLOW
            return True
        RI[r, RepI.FIRMS] += 1
        _new_firm(  # the firm continues its project's stream
            r,
            i,
            PI[r, ProjI.SECTOR, j],
            t,
            PF[r, ProjF.LEVEL, j],
            0.0,
            _I(1),
            np.nan,
            np.nan,
            PF[r, ProjF.PRODUCTIVITY, j],
            Y,
            pr,
            seed,
            park,
            PI[r, ProjI.KEY, j],
            PR[r, j],
            FF,
            FI,
            FR,
            SV,
            SD,
            PV,
        )
        if rent:
            FF[r, FirmF.FLOOR, i] = PF[r, ProjF.AMOUNT, j]
        return True
    return True


@numba.njit(**_LEAN)
def _new_project(r, kind, index, t, signed_at, known, seed, park, PF, PI, PR, RI, RS, PV, PD, SV, KP, AL):
    j = RI[r, RepI.PROJ]
    if j >= PF.shape[2]:
        RI[r, RepI.ERROR] = ERR_OVERFLOW
        return
    RI[r, RepI.PROJ] += 1
    key = _key(kind, index)
    PI[r, ProjI.KEY, j] = key
    PI[r, ProjI.ORDER, j] = j
    _stream(PR[r, j], seed, _I(kind), park, key)
    _start_project(r, j, t, signed_at, _I(known), PF, PI, PR, RI, PV, PD, SV, KP, AL)


# --- the month ---------------------------------------------------------------------------
@numba.njit(**_LEAN)
def _start_of_month(r, m, pr, PF, PI, QF, QL, RS, RI, PV, MV, AL):
    t = float(m)
    add = MV[pr, m, Month.FADD]
    if add > 0:
        RS[r, RepF.FTOTAL] += add
        _put(r, _I(1), add, t, QF, QL, PF, PI, RS, RI, AL)
    ladd = MV[pr, m, Month.LADD]
    if ladd > 0:
        _put(r, _I(0), ladd, t, QF, QL, PF, PI, RS, RI, AL)
    if m % 12 == 0:
        RS[r, RepF.LLEVEL] -= quota_lapse(RS[r, RepF.LLEVEL], RS[r, RepF.QLEFT], PV[pr, Par.CARRY] > 0)
        quota = (MV[pr, m, Month.QUOTA] + PV[pr, Par.EXTRA_QUOTA]) * RS[r, RepF.QFACTOR]
        RS[r, RepF.QLEFT] = quota / PV[pr, Par.W]
        if quota > 0:
            _put(r, _I(0), quota / PV[pr, Par.W], t, QF, QL, PF, PI, RS, RI, AL)


@numba.njit(**_LEAN)
def _hnte_round(r, t, y, pr, Y, seed, park, FF, FI, RI, PV):
    """The yearly high-tech enterprise round (as ParkModel's): expiry, revocation, then applications of eligible firms."""
    n = RI[r, RepI.FIRMS]
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    p = _HnteP(
        PV[pr, Par.H_SMALL],
        PV[pr, Par.H_MEDIUM],
        PV[pr, Par.H_LARGE],
        PV[pr, Par.H_BAND_S],
        PV[pr, Par.H_BAND_M],
        PV[pr, Par.H_ST],
        PV[pr, Par.H_HT],
        PV[pr, Par.H_SCORE],
        PV[pr, Par.H_AGE],
    )
    approval = min(1.0, PV[pr, Par.H_APPROVE] + PV[pr, Par.CULT_APPROVE])
    for i in range(n):
        if FI[r, FirmI.ALIVE, i] == 0:
            continue
        expired = False
        if FI[r, FirmI.HON, i] == 1 and FF[r, FirmF.HEXP, i] <= t:
            FI[r, FirmI.HON, i] = 0
            expired = True
        if FI[r, FirmI.HON, i] == 1:
            h = _firm_year(seed, park, FI[r, FirmI.KEY, i], y)
            if R.keyed_uniform(h, _I(Draw.HREVOKE)) < PV[pr, Par.H_REVOKE]:
                FI[r, FirmI.HON, i] = 0
                FF[r, FirmF.HEXP, i] = t
        if FI[r, FirmI.HON, i] == 1:
            continue
        rd3 = 0.0
        sales3 = 0.0
        for c in range(y, y + HISTORY):
            rd3 += FF[r, RD + c, i]
            sales3 += FF[r, REV + c, i]
        age, latest = t - FF[r, FirmF.BIRTH, i], FF[r, REV + y + HISTORY - 1, i]
        ip = (FI[r, FirmI.IP1, i] == 1) | (FI[r, FirmI.IP2, i] > 0)
        st, ht, score, field = FF[r, FirmF.ST, i], FF[r, FirmF.HT, i], FF[r, FirmF.SCORE, i], FI[r, FirmI.FIELD, i]
        # a firm that fails the conditions without a violation fails them with one: its violation draw (the year's
        # uniform Draw.HVIOL, computed where it is used) is needed only by a firm that meets all the others
        if not C.hnte_eligible(age, rd3, sales3, latest, st, ht, score, ip, field, False, p):
            continue
        h = _firm_year(seed, park, FI[r, FirmI.KEY, i], y)
        if not C.hnte_eligible(age, rd3, sales3, latest, st, ht, score, ip, field, R.keyed_uniform(h, _I(Draw.HVIOL)) < PV[pr, Par.H_VIOL], p):
            continue
        prob = min(1.0, (PV[pr, Par.H_REAPPLY] if expired else PV[pr, Par.H_APPLY]) + PV[pr, Par.CULT_APPLY])
        if R.keyed_uniform(h, _I(Draw.HAPPLY)) < prob:
            RI[r, RepI.APPLY] += 1
            if R.keyed_uniform(h, _I(Draw.HAPPROVE)) < approval:
                if FI[r, FirmI.HEVER, i] == 0:
                    RI[r, RepI.NEWH] += 1
                FI[r, FirmI.HON, i] = 1
                FI[r, FirmI.HEVER, i] = 1
                FF[r, FirmF.HEXP, i] = t + 12.0 * PV[pr, Par.H_VALID]


@numba.njit(**_LEAN)
def _tech_sme(r, t, y, pr, Y, n, FF, FI, PV, TS_STAFF, TS_RD, TS_IP2):
    """The yearly tech-based SME evaluation: a living, registering firm holds the status while it qualifies."""
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    last = y + HISTORY - 1
    p = C.TechSmeParams(
        PV[pr, Par.T_STAFF], PV[pr, Par.T_REVENUE], PV[pr, Par.T_PASS], TS_STAFF, TS_RD, PV[pr, Par.T_IP1], TS_IP2, PV[pr, Par.T_HNTE] > 0
    )
    for i in range(n):
        if FI[r, FirmI.ALIVE, i] == 0:
            continue
        if FI[r, FirmI.REG, i] == 0:  # a firm that does not register never holds the status: its conditions are not needed
            FI[r, FirmI.TSME, i] = 0
            continue
        rev = FF[r, REV + last, i]
        ok = C.tech_sme_eligible(
            _firm_level(FF, r, i, t) / FF[r, FirmF.PROD, i],
            rev,
            FF[r, FirmF.ST, i],
            C._ratio(FF[r, RD + last, i], rev),
            FI[r, FirmI.IP1, i],
            FI[r, FirmI.IP2, i],
            FI[r, FirmI.HON, i],
            p,
        )
        FI[r, FirmI.TSME, i] = 1 if ok else 0


@numba.njit(**_LEAN)
def _zjtx_round(r, t, y, pr, Y, n, seed, park, FF, FI, RI, PV):
    """The yearly 专精特新 round: expiry, then applications of eligible firms not holding it."""
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    last = y + HISTORY - 1
    p = _ZjtxP(PV[pr, Par.Z_AGE], PV[pr, Par.Z_RD], PV[pr, Par.Z_RATIO], PV[pr, Par.Z_REVENUE])
    for i in range(n):
        if FI[r, FirmI.ALIVE, i] == 0:
            continue
        if FI[r, FirmI.ZON, i] == 1 and FF[r, FirmF.ZEXP, i] <= t:
            FI[r, FirmI.ZON, i] = 0
        ok = C.zjtx_eligible(t - FF[r, FirmF.BIRTH, i], FI[r, FirmI.NICHE, i], FF[r, RD + last, i], FF[r, REV + last, i], p)
        if ok and FI[r, FirmI.ZON, i] == 0:
            h = _firm_year(seed, park, FI[r, FirmI.KEY, i], y)
            ok = R.keyed_uniform(h, _I(Draw.ZAPPLY)) < PV[pr, Par.Z_APPLY] and R.keyed_uniform(h, _I(Draw.ZAPPROVE)) < PV[pr, Par.Z_APPROVE]
        else:
            ok = False
        if ok:
            if FI[r, FirmI.ZEVER, i] == 0:
                RI[r, RepI.NEWZ] += 1
            FI[r, FirmI.ZON, i] = 1
            FI[r, FirmI.ZEVER, i] = 1
            FF[r, FirmF.ZEXP, i] = t + 12.0 * PV[pr, Par.Z_VALID]


@numba.njit(**_LEAN)
def _year_end(r, y, pr, Y, seed, park, FF, FI, RS, RI, RR, PV, REC):
    """Listings, institutions, the year-end record, last-year flags and next year's firm uniforms.

    One pass over the firms does, firm by firm, what the SimPy engine does firm table by firm table:
    listing, then the firm's part of the sums, then its above-size / tech flags for next year, then its
    uniforms for next year (each step reads only the same firm's state, so the order is the same).
    """
    n = RI[r, RepI.FIRMS]
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    col = y + HISTORY
    st = RR[r, Root.INST]
    births = R.poisson(st, PV[pr, Par.INST_NEW])
    closures = R.binomial(st, RI[r, RepI.INST], PV[pr, Par.INST_CLOSE])
    RI[r, RepI.INST] += births - closures
    RS[r, RepF.INCUB] += PV[pr, Par.INCUB_ADD]
    w = PV[pr, Par.W]
    above_rev = PV[pr, Par.ABOVE]
    sums = REC[r, y]  # the firm sums are added up in place (nothing allocated)
    k = len(I.FIRM_SUMS)
    for c in range(k):
        sums[c] = 0.0
    mult = PV[pr, Par.RD_MULT]
    t = 12.0 * (y + 1)
    for i in range(n):
        alive = FI[r, FirmI.ALIVE, i] == 1
        revenue = FF[r, REV + col, i]
        # the year's R&D: its monthly output times the firm's R&D intensity that year (and the lever's multiplier)
        FF[r, RD + col, i] = revenue * FF[r, NF0 + y, i] * mult
        if (
            alive
            and FI[r, FirmI.LISTED, i] == 0
            and revenue >= PV[pr, Par.LIST_MIN]
            and R.keyed_uniform(_firm_year(seed, park, FI[r, FirmI.KEY, i], y), _I(Draw.LISTING)) < PV[pr, Par.LIST_PROB]
        ):
            FI[r, FirmI.LISTED, i] = 1
        tech = (FI[r, FirmI.TSME, i] == 1) | (FI[r, FirmI.HON, i] == 1)
        I.add_year_sums(
            sums,
            FI[r, FirmI.ALIVE, i],
            FI[r, FirmI.IND, i],
            revenue,
            FF[r, REV + col - 1, i],
            FF[r, RD + col, i],
            FF[r, RD + col - 1, i],
            FF[r, FirmF.HTS, i],
            _firm_level(FF, r, i, t) / FF[r, FirmF.PROD, i] if alive else 0.0,
            FI[r, FirmI.HON, i],
            tech,
            FI[r, FirmI.ZON, i],
            FI[r, FirmI.RDACT, i],
            FI[r, FirmI.RDINST, i],
            FI[r, FirmI.LISTED, i],
            FI[r, FirmI.PABOVE, i],
            FI[r, FirmI.PTECH, i],
            above_rev,
        )
        FI[r, FirmI.PABOVE, i] = 1 if C.above_size(revenue, FI[r, FirmI.IND, i], above_rev) else 0
        FI[r, FirmI.PTECH, i] = 1 if (tech and alive) else 0
    # the park's values by their names in the record (rules.indicators.PARK_VALUES); the policy cost is priced from
    # the record afterwards (rules.levers.price_record)
    at = I.AT
    sums[at.weight] = w
    sums[at.new_hnte] = RI[r, RepI.NEWH]
    sums[at.new_zjtx] = RI[r, RepI.NEWZ]
    sums[at.institutions] = RI[r, RepI.INST]
    sums[at.incubation_m2] = RS[r, RepF.INCUB]
    sums[at.industrial_land_km2] = PV[pr, Par.LAND_KM2] + RS[r, RepF.LANDACQ] * w / 1500.0
    sums[at.factory_floor_m2] = RS[r, RepF.FTOTAL] * w
    sums[at.factory_used_m2] = (RS[r, RepF.FTOTAL] - RS[r, RepF.FLEVEL]) * w
    sums[at.land_quota_left_mu] = RS[r, RepF.LLEVEL] * w
    sums[at.projects_signed] = RI[r, RepI.SIGNED]
    sums[at.projects_landed] = RI[r, RepI.LANDED]
    sums[at.projects_producing] = RI[r, RepI.PRODUCING]
    sums[at.projects_dropped] = RI[r, RepI.DROPPED]
    sums[at.projects_waiting] = RI[r, RepI.WAITING]
    sums[at.investment_cum] = RS[r, RepF.INVEST] * w / I.TEN_THOUSAND
    sums[at.hnte_applications] = RI[r, RepI.APPLY] * w
    sums[at.policy_cost] = 0.0
    sums[at.baseline_output] = PV[pr, Par.BASELINE_OUT] if y == 0 else np.nan
    sums[at.listed_initial] = PV[pr, Par.LIST0]
    for c in (RepI.SIGNED, RepI.LANDED, RepI.PRODUCING, RepI.DROPPED, RepI.NEWH, RepI.NEWZ, RepI.APPLY):
        RI[r, c] = 0


@numba.njit(**_LEAN)
def _end_of_month(r, m, pr, Y, seed, park, FF, FI, FR, PF, PI, QF, QL, RS, RI, RR, SH, PV, SV, REC, TS_STAFF, TS_RD, TS_IP2, AL):
    """The month end: the firms' (:func:`_firms_month_end`), then the waiting projects get the space exits freed."""
    freed = _firms_month_end(r, m, pr, Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, REC, TS_STAFF, TS_RD, TS_IP2)
    if freed > 0:
        _serve(r, _I(1), float(m + 1), QF, PF, PI, RS, RI, AL)


@numba.njit(**_LEAN)
def _firms_month_end(r, m, pr, Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, REC, TS_STAFF, TS_RD, TS_IP2):
    """The firms' month end, the same in every engine: growth, output, exits, the certification rounds and the year end.

    Returns the standard-factory floor space the month's exits freed (already counted vacant in ``RS``); the
    engine lets waiting projects have it.
    """
    t = float(m + 1)
    y = m // 12
    n = RI[r, RepI.FIRMS]
    REV = NF0 + Y
    gb = RS[r, RepF.GBONUS]
    cb = PV[pr, Par.CREDIT_BONUS]
    freed = 0.0
    # one-dimensional views of the columns the loop touches (cheaper indexing than the 3-D arrays)
    alive, sector, rdact = FI[r, FirmI.ALIVE], FI[r, FirmI.SECTOR], FI[r, FirmI.RDACT]
    births, deaths, logbs = FF[r, FirmF.BIRTH], FF[r, FirmF.DEATH], FF[r, FirmF.LOGB]
    ramp_m, ramp_s, floors = FF[r, FirmF.RAMP_M], FF[r, FirmF.RAMP_S], FF[r, FirmF.FLOOR]
    revs, shares = FF[r, REV + y + HISTORY], FF[r, FirmF.SHARE]
    roots = FR[r]
    # G.log_step's parts that are the same for every firm of a sector (and R&D activity), once a month, in the
    # sector rows' last three places (SH[r, s, Y + rd_active], SH[r, s, Y + 2]): nothing is allocated per month
    nsec = SV.shape[1]
    sec = SH[r]
    for s in range(nsec):
        base = SV[pr, s, Sec.GROWTH] + gb
        sec[s, Y] = G.drift(base + cb * 0, sec[s, y])
        sec[s, Y + 1] = G.drift(base + cb * 1, sec[s, y])
        sec[s, Y + 2] = G.noise_scale(SV[pr, s, Sec.NOISE_SD])
    # the firms' noise, R.keyed_normal(root, m), in two loops: the Ziggurat's fast path for all (vectorised),
    # then the rare rejections; parked in the share column until the step below reads it
    for i in range(n):
        shares[i] = R.keyed_normal_fast(roots[i], m)
    for i in range(n):
        if math.isnan(shares[i]):
            shares[i] = R.keyed_normal(roots[i], m)
    for i in range(n):
        if alive[i] > 0:
            logbs[i] += sec[sector[i], Y + rdact[i]] + sec[sector[i], Y + 2] * shares[i]  # = G.log_step(growth, shock, noise_sd, z)
    # the month's output is the level exp(logb) x ramp-up factor x share of the month alive / 12: for every firm,
    # dead ones with weight 0, without a branch, so that the compiler vectorises the loop
    for i in range(n):
        birth = births[i]
        share = G.ramp(t - birth, ramp_m[i], ramp_s[i]) * G.active_fraction(t, birth, deaths[i]) / 12.0
        shares[i] = share if alive[i] > 0 else 0.0
    # the month's exits (the sum of their floor space is added in firm order)
    for i in range(n):
        if alive[i] > 0 and deaths[i] <= t:
            alive[i] = 0
            freed += floors[i]
    # the exponentials in a loop of their own, which the compiler vectorises (a dead firm's share is 0)
    for i in range(n):
        revs[i] += R.exp(logbs[i]) * shares[i]
    # (the year's R&D, output x R&D intensity x multiplier summed over its months, is formed at the year end)
    # the exits' floor space is vacant at once, but the waiting projects get it only after the month end's
    # rounds and year-end record, as in the SimPy engine (a Container.put serves waiting requests when the
    # put event is processed, after the month-end code): the year-end indicators see that space vacant
    RS[r, RepF.FLEVEL] += freed
    month = m % 12 + 1
    if month == int(PV[pr, Par.H_MONTH]):
        _hnte_round(r, t, y, pr, Y, seed, park, FF, FI, RI, PV)
    if month == int(PV[pr, Par.Z_MONTH]):
        _zjtx_round(r, t, y, pr, Y, n, seed, park, FF, FI, RI, PV)
    if month == int(PV[pr, Par.T_MONTH]):
        _tech_sme(r, t, y, pr, Y, n, FF, FI, PV, TS_STAFF, TS_RD, TS_IP2)
    if month == 12:
        _year_end(r, y, pr, Y, seed, park, FF, FI, RS, RI, RR, PV, REC)
    return freed


@numba.njit(**_LEAN)
def _events(r, m, H, Y, seed, park, FF, FI, FR, PF, PI, PR, AL, QF, QL, RS, RI, RR, RATE, PV, PD, SV, SD, KP):
    """Process the signings and project events falling in month m, in time order."""
    end = float(m + 1)
    while RI[r, RepI.ERROR] == 0:
        # the earliest due event: the next signing, or the top of the event heap (skipping stale entries)
        j = -1
        t_heap = np.inf
        while RI[r, RepI.ACTIVE] > 0:
            t_top = AL[r, 0, 0]
            jt = int(AL[r, 0, 1])
            if PI[r, ProjI.STATE, jt] != Stage.DONE and PF[r, ProjF.NEXT, jt] == t_top:
                j, t_heap = jt, t_top
                break
            _pop(r, AL, RI)
        t_sign = RS[r, RepF.NEXTSIGN]
        if min(t_sign, t_heap) >= end:
            return
        if t_sign <= t_heap:  # a synthetic signing
            seq = RI[r, RepI.SEQ]
            RI[r, RepI.SEQ] += 1
            _new_project(r, _I(PROJECT), seq, t_sign, t_sign, _I(-1), seed, park, PF, PI, PR, RI, RS, PV, PD, SV, KP, AL)
            RS[r, RepF.NEXTSIGN] = next_signing(t_sign, R.exponential(RR[r, Root.ARRIVALS]), RATE[r], H)
            continue
        _pop(r, AL, RI)
        if PI[r, ProjI.STATE, j] == Stage.SIGN:
            # a known project's signing date: it starts as a project signed then
            row = int(PF[r, ProjF.SIGN, j])
            PI[r, ProjI.STATE, j] = Stage.DONE
            _new_project(
                r,
                _I(KNOWN_PROJECT),
                _I(row),
                t_heap,
                KP[row, Known.SIGN],
                _I(row),
                seed,
                park,
                PF,
                PI,
                PR,
                RI,
                RS,
                PV,
                PD,
                SV,
                KP,
                AL,
            )
            continue
        if _project_event(r, j, t_heap, Y, seed, park, FF, FI, FR, PF, PI, PR, QF, QL, RS, RI, PV, SV, SD, AL):
            PI[r, ProjI.STATE, j] = Stage.DONE


@numba.njit(**_JIT)
def _init_park(r, pr, Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, SD, BV, BD, REG):
    """The park at the start, the same in every engine: the sectors' shocks, the starting firms, the floor space they
    occupy, institutions and incubation space. False (with ``RI[r, RepI.ERROR]`` set) if the starting state does not fit
    the block or contradicts the scenario."""
    for k in range(RI.shape[1]):
        RI[r, k] = 0
    for k in range(RS.shape[1]):
        RS[r, k] = 0.0
    w = PV[pr, Par.W]
    # yearly shocks: sector shock + regional shock (shared streams)
    nsec = SV.shape[1]
    st = np.empty(4, np.uint64)
    _stream(st, seed, _I(MACRO), park, _I(0))
    macro = np.empty(Y)
    for y in range(Y):
        macro[y] = PV[pr, Par.MACRO_SD] * R.normal(st)
    for s in range(nsec):
        _stream(st, seed, _I(SECTOR), park, _I(SV[pr, s, Sec.KEY]))
        for y in range(Y):
            SH[r, s, y] = SV[pr, s, Sec.SHOCK_SD] * R.normal(st) + macro[y]
    n = _starting_firms(r, Y, pr, seed, park, FF, FI, FR, SV, SD, PV, BV, BD, REG)
    if n < 0:
        RI[r, RepI.ERROR] = ERR_OVERFLOW
        return False
    RI[r, RepI.FIRMS] = n
    total = PV[pr, Par.FACTORY_TOTAL] / w
    if math.isnan(PV[pr, Par.FACTORY_OCC]):
        occupied = 0.0
        for i in range(n):
            occupied += FF[r, FirmF.FLOOR, i]
        total = starting_floor_space(total, occupied)
    else:
        occupied = PV[pr, Par.FACTORY_OCC] / w
        if occupied > total + 1e-9:
            RI[r, RepI.ERROR] = ERR_OCCUPIED
            RS[r, RepF.FLEVEL] = occupied * w
            return False
    RS[r, RepF.FTOTAL] = total
    RS[r, RepF.FLEVEL] = total - occupied
    RS[r, RepF.LLEVEL] = 0.0
    RS[r, RepF.INCUB] = PV[pr, Par.INCUB0]
    RS[r, RepF.QFACTOR] = PV[pr, Par.QF0]
    RS[r, RepF.GBONUS] = PV[pr, Par.GB0]
    RI[r, RepI.INST] = int(PV[pr, Par.INST0])
    _stream(RR[r, Root.INST], seed, _I(INSTITUTIONS), park, _I(0))
    return True


@numba.njit(**_JIT)
def _init_rep(r, H, Y, seed, park, FF, FI, FR, PF, PI, PR, AL, QF, QL, RS, RI, RR, SH, RATE, PV, PD, SV, SD, BV, BD, MV, WR, KP, REG):
    pr = 0 if PV.shape[0] == 1 else r
    if not _init_park(r, pr, Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, SD, BV, BD, REG):
        return
    # the pipeline: the first signing, the projects in flight at the start (warm-up), the known projects
    _stream(RR[r, Root.ARRIVALS], seed, _I(ARRIVALS), park, _I(0))
    for m in range(H):
        RATE[r, m] = MV[pr, m, Month.RATE] * PV[pr, Par.SF0]
    RS[r, RepF.NEXTSIGN] = next_signing(0.0, R.exponential(RR[r, Root.ARRIVALS]), RATE[r], H)
    # warm-up: projects signed before the start that are still in flight
    months = PV[pr, Par.WARM_UP]
    if months > 0:
        whole = int(math.ceil(months))
        rates = WR[pr, :whole]
        wst = np.empty(4, np.uint64)
        _stream(wst, seed, _I(ARRIVALS), park, _I(WARM_UP))
        t = 0.0
        seq = 0
        while True:
            t = next_signing(t, R.exponential(wst), rates, whole)
            if math.isinf(t):
                break
            _new_project(r, _I(WARM_UP), _I(seq), 0.0, t - whole, _I(-1), seed, park, PF, PI, PR, RI, RS, PV, PD, SV, KP, AL)
            seq += 1
    # known projects: those signed before the start begin now, the others at their signing date
    for row in range(KP.shape[0]):
        t0 = KP[row, Known.SIGN]
        if t0 > 0:
            j = RI[r, RepI.PROJ]
            if j >= PF.shape[2]:
                RI[r, RepI.ERROR] = ERR_OVERFLOW
                return
            RI[r, RepI.PROJ] += 1
            PI[r, ProjI.STATE, j] = Stage.SIGN
            PF[r, ProjF.SIGN, j] = row
            PF[r, ProjF.NEXT, j] = t0
            _schedule(r, j, t0, AL, RI)
        else:
            _new_project(r, _I(KNOWN_PROJECT), _I(row), 0.0, t0, _I(row), seed, park, PF, PI, PR, RI, RS, PV, PD, SV, KP, AL)
    _start_of_month(r, _I(0), pr, PF, PI, QF, QL, RS, RI, PV, MV, AL)


@numba.njit(**_ENTRY)
def _advance(
    r0,
    r1,
    m0,
    m1,
    H,
    Y,
    seed,
    REPS,
    park,
    FF,
    FI,
    FR,
    PF,
    PI,
    PR,
    AL,
    QF,
    QL,
    RS,
    RI,
    RR,
    SH,
    RATE,
    REC,
    PV,
    PD,
    SV,
    SD,
    BV,
    BD,
    MV,
    WR,
    KP,
    REG,
    TS_STAFF,
    TS_RD,
    TS_IP2,
):
    """Advance replications r0..r1-1 of the block over months m0..m1-1 (month m0 == 0: initialise first)."""
    for r in range(r0, r1):
        pr = 0 if PV.shape[0] == 1 else r
        sk = np.empty(2, np.uint64)
        sk[0] = seed
        sk[1] = REPS[r]
        if m0 == 0:
            _init_rep(r, H, Y, sk, park, FF, FI, FR, PF, PI, PR, AL, QF, QL, RS, RI, RR, SH, RATE, PV, PD, SV, SD, BV, BD, MV, WR, KP, REG)
        for m in range(m0, m1):
            if RI[r, RepI.ERROR] != 0:
                break
            # the month's events, its end, and the start of the next month (in this function, not one of its own:
            # every compiled function re-optimises all it calls, and this one would be the whole month again)
            _events(r, m, H, Y, sk, park, FF, FI, FR, PF, PI, PR, AL, QF, QL, RS, RI, RR, RATE, PV, PD, SV, SD, KP)
            _end_of_month(r, m, pr, Y, sk, park, FF, FI, FR, PF, PI, QF, QL, RS, RI, RR, SH, PV, SV, REC, TS_STAFF, TS_RD, TS_IP2, AL)
            if m + 1 < H:
                _start_of_month(r, _I(m + 1), pr, PF, PI, QF, QL, RS, RI, PV, MV, AL)


# --- the same procedures for another scheduler (the SimPy engine: one replication, r = 0) --------------------
@numba.njit(**_ENTRY)
def park_start(seed, park, Y, FF, FI, FR, RS, RI, RR, SH, PV, SV, SD, BV, BD, REG):
    """:func:`_init_park` for replication 0 of a one-replication block; False if it failed (see ``RI[0, RepI.ERROR]``)."""
    return _init_park(_I(0), _I(0), Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, SD, BV, BD, REG)


@numba.njit(**_ENTRY)
def firm_from_project(kind, index, s, t, level, productivity, Y, seed, park, FF, FI, FR, RI, PV, SV, SD):
    """Project ``(kind, index)`` of sector ``s`` starts production at ``t`` at output ``level``: its firm is the next
    row of replication 0 (returned; -1 if the block is full). The firm draws from its project's stream after the
    project's own two draws, as a project's firm in :func:`_project_event` does."""
    i = RI[0, RepI.FIRMS]
    if i >= FF.shape[2]:
        return -1
    RI[0, RepI.FIRMS] += 1
    key = _key(kind, index)
    st = np.empty(4, np.uint64)
    _stream(st, seed, kind, park, key)
    R.next_u64(st)
    R.next_u64(st)
    _new_firm(_I(0), i, s, t, level, 0.0, _I(1), np.nan, np.nan, productivity, Y, _I(0), seed, park, key, st, FF, FI, FR, SV, SD, PV)
    return i


@numba.njit(**_ENTRY)
def firms_month_end(m, Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, REC, TS_STAFF, TS_RD, TS_IP2):
    """:func:`_firms_month_end` of month ``m`` for replication 0 of a one-replication block: the floor space freed."""
    return _firms_month_end(_I(0), m, _I(0), Y, seed, park, FF, FI, FR, RS, RI, RR, SH, PV, SV, REC, TS_STAFF, TS_RD, TS_IP2)


# ======================================================================================
# Python part: the plan (parameters as arrays, one row per replication), blocks, assessment
# ======================================================================================
class _Values:
    """Scenario values for a block of replications: numbers, or per-replication arrays for uncertain ones.

    An uncertain parameter (a distribution given for a parameter) is drawn for
    each replication exactly as :func:`parksim._realise.realise` draws it, from
    the same keyed stream, so both engines see the same parameter values.
    """

    def __init__(self, seed: int, reps, park: int | None):
        self.seed = seed
        self.reps = [int(r) for r in reps]
        self.park = park
        self.B = len(self.reps)
        self._cache: dict[str, np.ndarray] = {}

    @functools.cached_property
    def streams(self) -> list:
        """Each replication's streams, made when a parameter with uncertain parameters of its own needs them."""
        from ._random import Streams

        return [Streams(self.seed, r, self.park) for r in self.reps]

    def num(self, value, path: str):
        from ._dists import _Spec
        from ._random import key_of, param_uniforms
        from ._realise import _draw, _realise_spec, has_uncertain_parameters

        if not isinstance(value, _Spec):
            return float(value)
        if path not in self._cache:
            if has_uncertain_parameters(value):
                self._cache[path] = np.array([_draw(_realise_spec(value, path, st), path, st) for st in self.streams])
            else:  # the uniforms _draw would take, for all replications at once
                u = param_uniforms(self.seed, self.reps, key_of(path))
                self._cache[path] = np.array([float(value.ppf(x)) for x in u.tolist()])
        return self._cache[path]

    def code(self, value, path: str) -> np.ndarray:
        """(B, R.CODE) codes of an entity distribution (its own uncertain parameters drawn per replication)."""
        from ._realise import _realise_spec, has_uncertain_parameters

        if has_uncertain_parameters(value):
            return np.stack([R.encode(_realise_spec(value, path, st)) for st in self.streams])
        return np.broadcast_to(R.encode(value), (self.B, R.CODE)).copy()


def _nan(x) -> float:
    return np.nan if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def plan(scn, seed: int, reps, park: int | None = None, assessment=None) -> dict:
    """The parameters of ``scn`` as arrays with one row per replication in ``reps``.

    ``assessment`` is the one the park is assessed under (a portfolio's, for its parks): its initial
    status's effects act from the start.
    """
    v = _Values(seed, reps, park)
    B = v.B
    sim, pl, cap, cert, L = scn.simulation, scn.pipeline, scn.capacity, scn.certification, scn.levers
    w = float(sim.weight)
    H = scn.months
    PV = np.zeros((B, NV))

    def put(k, value, path):
        PV[:, k] = v.num(value, path)

    # what the levers change and cost (rules.levers): the only place this engine reads [levers]
    E = LV.effects(L, v.num, H)
    PV[:, Par.W] = w
    put(Par.RENT_SHARE, pl.rent_share, "pipeline.rent_share")
    PV[:, Par.LAND_DF], PV[:, Par.RENT_DF], PV[:, Par.BUILD_DF] = E.landing_delay_factor, E.rent_delay_factor, E.build_delay_factor
    for k, stage, factor in (
        (Par.LAND_DROP, "landing", E.landing_dropout_factor),
        (Par.RENT_DROP, "rent", E.rent_dropout_factor),
        (Par.BUILD_DROP, "build", E.build_dropout_factor),
    ):
        PV[:, k] = _dropout(v.num(getattr(pl, stage).dropout, f"pipeline.{stage}.dropout"), factor)
    put(Par.RENT_INV_SHARE, pl.project.rent_investment_share, "pipeline.project.rent_investment_share")
    put(Par.FACTORY_TOTAL, cap.factory_floor_m2, "capacity.factory_floor_m2")
    PV[:, Par.FACTORY_OCC] = np.nan if cap.factory_occupied_m2 is None else v.num(cap.factory_occupied_m2, "capacity.factory_occupied_m2")
    PV[:, Par.CARRY] = 1.0 if cap.quota_carry_over else 0.0
    PV[:, Par.EXTRA_QUOTA] = E.extra_quota_mu_per_year
    put(Par.REG_PROB, cert.tech_sme.register_prob, "certification.tech_sme.register_prob")
    PV[:, Par.REG_PROB] = F.threshold(PV[:, Par.REG_PROB])
    PV[:, Par.RD_EXIT_FACTOR] = E.rd_active_exit_factor
    PV[:, Par.CREDIT_BONUS] = E.rd_active_growth_bonus
    PV[:, Par.RD_MULT] = E.rd_multiplier
    put(Par.ABOVE, cert.above_size_revenue, "certification.above_size_revenue")
    inst = scn.institutions
    PV[:, Par.INST0] = inst.initial
    PV[:, Par.INST_NEW] = v.num(inst.new_per_year, "institutions.new_per_year") + E.extra_institutions_per_year
    put(Par.INST_CLOSE, inst.closure_prob, "institutions.closure_prob")
    put(Par.INCUB0, inst.incubation_m2, "institutions.incubation_m2")
    put(Par.INCUB_ADD, inst.incubation_added_m2_per_year, "institutions.incubation_added_m2_per_year")
    PV[:, Par.LIST0] = scn.listing.initial
    put(Par.LIST_MIN, scn.listing.min_revenue, "listing.min_revenue")
    put(Par.LIST_PROB, scn.listing.prob, "listing.prob")
    PV[:, Par.CULT_APPLY] = E.hnte_apply_boost
    PV[:, Par.CULT_APPROVE] = E.hnte_approval_boost
    bo = scn.baseline.baseline_output
    PV[:, Par.BASELINE_OUT] = np.nan if bo is None else v.num(bo, "baseline.baseline_output")
    put(Par.LAND_KM2, cap.industrial_land_km2, "capacity.industrial_land_km2")
    put(Par.WARM_UP, pl.warm_up_months, "pipeline.warm_up_months")
    put(Par.MACRO_SD, scn.shocks.macro_sd, "shocks.macro_sd")
    initial = A.status_effects(assessment, assessment.initial_status) if assessment is not None else A.StatusEffects()
    PV[:, Par.SF0], PV[:, Par.QF0], PV[:, Par.GB0] = initial.signing_factor, initial.land_quota_factor, initial.growth_bonus
    h = cert.hnte
    for k, name in (
        (Par.H_SMALL, "rd_ratio_small"),
        (Par.H_MEDIUM, "rd_ratio_medium"),
        (Par.H_LARGE, "rd_ratio_large"),
        (Par.H_BAND_S, "band_small"),
        (Par.H_BAND_M, "band_medium"),
        (Par.H_ST, "min_st_staff_share"),
        (Par.H_HT, "min_hightech_revenue_share"),
        (Par.H_SCORE, "min_innovation_score"),
        (Par.H_AGE, "min_age_months"),
        (Par.H_APPLY, "apply_prob"),
        (Par.H_REAPPLY, "reapply_prob"),
        (Par.H_APPROVE, "approval_prob"),
        (Par.H_VIOL, "violation_prob"),
        (Par.H_REVOKE, "revocation_prob"),
    ):
        put(k, getattr(h, name), f"certification.hnte.{name}")
    PV[:, Par.H_VALID] = h.validity_years
    PV[:, Par.H_MONTH] = h.round_month
    t = cert.tech_sme
    for k, name in ((Par.T_STAFF, "max_staff"), (Par.T_REVENUE, "max_revenue"), (Par.T_PASS, "pass_score"), (Par.T_IP1, "ip_class1_points")):
        put(k, getattr(t, name), f"certification.tech_sme.{name}")
    PV[:, Par.T_HNTE] = 1.0 if t.hnte_qualifies else 0.0
    PV[:, Par.T_MONTH] = t.round_month
    z = cert.zjtx
    for k, name in (
        (Par.Z_AGE, "min_age_months"),
        (Par.Z_RD, "min_rd"),
        (Par.Z_RATIO, "min_rd_ratio"),
        (Par.Z_REVENUE, "min_revenue"),
        (Par.Z_APPLY, "apply_prob"),
        (Par.Z_APPROVE, "approval_prob"),
    ):
        put(k, getattr(z, name), f"certification.zjtx.{name}")
    PV[:, Par.Z_VALID] = z.validity_years
    PV[:, Par.Z_MONTH] = z.round_month

    PD = np.zeros((B, ND, R.CODE))
    for k, (value, path) in enumerate(
        [
            (pl.landing.delay, "pipeline.landing.delay"),
            (pl.rent.delay, "pipeline.rent.delay"),
            (pl.build.delay, "pipeline.build.delay"),
            (pl.rent.patience, "pipeline.rent.patience"),
            (pl.build.patience, "pipeline.build.patience"),
            (pl.project.planned_output, "pipeline.project.planned_output"),
            (pl.project.output_realisation, "pipeline.project.output_realisation"),
            (pl.project.floor_space_m2, "pipeline.project.floor_space_m2"),
            (pl.project.land_mu, "pipeline.project.land_mu"),
            (pl.project.investment, "pipeline.project.investment"),
        ]
    ):
        PD[:, k] = v.code(value, path)

    names = list(scn.sectors)
    nsec = len(names)
    SV = np.zeros((B, nsec, NS))
    SD = np.zeros((B, nsec, NSD, R.CODE))
    for k, name in enumerate(names):
        sec, p = scn.sectors[name], f"sectors.{name}"
        SV[:, k, Sec.IND] = 1.0 if sec.industrial else 0.0
        for col, attr in (
            (Sec.GROWTH, "growth"),
            (Sec.SHOCK_SD, "shock_sd"),
            (Sec.NOISE_SD, "firm_noise_sd"),
            (Sec.YOUNG, "young_years"),
            (Sec.RAMP_M, "ramp_up_months"),
            (Sec.RAMP_S, "ramp_start"),
            (Sec.RD_NOISE, "rd_noise_sd"),
            (Sec.WEIGHT, "signing_weight"),
            (Sec.RHO, "tech_correlation"),
            (Sec.RD_ACTIVE, "rd_active"),
            (Sec.IP1, "ip_class1"),
            (Sec.IP2_MEAN, "ip_class2_mean"),
            (Sec.FIELD, "hnte_field"),
            (Sec.NICHE, "niche"),
            (Sec.RD_INST, "rd_institution"),
        ):
            SV[:, k, col] = v.num(getattr(sec, attr), f"{p}.{attr}")
        SV[:, k, Sec.YOUNG] *= 12.0
        for col in (Sec.RD_ACTIVE, Sec.IP1, Sec.FIELD, Sec.NICHE, Sec.RD_INST):  # yes/no attributes (rules.firms.present)
            SV[:, k, col] = F.threshold(SV[:, k, col])
        SV[:, k, Sec.HY] = G.monthly_hazard(np.asarray(v.num(sec.exit_rate_young, f"{p}.exit_rate_young"), dtype=float))
        SV[:, k, Sec.HM] = G.monthly_hazard(np.asarray(v.num(sec.exit_rate_mature, f"{p}.exit_rate_mature"), dtype=float))
        SV[:, k, Sec.KEY] = key_of(name)
        for col, attr in (
            (SecDist.PROD, "labour_productivity"),
            (SecDist.RD_SHARE, "rd_share"),
            (SecDist.ST, "st_staff_share"),
            (SecDist.HT, "hightech_revenue_share"),
            (SecDist.HTS, "hightech_service_share"),
            (SecDist.SCORE, "innovation_score"),
        ):
            SD[:, k, col] = v.code(getattr(sec, attr), f"{p}.{attr}")
    BV = np.zeros((B, nsec, NB))
    BD = np.zeros((B, nsec, NBD, R.CODE))
    for name, base in scn.baseline.sectors.items():
        k, p = names.index(name), f"baseline.sectors.{name}"
        BV[:, k, Base.HAS] = 1.0
        BV[:, k, Base.N] = int(round(base.firms / w))
        BV[:, k, Base.TOTAL] = np.nan if base.total_revenue is None else v.num(base.total_revenue, f"{p}.total_revenue") * I.TEN_THOUSAND / w
        for col, attr in ((Base.HNTE, "hnte_share"), (Base.TSME, "tech_sme_share"), (Base.ZJTX, "zjtx_share"), (Base.RENT, "renting_share")):
            BV[:, k, col] = v.num(getattr(base, attr), f"{p}.{attr}")
        for col, attr in ((BaseDist.REVENUE, "revenue"), (BaseDist.AGE, "age_years"), (BaseDist.FLOOR, "floor_space_m2")):
            BD[:, k, col] = v.code(getattr(base, attr), f"{p}.{attr}")

    # months: signing rate, factory space and land added, the land quota in force
    MV = np.zeros((B, H, NM))
    rate = (v.num(pl.signings_per_month, "pipeline.signings_per_month") + E.extra_signings_per_month) / w
    profile = np.asarray(pl.monthly_profile, dtype=float)
    MV[:, :, Month.RATE] = np.asarray(rate).reshape(-1, 1) * profile[np.arange(H) % 12][None, :]
    for i, add in enumerate(cap.factory_additions):
        m = (add.year - sim.start_year) * 12 + add.month - 1
        if 0 <= m < H:
            MV[:, m, Month.FADD] += v.num(add.amount, f"capacity.factory_additions.{i}.amount") / w
    for m, m2, mu in E.additions:  # the levers' factories and prepared land
        MV[:, m, Month.FADD] += np.asarray(m2) / w
        MV[:, m, Month.LADD] += np.asarray(mu) / w
    quota = np.broadcast_to(np.asarray(v.num(cap.land_quota_mu_per_year, "capacity.land_quota_mu_per_year"), dtype=float), (B,)).copy()
    for m in range(H):
        year, month = sim.start_year + m // 12, m % 12 + 1
        for i, ch in enumerate(cap.land_quota_changes):
            if ch.year == year and ch.month == month:
                quota = np.broadcast_to(np.asarray(v.num(ch.amount, f"capacity.land_quota_changes.{i}.amount"), dtype=float), (B,)).copy()
        MV[:, m, Month.QUOTA] = quota
    # warm-up: the signing rate of each month before the start (calendar profile)
    months = np.broadcast_to(PV[:, Par.WARM_UP], (B,))
    whole_max = int(math.ceil(float(months.max()))) if B else 0
    WR = np.zeros((B, max(whole_max, 1)))
    rate_b = np.broadcast_to(np.asarray(rate, dtype=float), (B,))
    rows: dict = {}  # replications with the same warm-up length and rate share a row (computed once)
    for b in range(B):
        key = (float(months[b]), float(rate_b[b]))
        if key not in rows:
            whole = int(math.ceil(key[0]))
            rows[key] = row = np.zeros(WR.shape[1])
            for k in range(whole):
                if k >= whole - key[0]:
                    row[k] = key[1] * profile[(k - whole) % 12]
        WR[b] = rows[key]

    REG = np.zeros((0, NG))
    reg = scn._register
    if reg is not None and len(reg):
        REG = np.full((len(reg), NG), np.nan)
        for g, row in enumerate(reg.itertuples(index=False)):
            d = row._asdict()
            REG[g, Reg.SECTOR] = names.index(d["sector"])
            for col, key in (
                (Reg.REVENUE, "revenue"),
                (Reg.AGE, "age_years"),
                (Reg.EMPLOYEES, "employees"),
                (Reg.RD, "rd_spend"),
                (Reg.ST, "st_staff_share"),
                (Reg.HT, "hightech_revenue_share"),
                (Reg.HTS, "hightech_service_share"),
                (Reg.IP1, "ip_class1"),
                (Reg.IP2, "ip_class2"),
                (Reg.NICHE, "niche"),
                (Reg.RDINST, "rd_institution"),
                (Reg.LISTED, "listed"),
                (Reg.HEXP, "hnte_expiry_month"),
                (Reg.TSME, "tech_sme"),
                (Reg.ZEXP, "zjtx_expiry_month"),
                (Reg.FLOOR, "floor_space_m2"),
            ):
                REG[g, col] = _nan(d.get(key))
    KP = np.zeros((0, NK))
    prj = scn._projects
    if prj is not None and len(prj):
        KP = np.full((len(prj), NK), np.nan)
        for k, row in enumerate(prj.itertuples(index=False)):
            KP[k, Known.SIGN] = float(row.signing_month)
            KP[k, Known.SECTOR] = names.index(row.sector)
            KP[k, Known.RENT] = 1.0 if row.mode == "rent" else 0.0
            KP[k, Known.PLANNED] = float(row.planned_output)
            KP[k, Known.FLOOR] = _nan(row.floor_space_m2)
            KP[k, Known.LAND] = _nan(row.land_mu)
            KP[k, Known.INVEST] = _nan(row.investment)
            KP[k, Known.LANDED] = 0.0 if row.status == "signed" else 1.0
            KP[k, Known.JOBS] = _nan(row.jobs)
    ts_staff, ts_rd, ts_ip2 = C.point_tables(t)
    return dict(
        E=E,
        PV=PV,
        PD=PD,
        SV=SV,
        SD=SD,
        BV=BV,
        BD=BD,
        MV=MV,
        WR=WR,
        KP=KP,
        REG=REG,
        TS_STAFF=ts_staff,
        TS_RD=ts_rd,
        TS_IP2=ts_ip2,
    )


_dropout = np.vectorize(dropout, otypes=[float])  # the rule, for the per-replication arrays of a plan


def _capacity(P) -> tuple[int, int]:
    """Room for firms and projects per replication (generous; a block that overflows is rerun with twice the room)."""
    signings = float(P["MV"][:, :, Month.RATE].sum(axis=1).max()) * 1.5  # status effects may raise the signing rate
    warm = float(P["WR"].sum(axis=1).max())
    expected = signings + warm + len(P["KP"])
    projects = int(expected + 6.0 * math.sqrt(expected + 1.0) + 16)
    start = len(P["REG"]) + int(P["BV"][:, :, Base.N].sum(axis=1).max())
    return start + projects, projects


#: the large arrays of the last group, kept for the next group of a run_block call that needs no more room: fresh arrays cost
#: page faults and the kernel's zeroing on first touch (measured: a bench replication in a fresh group takes twice as long).
#: They need no clearing: a replication's initialisation writes every firm and project row before it is read (tests: any
#: grouping gives the same values)
_SPARE: dict = {}
_SPARE_LOCK = threading.Lock()


def _state_shapes(B: int, cap: int, pcap: int, Y: int, H: int, nsec: int) -> dict:
    """name -> (shape, dtype) of a block's arrays: the large ones (firms, projects) first, then the small ones."""
    return dict(
        FF=((B, NF0 + Y + 2 * (Y + HISTORY), cap), np.float64),
        FI=((B, NI, cap), np.int64),
        FR=((B, cap), np.uint64),  # roots of the firms' monthly noise
        PF=((B, NPF, pcap), np.float64),
        PI=((B, NPI, pcap), np.int64),
        PR=((B, pcap, 4), np.uint64),
        AL=((B, 3 * pcap + 8, 2), np.float64),  # event heap: (time, project)
        QF=((B, pcap), np.int64),
        QL=((B, pcap), np.int64),
        RS=((B, NRS), np.float64),
        RI=((B, NRI), np.int64),
        RR=((B, NRR, 4), np.uint64),
        SH=((B, nsec, Y + 3), np.float64),  # the sectors' yearly shocks, then this month's drifts and noise scale
        RATE=((B, H), np.float64),
        REC=((B, Y, len(I.RECORD)), np.float64),
    )


_LARGE = ("FF", "FI", "FR", "PF", "PI", "PR", "AL", "QF", "QL")
#: a block's arrays (the rest of :func:`_advance`'s arrays are the plan's)
_BLOCK_ARRAYS = frozenset(_state_shapes(1, 1, 1, 1, 1, 1))
#: the arrays :func:`_advance` takes, in order, after r0, r1, m0, m1, H, Y, seed, REPS, park
_ENTRY_ARRAYS = (
    *("FF", "FI", "FR", "PF", "PI", "PR", "AL", "QF", "QL", "RS", "RI", "RR", "SH", "RATE", "REC"),
    *("PV", "PD", "SV", "SD", "BV", "BD", "MV", "WR", "KP", "REG", "TS_STAFF", "TS_RD", "TS_IP2"),
)


def _fresh_zeros(shape, dtype) -> np.ndarray:
    """A zeroed array in fresh anonymous memory (``mmap``), without NumPy's request for transparent huge pages.

    NumPy asks the kernel for huge pages for arrays of 4 MB or more. Where the kernel then compacts memory at a
    page's first touch (transparent huge page defrag "madvise", a common default and this machine's), the
    first group of a run spent 0.56-0.64 s in its first pass over its arrays instead of 0.25-0.29 s (bench,
    455 replications, 266 MB), and later groups gained nothing from huge pages (0.17-0.19 s either way).
    """
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size == 0:
        return np.zeros(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, size), dtype=dtype).reshape(shape)  # anonymous memory reads as zeros


def _room(big: dict, B: int, cap: int, pcap: int) -> bool:
    """Whether the large arrays ``big`` have room for B replications of cap firms and pcap projects."""
    return big["FF"].shape[0] >= B and big["FF"].shape[2] >= cap and big["PF"].shape[2] >= pcap


class _Block:
    """State of one park for a block of replications (arrays with a leading replication axis)."""

    def __init__(self, scn, P, reps, cap: int, pcap: int, slot: int = 0):
        self.scenario = scn
        self.REPS = np.asarray(reps, dtype=np.int64)  # each row's replication number in the run (keys its streams)
        B = len(self.REPS)
        Y, H = scn.simulation.years, scn.months
        nsec = P["SV"].shape[1]
        self.H, self.Y = H, Y
        key = (threading.get_ident(), slot)  # each thread runs its own groups, on its own arrays
        with _SPARE_LOCK:
            big = _SPARE.pop(key, None)
        # the last group's arrays serve if they have room for as many replications, firms and projects (more room
        # changes nothing: the engine only uses rows it initialised); the small per-replication arrays are fresh
        shapes = _state_shapes(B, cap, pcap, Y, H, nsec)
        if big is not None and _room(big, B, cap, pcap) and big["FF"].shape[1] == shapes["FF"][0][1]:
            shapes = _state_shapes(B, big["FF"].shape[2], big["PF"].shape[2], Y, H, nsec)  # (the room they have)
        else:
            big = {name: _fresh_zeros(*shapes[name]) for name in _LARGE}
        self._big, self._key = big, key
        for name, (shape, dtype) in shapes.items():
            setattr(self, name, big[name] if name in big else np.zeros(shape, dtype))
        self.REC.fill(np.nan)

    def release(self) -> None:
        """Hand the large arrays to the next block of the same slot (a portfolio's park) that has room in them."""
        with _SPARE_LOCK:
            _SPARE[self._key] = self._big

    def args(self, r0, r1, m0, m1, seed, park, P) -> tuple:
        """The arguments of :func:`_advance` for replications r0..r1-1 over months m0..m1-1."""
        arrays = (getattr(self, k) if k in _BLOCK_ARRAYS else P[k] for k in _ENTRY_ARRAYS)
        return (r0, r1, m0, m1, self.H, self.Y, np.uint64(seed), self.REPS, park, *arrays)

    def advance(self, r0, r1, m0, m1, seed, park, P) -> None:
        _advance(*self.args(r0, r1, m0, m1, seed, park, P))


def needs_compiling() -> bool:
    """Whether the next run compiles the engine (nothing compiled in this process, nothing usable in the cache)."""
    if _advance.signatures:
        return False
    try:  # numba's on-disk index of compiled versions for the current source (internal API: on any change, assume cached)
        return not _advance._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001
        return False


# --- compiled-code cache -------------------------------------------------------------------
#: the modules whose compiled code the engine's cache holds: numba keys a cached function on its own source file
#: only, so an edited rule or sampler would leave the engine compiled from the old one (the cache of a function
#: does not see a change in a function it calls, in another file)
_CACHED_MODULES = ("_engine_fast", "_fastrand", "_ops")
_SOURCES_STAMP = "parksim-engine-sources.sha256"


def _sources_digest(package: Path) -> str:
    """SHA-256 of the sources compiled into the engine: this module, the samplers and every rule module."""
    h = hashlib.sha256()
    for path in sorted([package / "_engine_fast.py", package / "_fastrand.py", *(package / "rules").glob("*.py")]):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _refresh_cache(dirs, digest: str, modules=_CACHED_MODULES) -> int:
    """Delete the cached compiled code of ``modules`` in ``dirs`` unless it was compiled from sources with ``digest``.

    The digest of the sources last compiled is kept in the first directory (written atomically). Returns the
    number of cache files deleted; the next run compiles afresh. Other files in the directories are left alone.
    (The test suite does the same for its own compiled helpers, which call the engine's samplers and rules.)
    """
    dirs = [Path(d) for d in dirs]
    stamp = dirs[0] / _SOURCES_STAMP
    try:
        if stamp.read_text(encoding="ascii").strip() == digest:
            return 0
    except OSError:
        pass
    removed = 0
    for d in dirs:
        for module in modules:
            for f in d.glob(f"{module}.*.nb[ic]"):  # numba's index (.nbi) and data (.nbc) files
                try:
                    f.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
    try:
        dirs[0].mkdir(parents=True, exist_ok=True)
        tmp = dirs[0] / f"{_SOURCES_STAMP}.{os.getpid()}.tmp"
        tmp.write_text(digest + "\n", encoding="ascii")
        os.replace(tmp, stamp)
    except OSError:
        pass
    return removed


def _check_cache() -> None:
    """At import: start the compiled-code cache afresh if any source compiled into the engine changed since it was filled."""
    try:  # where numba caches each module's functions (internal API: on any failure, numba's own check stands)
        import inspect

        from numba.core import caching

        from .rules import _ops

        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        dirs = {}
        for func in (_advance.py_func, R.normal.py_func, _ops.where):
            for locator in impl._locator_classes:
                found = locator.from_function(func, inspect.getfile(func))
                if found is not None:
                    dirs[Path(found.get_cache_path())] = None
                    break
        _refresh_cache(list(dirs), _sources_digest(Path(__file__).parent))
    except Exception:  # noqa: BLE001 - an unreadable cache is numba's to report when it compiles
        pass


_check_cache()


#: the plan's arrays (:func:`plan`, all float64): their number of dimensions
_PLAN_NDIM = dict(PV=2, PD=3, SV=3, SD=4, BV=3, BD=4, MV=3, WR=2, KP=2, REG=2, TS_STAFF=2, TS_RD=2, TS_IP2=1)

#: the array arguments of the functions a first run compiles in two processes (see :func:`_compile`)
_ARGS = {
    "end": ("FF", "FI", "FR", "PF", "PI", "QF", "QL", "RS", "RI", "RR", "SH", "PV", "SV", "REC", "TS_STAFF", "TS_RD", "TS_IP2", "AL"),
    "events": ("FF", "FI", "FR", "PF", "PI", "PR", "AL", "QF", "QL", "RS", "RI", "RR", "RATE", "PV", "PD", "SV", "SD", "KP"),
    "init": (
        *("FF", "FI", "FR", "PF", "PI", "PR", "AL", "QF", "QL", "RS", "RI", "RR", "SH", "RATE"),
        *("PV", "PD", "SV", "SD", "BV", "BD", "MV", "WR", "KP", "REG"),
    ),
    "starting": ("FF", "FI", "FR", "SV", "SD", "PV", "BV", "BD", "REG"),
}
#: who compiles which part on a first run, in order: the helper process, and the running process (which then waits
#: for the helper and compiles :func:`_advance`, finding every part in the cache). The helper's parts both create
#: firms, so the new-firm code is compiled once; its starting firms come first, so that this process's
#: initialisation, which calls them, finds them in the cache. The parts take about as long in each process.
_HELPER_PARTS = ("starting", "events")
_RUN_PARTS = ("end", "init")


def _signatures() -> dict:
    """Argument types of the calls :func:`_advance` makes, by :data:`_ARGS` key, for any block: the types depend on
    the arrays' dtypes and dimensions only, the same for every scenario (a test checks), so the compile helper needs
    no scenario."""
    arrays = _standard_arrays()
    i64, seed = numba.types.int64, numba.types.Array(numba.types.uint64, 1, "C")

    def types(key):
        return tuple(numba.typeof(arrays[k]) for k in _ARGS[key])

    return {
        "end": (i64, i64, i64, i64, seed, i64, *types("end")),  # r, m, pr, Y, seed, park
        "events": (i64, i64, i64, i64, seed, i64, *types("events")),  # r, m, H, Y, seed, park
        "init": (i64, i64, i64, seed, i64, *types("init")),  # r, H, Y, seed, park
        "starting": (i64, i64, i64, seed, i64, *types("starting")),  # r, Y, pr, seed, park
    }


def _standard_arrays() -> dict:
    """One small array of each of the engine's kinds (a block's and a plan's), by name: their types are every block's."""
    arrays = {k: np.zeros((1,) * len(shape), dtype) for k, (shape, dtype) in _state_shapes(1, 1, 1, 1, 1, 1).items()}
    return arrays | {k: np.zeros((1,) * nd) for k, nd in _PLAN_NDIM.items()}


def _entry_signature() -> tuple:
    """The argument types of :func:`_advance`, for every block (a test checks them against each scenario's)."""
    i64, arrays = numba.types.int64, _standard_arrays()
    reps = numba.typeof(np.zeros(1, np.int64))
    return (i64, i64, i64, i64, i64, i64, numba.types.uint64, reps, i64, *(numba.typeof(arrays[k]) for k in _ENTRY_ARRAYS))


#: the parts a first run compiles in two processes, by :data:`_ARGS` key
_PARTS = {"end": _end_of_month, "events": _events, "init": _init_rep, "starting": _starting_firms}


def _compile_parts() -> None:
    """The compile helper process's work (:mod:`parksim._compiling`): its parts, into the cache, if the engine needs compiling."""
    if needs_compiling():
        sigs = _signatures()
        for key in _HELPER_PARTS:
            _PARTS[key].compile(sigs[key])


@contextlib.contextmanager
def _linked_as_compiled(*funcs):
    """While this thread compiles, skip numba's re-optimisation of the linked code of the compiled functions ``funcs``.

    Numba links the code of everything a compiled function calls into its own and runs LLVM's full optimisation
    over all of it again; that is how small functions are inlined into their callers. :func:`_advance` (the
    month loop) and :func:`_init_rep` (once a replication) only make a few calls of parts that were optimised
    already, with all they call: optimising the whole engine again took about 1 s of a first run for
    :func:`_advance` and 0.4-0.8 s for :func:`_init_rep`, and changed nothing in the engine's speed (bench, one
    thread: 0.63-0.70 ms a replication either way, within the machine's noise). Skipping an optimisation
    cannot change results. This replaces a method of numba's internal code library class for the duration; if
    that is not there, nothing is skipped.
    """
    try:
        from numba.core.codegen import CPUCodeLibrary

        optimise = CPUCodeLibrary._optimize_final_module
    except (ImportError, AttributeError):
        yield
        return
    me, names = threading.get_ident(), {f.py_func.__qualname__ for f in funcs}  # numba names a code library so

    def final(library):
        if library.name in names and threading.get_ident() == me:
            return None
        return optimise(library)

    CPUCodeLibrary._optimize_final_module = final
    try:
        yield
    finally:
        CPUCodeLibrary._optimize_final_module = optimise


def _compile(threads: int) -> None:
    """Compile the engine unless this process has it or the cache can serve it.

    With more than one thread, a helper process (:mod:`parksim._compiling`; started early by the ``parksim``
    command, or now) compiles :data:`_HELPER_PARTS` into the cache while this process compiles
    :data:`_RUN_PARTS`; each finds the other's parts there (numba looks in the cache before compiling a
    function that a function it compiles calls). Then :func:`_advance` is compiled, finding all parts
    compiled. If the helper fails, this process compiles what is missing itself (it is an optimisation only).
    Every block's arrays have the same types (:func:`_signatures`), so this needs no scenario.
    """
    helper = _compiling.take()
    try:
        if not needs_compiling():
            return
        sigs = _signatures()
        with _linked_as_compiled(_advance, _init_rep):
            if threads > 1:
                helper = helper or _compiling.start()
                if helper is not None:
                    for key in _RUN_PARTS:
                        _PARTS[key].compile(sigs[key])
                    _compiling.wait(helper)
            _advance.compile(_entry_signature())
    finally:
        _compiling.stop(helper)


def unsupported(scenario) -> str | None:
    """Why the fast engine cannot run ``scenario`` (None: it can; it models everything the SimPy engine does)."""
    del scenario
    return None


class _Overflow(Exception):
    pass


_POOL: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    if threads not in _POOL:
        _POOL[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="parksim-fast")
    return _POOL[threads]


def _advance_all(blocks, parks, m0, m1, seed, P_list) -> None:
    """Advance every park's block (all its replications, on this thread) over months m0..m1-1."""
    for blk, P, park in zip(blocks, P_list, parks, strict=True):
        blk.advance(0, blk.REPS.shape[0], m0, m1, seed, park, P)
    for blk in blocks:
        err = blk.RI[:, RepI.ERROR]
        if (err == ERR_OVERFLOW).any():
            raise _Overflow
        if (err == ERR_OCCUPIED).any():
            r = int(np.flatnonzero(err == ERR_OCCUPIED)[0])
            raise occupied_error(blk.scenario, blk.RS[r, RepF.FLEVEL])


def _priced(REC, E, y: int) -> np.ndarray:
    """The year-end records of year y (B, record), with the levers' cost of the year (rules.levers)."""
    return LV.price_record(REC[:, y].copy(), E, y)


def _values(REC, E) -> np.ndarray:
    """(B, years, indicators) from year-end records, in the order of INDICATORS."""
    Y = REC.shape[1]
    ind = I.from_record(np.stack([_priced(REC, E, y) for y in range(Y)], axis=1))
    return np.stack([ind[name] for name in I.INDICATORS], axis=-1)


#: memory for the state of the replications advanced at a time, over all threads (bytes); a run needs this plus its
#: output (a run's first groups touch fresh memory, whose page faults cost time; 96 MB ran as fast as 256 on bench)
MEMORY_BUDGET = 256 * 2**20


def state_bytes(cap: int, pcap: int, Y: int, H: int, nsec: int) -> int:
    """Bytes of state one replication of a park needs in a :class:`_Block` with room for cap firms, pcap projects."""
    return sum(math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in _state_shapes(1, cap, pcap, Y, H, nsec).values())


def run_block(
    scenario,
    seed: int,
    reps,
    threads: int = 1,
    width: int | None = None,
    budget: int | None = None,
    progress=None,
    keep_memory: bool = False,
) -> np.ndarray:
    """Replications ``reps`` of ``scenario``: array (len(reps), years, parks x columns) as the Monte Carlo runner lays it out.

    ``width`` is the number of columns per park (indicators, then the assessment outcome and status codes).
    Replications are advanced in groups, one group per thread at a time, whose state fits in ``budget`` bytes
    together (default :data:`MEMORY_BUDGET`), so memory does not grow with the number of replications, however
    large the park.
    Results do not depend on the grouping (each replication's streams are keyed by its number in the run).
    ``progress``, if given, is called with the number of replications finished after each group.
    ``keep_memory`` keeps the groups' large arrays for the next call (a run in batches: fresh memory
    costs page faults and the kernel's zeroing) until :func:`release_memory`.
    """
    seed = int(seed)
    reps = [int(r) for r in reps]
    portfolio = scenario.portfolio is not None
    members = list(scenario._members) if portfolio else [(scenario.name, scenario)]
    parks = [key_of(name) if portfolio else 0 for name, _ in members]
    budget = MEMORY_BUDGET if budget is None else budget
    if not reps:
        return np.empty((0, scenario.simulation.years, len(members) * (width or len(I.INDICATORS) + 2)))
    threads = max(1, min(int(threads), len(reps)))
    # each group runs on one thread, `threads` groups at a time, each in its share of the budget: a thread goes on to
    # its next group without waiting for the others (a group shared by the threads ends when its slowest replication
    # does: bench-large, two replications a thread per group, ran about 12% slower so); the last groups are smaller,
    # so the threads end together (bench, 10,000 replications: equal groups left one thread idle 0.1 s at the end)
    groups = _groups(reps, _group_size(members, seed, reps[0], budget // threads), threads)

    taken = [0]  # groups a thread has started
    lock = threading.Lock()

    def run_group(group):
        with lock:
            taken[0] += 1
        plans = [plan(m, seed, group, park if portfolio else None, scenario.assessment) for (_, m), park in zip(members, parks, strict=True)]
        scale = 1
        while True:
            try:
                out = _run(scenario, members, parks, plans, seed, group, width, scale)
                break
            except _Overflow:
                scale *= 2
        with lock:
            done = taken[0] == len(groups)
        if done and not keep_memory:  # this thread gets no more groups: it frees its arrays while the others finish
            _release_thread()
        return out

    _compile(threads)
    parts = []
    futures = [_pool(threads).submit(run_group, group) for group in groups] if threads > 1 else []
    try:
        for k, group in enumerate(groups):
            parts.append(futures[k].result() if futures else run_group(group))
            if progress is not None:
                progress(len(group))
    finally:  # on an error or an interrupt: no group starts any more, and the running ones end before this returns
        for future in futures:
            future.cancel()
        wait(futures)
        if not keep_memory:
            release_memory()
    return np.concatenate(parts)


def release_memory() -> None:
    """Free the large arrays kept for the next group (memory is held only while a run uses it)."""
    with _SPARE_LOCK:
        _SPARE.clear()


def _release_thread() -> None:
    """Free the large arrays this thread kept (its parks' slots)."""
    me = threading.get_ident()
    with _SPARE_LOCK:
        mine = [key for key in _SPARE if key[0] == me]
        arrays = [_SPARE.pop(key) for key in mine]
    del arrays  # (unmapped here, outside the lock)


def _group_size(members, seed, rep, budget) -> int:
    """How many replications fit in the memory budget (at least one, at most 512)."""
    per_rep = 0
    for _, m in members:
        P = plan(m, seed, [rep])
        cap, pcap = _capacity(P)
        per_rep += state_bytes(cap, pcap, m.simulation.years, m.months, P["SV"].shape[1])
    return int(min(512, max(1, budget // max(per_rep, 1))))


def _groups(reps: list, size: int, threads: int) -> list:
    """``reps`` in groups of at most ``size``, in order, the last ones smaller (guided scheduling).

    A free thread takes the next group, so the threads end within about the last group's time of one another:
    a group holds the replications left over twice the threads (at most ``size``; at least a sixteenth of it, or a
    thread's share of the run if that is less, so that a run of few replications still uses every thread).
    Sizes never grow, so a thread's arrays have room for its next group. One thread runs groups of ``size``.
    """
    n = len(reps)
    if threads == 1:
        return [reps[a : a + size] for a in range(0, n, size)]
    least = max(1, min(size // 16, -(-n // threads)))
    bounds = [0]
    while bounds[-1] < n:
        rest = n - bounds[-1]
        bounds.append(bounds[-1] + min(rest, size, max(least, -(-rest // (2 * threads)))))
    return [reps[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _run(scenario, members, parks, plans, seed, reps, width, scale):
    B = len(reps)
    blocks = []
    for (_, m), P in zip(members, plans, strict=True):
        cap, pcap = _capacity(P)
        blocks.append(_Block(m, P, reps, cap * scale, pcap * scale, slot=len(blocks)))
    H, Y = blocks[0].H, blocks[0].Y
    n_ind = len(I.INDICATORS)
    width = width or n_ind + 2
    out = np.full((B, Y, len(members) * width), np.nan)
    at = [0]  # the month every park has reached

    def advance(m: int) -> None:
        _advance_all(blocks, parks, at[0], m, seed, plans)
        at[0] = m

    def apply(p: int, r: int, eff) -> None:  # from the decision month on (the next year start's quota)
        blocks[p].RATE[r, at[0] :] = plans[p]["MV"][r, at[0] :, Month.RATE] * eff.signing_factor
        blocks[p].RS[r, RepF.QFACTOR] = eff.land_quota_factor
        blocks[p].RS[r, RepF.GBONUS] = eff.growth_bonus

    def record(y: int, p: int, outcomes, statuses) -> None:
        out[:, y, p * width + n_ind] = outcomes
        out[:, y, p * width + n_ind + 1] = statuses

    A.drive(
        scenario.assessment,
        len(blocks),
        B,
        H,
        Y,
        advance=advance,
        indicators=lambda y: [I.from_record(_priced(blk.REC, P["E"], y)) for blk, P in zip(blocks, plans, strict=True)],
        apply=apply,
        record=record,
    )
    for p, blk in enumerate(blocks):
        out[:, :, p * width : p * width + n_ind] = _values(blk.REC, plans[p]["E"])
    for blk in blocks:  # each park's arrays for the same park in the next group
        blk.release()
    return out
