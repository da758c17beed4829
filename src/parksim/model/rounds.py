"""The yearly certification rounds: high-tech enterprise (HNTE), tech-based SME, 专精特新.

Each round applies the conditions of :mod:`parksim.rules.certification` to every living firm, with the firm's
keyed yearly uniforms (the same whatever the engine or the order of firms).
"""

from __future__ import annotations

import numba

from parksim.model import fastrand as R
from parksim.model.firms import _firm_level, _firm_year, _hnte_params
from parksim.model.jit import _I, _LEAN
from parksim.model.layout import HISTORY, NF0, Draw, FirmF, FirmI, Par, RepI, _ZjtxP
from parksim.rules import certification as C
from parksim.rules import firms as F


@numba.njit(**_LEAN)
def _hnte_round(r, t, y, pr, Y, seed, park, FF, FI, RI, PV):
    """The yearly high-tech enterprise round (as ParkModel's): the R&D-active firms' yearly improvement, then expiry,
    revocation, the cultivation pool and the applications of eligible firms.

    A firm R&D-active in the park gains innovation points (more in the cultivation pool) and high-tech revenue share
    over the year, and its R&D share grows by the factor ``g`` (``FirmF.RDG``, which multiplies its R&D from this year
    on): the round sees the year's improvement (``traits.*``; done here, where the round reads those columns anyway).
    """
    n = RI[r, RepI.FIRMS]
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    p = _hnte_params(PV, pr)
    g = R.exp(PV[pr, Par.RD_GROWTH])
    # a firm without R&D in the last three years is neither near the conditions nor meets them while every band asks
    # for some R&D: its pool flag is cleared and the rest skipped (the same outcome, without the conditions' work)
    needs_rd = min(p.rd_ratio_small, p.rd_ratio_medium, p.rd_ratio_large) > 0
    for i in range(n):
        if FI[r, FirmI.ALIVE, i] == 0:
            continue
        if FI[r, FirmI.RDACT, i] == 1:
            FF[r, FirmF.SCORE, i] = F.improved_score(
                FF[r, FirmF.SCORE, i], PV[pr, Par.SCORE_GAIN] + PV[pr, Par.POOL_GAIN] * FI[r, FirmI.POOL, i]
            )
            FF[r, FirmF.HT, i] = min(1.0, FF[r, FirmF.HT, i] + PV[pr, Par.HT_GAIN])
            FF[r, FirmF.RDG, i] *= g
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
            FI[r, FirmI.POOL, i] = 0
            continue
        rd3 = 0.0
        sales3 = 0.0
        for c in range(y, y + HISTORY):
            rd3 += FF[r, RD + c, i]
            sales3 += FF[r, REV + c, i]
        if rd3 == 0.0 and needs_rd:
            FI[r, FirmI.POOL, i] = 0
            continue
        age, latest = t - FF[r, FirmF.BIRTH, i], FF[r, REV + y + HISTORY - 1, i]
        ip = (FI[r, FirmI.IP1, i] == 1) | (FI[r, FirmI.IP2, i] > 0)
        st, ht, score, field = FF[r, FirmF.ST, i], FF[r, FirmF.HT, i], FF[r, FirmF.SCORE, i], FI[r, FirmI.FIELD, i]
        # the cultivation pool (高企培育库): a firm near the conditions is enrolled with the year's chance and stays
        # while it is near them and not certified
        if not C.hnte_near(rd3, sales3, latest, score, field, PV[pr, Par.POOL_SCORE], PV[pr, Par.POOL_RD], p):
            FI[r, FirmI.POOL, i] = 0
        elif FI[r, FirmI.POOL, i] == 0:
            h = _firm_year(seed, park, FI[r, FirmI.KEY, i], y)
            if R.keyed_uniform(h, _I(Draw.HPOOL)) < PV[pr, Par.POOL_ENTRY]:
                FI[r, FirmI.POOL, i] = 1
        # a firm that fails the conditions without a violation fails them with one: its violation draw (the year's
        # uniform Draw.HVIOL, computed where it is used) is needed only by a firm that meets all the others
        if not C.hnte_eligible(age, rd3, sales3, latest, st, ht, score, ip, field, False, p):
            continue
        h = _firm_year(seed, park, FI[r, FirmI.KEY, i], y)
        if not C.hnte_eligible(
            age, rd3, sales3, latest, st, ht, score, ip, field, R.keyed_uniform(h, _I(Draw.HVIOL)) < PV[pr, Par.H_VIOL], p
        ):
            continue
        pool = FI[r, FirmI.POOL, i]
        prob = C.hnte_apply(expired, pool, PV[pr, Par.H_APPLY], PV[pr, Par.H_REAPPLY], PV[pr, Par.POOL_APPLY], PV[pr, Par.CULT_APPLY])
        if R.keyed_uniform(h, _I(Draw.HAPPLY)) < prob:
            RI[r, RepI.APPLY] += 1
            approval = C.hnte_approval(
                FI[r, FirmI.HEVER, i], pool, PV[pr, Par.H_APPROVE], PV[pr, Par.H_RENEW], PV[pr, Par.POOL_APPROVE], PV[pr, Par.CULT_APPROVE]
            )
            if R.keyed_uniform(h, _I(Draw.HAPPROVE)) < approval:
                if FI[r, FirmI.HEVER, i] == 0:
                    RI[r, RepI.NEWH] += 1
                FI[r, FirmI.HON, i] = 1
                FI[r, FirmI.HEVER, i] = 1
                FI[r, FirmI.POOL, i] = 0
                FF[r, FirmF.HEXP, i] = t + 12.0 * PV[pr, Par.H_VALID]


