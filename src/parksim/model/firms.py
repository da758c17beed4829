"""Firms: keyed streams, a new firm's attributes, starting firms (register rows and synthetic ones)."""

from __future__ import annotations

import math

import numba
import numpy as np

from parksim.model import fastrand as R
from parksim.model.jit import _I, _JIT, _LEAN
from parksim.model.layout import (
    CERTIFIED_YEAR,
    FIRM_YEAR,
    HISTORY,
    NF0,
    Base,
    BaseDist,
    FirmF,
    FirmI,
    Par,
    Reg,
    Score,
    Sec,
    SecDist,
    _HnteP,
)
from parksim.model.random import MACRO, REGISTER, SECTOR, SYNTHETIC_FIRM
from parksim.rules import certification as C
from parksim.rules import firms as F
from parksim.rules import growth as G
from parksim.rules.pipeline import (
    poisson_ppf,
)


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
def _hnte_params(PV, pr):
    """The high-tech enterprise conditions of plan row ``pr`` (:class:`parksim.rules.certification` reads them)."""
    return _HnteP(
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
    for k in (FirmI.HON, FirmI.HEVER, FirmI.TSME, FirmI.ZON, FirmI.ZEVER, FirmI.LISTED, FirmI.PABOVE, FirmI.PTECH, FirmI.POOL):
        FI[r, k, i] = 0
    FF[r, FirmF.HEXP, i] = -np.inf
    FF[r, FirmF.ZEXP, i] = -np.inf
    FF[r, FirmF.FLOOR, i] = 0.0
    FF[r, FirmF.RDG, i] = 1.0
    for k in range(NF0 + Y, FF.shape[1]):
        FF[r, k, i] = 0.0
    FR[r, i] = R.next_u64(st)  # the root of the firm's monthly noise (R.keyed_normal(root, month))
    return rd_share if rd_active else 0.0


@numba.njit(**_JIT)
def _starting_firms(r, Y, pr, seed, park, S, P):
    """Register rows, then each sector's synthetic starting firms (as ParkModel._starting_firms)."""
    FF, FI, FR = S.FF, S.FI, S.FR
    SV, SD, PV, BV, BD, REG = P.SV, P.SD, P.PV, P.BV, P.BD, P.REG
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
            if u[2] < BV[pr, s, Base.HNTE]:  # certified (F.starting_certificates): it met the conditions when certified
                _certified_traits(r, _I(n), _I(s), Y, pr, seed, park, key, latent, revenue, S, P)
            _history(FF, r, _I(n), REV, RD, revenue, FF[r, NF0, n] if FI[r, FirmI.RDACT, n] == 1 else 0.0, age)
            hnte, hnte_expiry, tech_sme, zjtx, zjtx_expiry = F.starting_certificates(
                u[2],
                u[3],
                u[5],
                u[6],
                BV[pr, s, Base.HNTE],
                BV[pr, s, Base.TSME],
                BV[pr, s, Base.ZJTX],
                PV[pr, Par.H_VALID],
                PV[pr, Par.Z_VALID],
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
def _first_passing(h, j0, rho, latent, SD, pr, s, col, threshold):
    """The first of the firm's normal numbers ``j0, j0 + 1, ...`` (at most 64) whose attribute value (column ``col`` of
    the sector's distributions, loading ``rho`` on the orientation ``latent``) reaches ``threshold``: a draw from the
    attribute's distribution given that it meets the condition (by rejection; the last try if none does)."""
    x = 0.0
    for j in range(64):
        x = R.ppf_z_at4(SD, pr, s, col, F.tech_score(rho, latent, R.keyed_normal_at(h, j0 + j)))
        if x >= threshold:
            break
    return x


@numba.njit(**_LEAN)
def _certified_traits(r, i, s, Y, pr, seed, park, key, latent, revenue, S, P):
    """A synthetic starting firm with a valid high-tech certificate met the conditions when it was certified: each
    attribute that fails one is drawn again from its distribution given that it meets it (R&D share and its noise so
    that last year's R&D ratio reaches its band's; S&T staff, high-tech revenue, score), and it is R&D-active, in a
    supported field and owns IP. Draws: normal numbers of the firm's root for year ``CERTIFIED_YEAR``."""
    FF, FI, SV, SD, PV = S.FF, S.FI, P.SV, P.SD, P.PV
    h = _firm_year(seed, park, key, CERTIFIED_YEAR)
    rho = SV[pr, s, Sec.RHO]
    thr = C.hnte_rd_threshold(
        revenue,
        _hnte_params(PV, pr),
    )
    if FI[r, FirmI.RDACT, i] == 0 or FF[r, NF0, i] < thr:
        sd = SV[pr, s, Sec.RD_NOISE]
        share = 0.0
        for j in range(64):
            share = R.ppf_z_at4(SD, pr, s, _I(SecDist.RD_SHARE), F.tech_score(rho, latent, R.keyed_normal_at(h, _I(1 + j))))
            if F.rd_efficiency(share, True, sd, R.keyed_normal_at(h, _I(65))) >= thr:
                break
        FI[r, FirmI.RDACT, i] = 1
        for y in range(Y):
            FF[r, NF0 + y, i] = F.rd_efficiency(share, True, sd, R.keyed_normal_at(h, _I(65 + y)))
    if FF[r, FirmF.ST, i] < PV[pr, Par.H_ST]:
        FF[r, FirmF.ST, i] = _first_passing(h, _I(200), rho, latent, SD, pr, s, _I(SecDist.ST), PV[pr, Par.H_ST])
    if FF[r, FirmF.HT, i] < PV[pr, Par.H_HT]:
        FF[r, FirmF.HT, i] = _first_passing(h, _I(300), rho, latent, SD, pr, s, _I(SecDist.HT), PV[pr, Par.H_HT])
    if FF[r, FirmF.SCORE, i] <= PV[pr, Par.H_SCORE]:
        FF[r, FirmF.SCORE, i] = _first_passing(h, _I(400), rho, latent, SD, pr, s, _I(SecDist.SCORE), PV[pr, Par.H_SCORE] + 1e-9)
    FI[r, FirmI.FIELD, i] = 1
    if FI[r, FirmI.IP1, i] == 0 and FI[r, FirmI.IP2, i] == 0:
        FI[r, FirmI.IP2, i] = 1


@numba.njit(**_LEAN)
def _history(FF, r, i, REV, RD, revenue, rd_share_last, age_months):
    for k in range(HISTORY):  # column HISTORY-1-k is year -(k+1)
        if age_months > 12.0 * k or k == 0:
            FF[r, REV + HISTORY - 1 - k, i] = revenue
            FF[r, RD + HISTORY - 1 - k, i] = revenue * rd_share_last
