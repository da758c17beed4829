"""The plan: a scenario's parameters as arrays with one row per replication (uncertain ones drawn per replication)."""

from __future__ import annotations

import functools
import math

import numpy as np

from parksim.model import fastrand as R
from parksim.model.layout import NB, NBD, ND, NG, NK, NM, NS, NSD, NV, Base, BaseDist, Known, Month, Par, Reg, Sec, SecDist
from parksim.model.random import key_of
from parksim.rules import assessment as A
from parksim.rules import certification as C
from parksim.rules import firms as F
from parksim.rules import growth as G
from parksim.rules import indicators as I
from parksim.rules import levers as LV
from parksim.rules.pipeline import (
    dropout,
)


class _Values:
    """Scenario values for a block of replications: numbers, or per-replication arrays for uncertain ones.

    An uncertain parameter (a distribution given for a parameter) is drawn for
    each replication exactly as :func:`parksim.model.realise.realise` draws it, from
    the same keyed stream, so both engines see the same parameter values.
    """

    def __init__(self, seed: int, reps, park: int | None, scn=None):
        self.seed = seed
        self.reps = [int(r) for r in reps]
        self.park = park
        self.B = len(self.reps)
        self._cache: dict[str, np.ndarray] = {}
        self._uniforms: dict[int, np.ndarray] = {}
        self.given = scn._given if scn is not None else None  # parameters given, not drawn (model.random.GivenUniforms)
        if scn is not None:  # every uncertain parameter's uniforms at once (model.random.param_uniforms_many)
            from parksim.model.random import key_of, param_uniforms_many
            from parksim.model.realise import uncertain_parameters

            if scn._uncertain is None:
                scn._uncertain = tuple(key_of(p) for p in uncertain_parameters(scn))
            self._uniforms = param_uniforms_many(seed, self.reps, scn._uncertain, self.given)

    @functools.cached_property
    def streams(self) -> list:
        """Each replication's streams, made when a parameter with uncertain parameters of its own needs them."""
        from parksim.model.random import Streams

        return [Streams(self.seed, r, self.park, self.given) for r in self.reps]

    def num(self, value, path: str):
        from parksim.model.random import key_of, param_uniforms
        from parksim.model.realise import _draw, _realise_spec, has_uncertain_parameters
        from parksim.scenario.dists import Uniform, _Spec

        if not isinstance(value, _Spec):
            return float(value)
        if path not in self._cache:
            if has_uncertain_parameters(value):
                self._cache[path] = np.array([_draw(_realise_spec(value, path, st), path, st) for st in self.streams])
            else:  # the uniforms _draw would take, for all replications at once
                key = key_of(path)
                u = self._uniforms[key] if key in self._uniforms else param_uniforms(self.seed, self.reps, key, self.given)
                if isinstance(value, Uniform):  # elementwise the same arithmetic as one number at a time
                    self._cache[path] = np.asarray(value.ppf(np.asarray(u, dtype=float)), dtype=float)
                else:
                    self._cache[path] = np.array([float(value.ppf(x)) for x in u.tolist()])
        return self._cache[path]

    def code(self, value, path: str) -> np.ndarray:
        """(B, R.CODE) codes of an entity distribution (its own uncertain parameters drawn per replication)."""
        from parksim.model.realise import _realise_spec, has_uncertain_parameters

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
    v = _Values(seed, reps, park, scn)
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
    registry = cert.tech_based == "chongqing_registry"  # the definition of a tech-based firm (rules.certification)
    cq = cert.chongqing_registry
    if registry:
        put(Par.REG_PROB, cq.register_prob, "certification.chongqing_registry.register_prob")
    else:
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
    put(Par.PROM_LAND, pl.promise.landing_months, "pipeline.promise.landing_months")
    put(Par.PROM_RENT, pl.promise.rent_months, "pipeline.promise.rent_months")
    put(Par.PROM_BUILD, pl.promise.build_months, "pipeline.promise.build_months")
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
        (Par.H_RENEW, "renewal_approval_prob"),
        (Par.POOL_SCORE, "pool_score_margin"),
        (Par.POOL_RD, "pool_rd_share"),
        (Par.POOL_ENTRY, "pool_entry_prob"),
        (Par.POOL_APPLY, "pool_apply_prob"),
        (Par.POOL_APPROVE, "pool_approval_boost"),
        (Par.POOL_GAIN, "pool_score_gain"),
    ):
        put(k, getattr(h, name), f"certification.hnte.{name}")
    PV[:, Par.POOL_ENTRY] = np.minimum(1.0, PV[:, Par.POOL_ENTRY] + E.hnte_pool_entry_boost)
    tr = scn.traits
    for k, name in (
        (Par.SCORE_GAIN, "score_gain"),
        (Par.RD_GROWTH, "rd_share_growth"),
        (Par.HT_GAIN, "hightech_share_gain"),
        (Par.RD_ADOPT, "rd_adoption_rate"),
        (Par.INST_ADOPT, "rd_institution_adoption_rate"),
        (Par.SMALL_ADOPT, "small_firm_factor"),
    ):
        put(k, getattr(tr, name), f"traits.{name}")
    PV[:, Par.ADOPT_FACTOR] = E.rd_adoption_factor
    PV[:, Par.H_VALID] = h.validity_years
    PV[:, Par.H_MONTH] = h.round_month
    t = cert.tech_sme
    for k, name in (
        (Par.T_STAFF, "max_staff"),
        (Par.T_REVENUE, "max_revenue"),
        (Par.T_PASS, "pass_score"),
        (Par.T_IP1, "ip_class1_points"),
    ):
        put(k, getattr(t, name), f"certification.tech_sme.{name}")
    PV[:, Par.T_HNTE] = 1.0 if (cq.hnte_qualifies if registry else t.hnte_qualifies) else 0.0
    PV[:, Par.T_MONTH] = cq.round_month if registry else t.round_month
    PV[:, Par.T_KIND] = 1.0 if registry else 0.0
    put(Par.C_ST, cq.min_st_staff_share, "certification.chongqing_registry.min_st_staff_share")
    put(Par.C_SENIOR, cq.senior_st_staff, "certification.chongqing_registry.senior_st_staff")
    PV[:, Par.C_RDACT] = 1.0 if cq.requires_rd_activity else 0.0
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
            (Sec.VA, "value_added_ratio"),
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
        BV[:, k, Base.TOTAL] = (
            np.nan if base.total_revenue is None else v.num(base.total_revenue, f"{p}.total_revenue") * I.TEN_THOUSAND / w
        )
        for col, attr in (
            (Base.HNTE, "hnte_share"),
            (Base.TSME, "tech_sme_share"),
            (Base.ZJTX, "zjtx_share"),
            (Base.RENT, "renting_share"),
        ):
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
