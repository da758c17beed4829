"""A park's procedures: its start, the firms' month end, the year-end record; the SimPy engine's entry points.

Both engines call these: the fast engine from its month loop (:mod:`parksim.engines.fast.events`), the SimPy
engine through :func:`park_start`, :func:`firm_from_project` and :func:`firms_month_end` (replication 0 of a
one-replication block).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from parksim.errors import Problem, ScenarioError
from parksim.model import fastrand as R
from parksim.model.firms import _firm_level, _firm_year, _key, _new_firm, _starting_firms, _stream
from parksim.model.jit import _ENTRY, _I, _JIT, _LEAN
from parksim.model.layout import (
    ERR_OCCUPIED,
    ERR_OVERFLOW,
    HISTORY,
    NF0,
    TRAIT_U,
    TRAIT_Z,
    Draw,
    FirmF,
    FirmI,
    Par,
    RepF,
    RepI,
    Root,
    Sec,
    SecDist,
    Trait,
)
from parksim.model.random import INSTITUTIONS, MACRO, SECTOR
from parksim.model.rounds import _hnte_round, _hnte_valid, _registry_eligible, _tech_sme, _zjtx_round, _zjtx_valid
from parksim.rules import certification as C
from parksim.rules import firms as F
from parksim.rules import growth as G
from parksim.rules import indicators as I
from parksim.rules.pipeline import (
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


@numba.njit(**_LEAN)
def _adoption_year(r, i, y, pr, Y, above, chances, S, P):
    """Firm i's adoption of R&D practices over year y (in the park at its end; ``above``: above size this year), before
    its year's R&D is formed.

    An R&D-inactive firm starts R&D with the year's adoption chance (its share drawn from the sector's, half of it
    spent in the year it starts); an R&D-active one sets up an R&D institution with the institution's chance
    (``chances``: starting R&D above size, below it, an institution above size, below it; firm-size dependent and
    raised by the R&D-coverage lever: :func:`parksim.rules.firms.adoption_prob`). (R&D-active firms' yearly
    improvement is in the high-tech round: :func:`parksim.model.rounds._hnte_round`.)
    """
    FF, FI, RI, SV, SD = S.FF, S.FI, S.RI, P.SV, P.SD
    root = S.FR[r, i]
    if FI[r, FirmI.RDACT, i] == 0:
        if R.keyed_uniform(root, _I(TRAIT_U + 8 * y + Trait.RDSTART)) < chances[0 if above else 1]:
            s = FI[r, FirmI.SECTOR, i]
            FI[r, FirmI.RDACT, i] = 1
            z = TRAIT_Z + 64 * y
            share = R.ppf_z_at4(SD, pr, s, _I(SecDist.RD_SHARE), R.keyed_normal_at(root, _I(z)))
            sd = SV[pr, s, Sec.RD_NOISE]
            for k in range(y, Y):
                FF[r, NF0 + k, i] = F.rd_efficiency(share, True, sd, R.keyed_normal_at(root, _I(z + 1 + k)))
            FF[r, NF0 + y, i] *= 0.5  # started during the year: half a year's R&D on average
    elif R.keyed_uniform(root, _I(TRAIT_U + 8 * y + Trait.RDINST)) < chances[2 if above else 3]:
        FI[r, FirmI.RDINST, i] = 1
        RI[r, RepI.NEWINST] += 1


@numba.njit(**_LEAN)
def _year_end(r, y, pr, Y, seed, park, S, P):
    """Listings, institutions, the year-end record, last-year flags and next year's firm uniforms.

    One pass over the firms does, firm by firm, what the SimPy engine does firm table by firm table:
    listing, then the firm's part of the sums, then its above-size / tech flags for next year, then its
    uniforms for next year (each step reads only the same firm's state, so the order is the same).
    """
    FF, FI, RS, RI, RR, REC = S.FF, S.FI, S.RS, S.RI, S.RR, S.REC
    PV, SV = P.PV, P.SV
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
    # the year's adoption chances: starting R&D above size, below it; an R&D institution above size, below it
    chances = (
        F.adoption_prob(PV[pr, Par.RD_ADOPT], True, PV[pr, Par.SMALL_ADOPT], PV[pr, Par.ADOPT_FACTOR]),
        F.adoption_prob(PV[pr, Par.RD_ADOPT], False, PV[pr, Par.SMALL_ADOPT], PV[pr, Par.ADOPT_FACTOR]),
        F.adoption_prob(PV[pr, Par.INST_ADOPT], True, PV[pr, Par.SMALL_ADOPT], PV[pr, Par.ADOPT_FACTOR]),
        F.adoption_prob(PV[pr, Par.INST_ADOPT], False, PV[pr, Par.SMALL_ADOPT], PV[pr, Par.ADOPT_FACTOR]),
    )
    t = 12.0 * (y + 1)
    for i in range(n):
        alive = FI[r, FirmI.ALIVE, i] == 1
        revenue = FF[r, REV + col, i]
        # above size this year: an industrial firm in the park at the year end whose year's revenue reaches the threshold
        above = alive and C.above_size(revenue, FI[r, FirmI.IND, i], above_rev)
        if alive and (FI[r, FirmI.RDACT, i] == 0 or FI[r, FirmI.RDINST, i] == 0):
            _adoption_year(r, i, y, pr, Y, above, chances, S, P)
        # the year's R&D: its monthly output times the firm's R&D intensity that year, grown since it was created
        # (and the lever's multiplier)
        FF[r, RD + col, i] = revenue * FF[r, NF0 + y, i] * FF[r, FirmF.RDG, i] * mult
        if (
            alive
            and FI[r, FirmI.LISTED, i] == 0
            and revenue >= PV[pr, Par.LIST_MIN]
            and R.keyed_uniform(_firm_year(seed, park, FI[r, FirmI.KEY, i], y), _I(Draw.LISTING)) < PV[pr, Par.LIST_PROB]
        ):
            FI[r, FirmI.LISTED, i] = 1
        # certificates count at the year end only if valid at that date (one that lapsed since the round does not)
        hnte = _hnte_valid(FF, FI, r, i, t)
        tech = (FI[r, FirmI.TSME, i] == 1) | hnte
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
            hnte,
            tech,
            _zjtx_valid(FF, FI, r, i, t),
            FI[r, FirmI.RDACT, i],
            FI[r, FirmI.RDINST, i],
            FI[r, FirmI.LISTED, i],
            FI[r, FirmI.PABOVE, i],
            FI[r, FirmI.PTECH, i],
            above_rev,
            SV[pr, FI[r, FirmI.SECTOR, i], Sec.VA],
        )
        FI[r, FirmI.PABOVE, i] = 1 if above else 0
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
    sums[at.projects_promise_due] = RI[r, RepI.DUE]
    sums[at.projects_promise_kept] = RI[r, RepI.KEPT]
    RI[r, RepI.DUE], RI[r, RepI.KEPT] = RI[r, RepI.DUE_NEXT], RI[r, RepI.KEPT_NEXT]  # next year's are this year's now
    RI[r, RepI.DUE_NEXT], RI[r, RepI.KEPT_NEXT] = 0, 0
    sums[at.investment_cum] = RS[r, RepF.INVEST] * w / I.TEN_THOUSAND
    sums[at.hnte_applications] = RI[r, RepI.APPLY] * w
    sums[at.new_rd_institutions] = RI[r, RepI.NEWINST] * w
    sums[at.policy_cost] = 0.0
    sums[at.baseline_output] = PV[pr, Par.BASELINE_OUT] if y == 0 else np.nan
    sums[at.listed_initial] = PV[pr, Par.LIST0]
    for c in (RepI.SIGNED, RepI.LANDED, RepI.PRODUCING, RepI.DROPPED, RepI.NEWH, RepI.NEWZ, RepI.APPLY, RepI.NEWINST):
        RI[r, c] = 0


@numba.njit(**_LEAN)
def _firms_month_end(r, m, pr, Y, seed, park, S, P):
    """The firms' month end, the same in every engine: growth, output, exits, the certification rounds and the year end.

    Returns the standard-factory floor space the month's exits freed (already counted vacant in ``RS``); the
    engine lets waiting projects have it.
    """
    FF, FI, FR, RS, RI, SH = S.FF, S.FI, S.FR, S.RS, S.RI, S.SH
    PV, SV, TS_STAFF, TS_RD, TS_IP2 = P.PV, P.SV, P.TS_STAFF, P.TS_RD, P.TS_IP2
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
        _year_end(r, y, pr, Y, seed, park, S, P)
    return freed


@numba.njit(**_LEAN)
def _registry_at_start(r, pr, first, n, FF, FI, PV):
    """Chongqing's registry (``certification.tech_based = "chongqing_registry"``): a synthetic starting firm (rows
    ``first`` to ``n``; register rows keep their observed status) is tech-based at the start if it registers and meets
    the registry's conditions with its starting traits, read as the yearly evaluation reads them (rounds._registry_eligible). Its
    conditions are all traits a firm is created with, so the starting members are the firms the rules admit rather
    than a share drawn apart from them (which made the first evaluation re-sort the firms and count the difference
    as new tech-based firms)."""
    for i in range(first, n):
        ok = FI[r, FirmI.ALIVE, i] != 0 and FI[r, FirmI.REG, i] != 0 and _registry_eligible(r, i, 0.0, pr, FF, FI, PV)
        FI[r, FirmI.TSME, i] = 1 if ok else 0
        FI[r, FirmI.PTECH, i] = 1 if (ok or FI[r, FirmI.HON, i] == 1) else 0


@numba.njit(**_JIT)
def _init_park(r, pr, Y, seed, park, S, P):
    """The park at the start, the same in every engine: the sectors' shocks, the starting firms, the floor space they
    occupy, institutions and incubation space. False (with ``RI[r, RepI.ERROR]`` set) if the starting state does not fit
    the block or contradicts the scenario."""
    FF, RS, RI, RR, SH = S.FF, S.RS, S.RI, S.RR, S.SH
    PV, SV = P.PV, P.SV
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
    n = _starting_firms(r, Y, pr, seed, park, S, P)
    if n < 0:
        RI[r, RepI.ERROR] = ERR_OVERFLOW
        return False
    RI[r, RepI.FIRMS] = n
    if PV[pr, Par.T_KIND] > 0:
        _registry_at_start(r, pr, P.REG.shape[0], n, S.FF, S.FI, PV)
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


# --- the same procedures for another scheduler (the SimPy engine: one replication, r = 0) --------------------
@numba.njit(**_ENTRY)
def park_start(seed, park, Y, S, P):
    """:func:`_init_park` for replication 0 of a one-replication block; False if it failed (see ``RI[0, RepI.ERROR]``)."""
    return _init_park(_I(0), _I(0), Y, seed, park, S, P)


@numba.njit(**_ENTRY)
def firm_from_project(kind, index, s, t, level, productivity, Y, seed, park, S, P):
    """Project ``(kind, index)`` of sector ``s`` starts production at ``t`` at output ``level``: its firm is the next
    row of replication 0 (returned; -1 if the block is full). The firm draws from its project's stream after the
    project's own two draws, as a project's firm in :func:`_project_event` does."""
    FF, FI, FR, RI = S.FF, S.FI, S.FR, S.RI
    PV, SV, SD = P.PV, P.SV, P.SD
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
def firms_month_end(m, Y, seed, park, S, P):
    """:func:`_firms_month_end` of month ``m`` for replication 0 of a one-replication block: the floor space freed."""
    return _firms_month_end(_I(0), m, _I(0), Y, seed, park, S, P)