@numba.njit(**_LEAN)
def _hnte_valid(FF, FI, r, i, t):
    """Whether firm i holds a high-tech certificate valid at month end t (one that lapsed since the last round does not
    count: 有效期内高新技术企业 are the firms whose certificate is valid at the date counted)."""
    return FI[r, FirmI.HON, i] == 1 and FF[r, FirmF.HEXP, i] > t


@numba.njit(**_LEAN)
def _zjtx_valid(FF, FI, r, i, t):
    """Whether firm i holds a 专精特新 recognition valid at month end t."""
    return FI[r, FirmI.ZON, i] == 1 and FF[r, FirmF.ZEXP, i] > t


@numba.njit(**_LEAN)
def _registry_eligible(r, i, t, pr, FF, FI, PV):
    """Whether firm i meets Chongqing's registry conditions at month end t (its employees then, a certificate valid
    then): the yearly evaluation's and the start's (model.park._registry_at_start) reading of them."""
    return C.registry_eligible(
        _firm_level(FF, r, i, t) / FF[r, FirmF.PROD, i],
        FF[r, FirmF.ST, i],
        FI[r, FirmI.RDACT, i],
        1 if _hnte_valid(FF, FI, r, i, t) else 0,
        PV[pr, Par.C_ST],
        PV[pr, Par.C_SENIOR],
        PV[pr, Par.C_RDACT],
        PV[pr, Par.T_HNTE],
    )


@numba.njit(**_LEAN)
def _tech_sme(r, t, y, pr, Y, n, FF, FI, PV, TS_STAFF, TS_RD, TS_IP2):
    """The yearly tech-based evaluation (national tech-SME or Chongqing's registry, ``certification.tech_based``): a
    living, registering firm holds the status while it qualifies."""
    REV, RD = NF0 + Y, NF0 + 2 * Y + HISTORY
    last = y + HISTORY - 1
    p = C.TechSmeParams(
        PV[pr, Par.T_STAFF], PV[pr, Par.T_REVENUE], PV[pr, Par.T_PASS], TS_STAFF, TS_RD, PV[pr, Par.T_IP1], TS_IP2, PV[pr, Par.T_HNTE] > 0
    )
    registry = PV[pr, Par.T_KIND] > 0
    for i in range(n):
        if FI[r, FirmI.ALIVE, i] == 0:
            continue
        if FI[r, FirmI.REG, i] == 0:  # a firm that does not register never holds the status: its conditions are not needed
            FI[r, FirmI.TSME, i] = 0
            continue
        if registry:  # Chongqing's registry (certification.tech_based = "chongqing_registry")
            ok = _registry_eligible(r, i, t, pr, FF, FI, PV)
        else:
            employees = _firm_level(FF, r, i, t) / FF[r, FirmF.PROD, i]
            hnte = 1 if _hnte_valid(FF, FI, r, i, t) else 0  # a certificate valid at the evaluation
            rev = FF[r, REV + last, i]
            ok = C.tech_sme_eligible(
                employees,
                rev,
                FF[r, FirmF.ST, i],
                C._ratio(FF[r, RD + last, i], rev),
                FI[r, FirmI.IP1, i],
                FI[r, FirmI.IP2, i],
                hnte,
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
