"""The SimPy engine: one replication of a park as a discrete-event simulation.

Projects are SimPy processes (sign -> land -> wait for factory space or land
quota -> start production or build -> become a firm). Standard-factory floor
space and the land quota are containers served in signing order. A monthly
clock process applies the domain rules of :mod:`parksim.rules` to all firms:
growth, exits, certification rounds and the year-end indicators. The engine
only schedules; the rules decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.core import BoundClass
from simpy.resources.container import ContainerGet
from simpy.resources.resource import SortedQueue

from ._dists import ppf
from ._errors import InputError, Problem, ScenarioError
from ._firms import (
    HISTORY,
    Y_HNTE_APPLY,
    Y_HNTE_APPROVE,
    Y_HNTE_REVOKE,
    Y_HNTE_VIOLATION,
    Y_LISTING,
    Y_ZJTX_APPLY,
    Y_ZJTX_APPROVE,
    FirmTable,
    SectorTable,
)
from ._random import ARRIVALS, INSTITUTIONS, KNOWN_PROJECT, MACRO, PROJECT, REGISTER, SECTOR, SYNTHETIC_FIRM, WARM_UP, Streams, key_of
from ._realise import realise
from .rules import assessment as A
from .rules import certification as C
from .rules import firms as FR
from .rules import growth as G
from .rules import indicators as I
from .rules import levers as LV
from .rules.pipeline import (
    choose,
    dropout,
    in_the_past,
    investment,
    next_signing,
    quota_after,
    quota_lapse,
    remaining,
    stage_delay,
    starting_floor_space,
)

# project uniforms, drawn at signing in this order
(
    P_SECTOR,
    P_MODE,
    P_OUTPUT,
    P_REALISE,
    P_FLOOR,
    P_LAND,
    P_INVEST,
    P_LAND_DELAY,
    P_LAND_DROP,
    P_RENT_DELAY,
    P_BUILD_DELAY,
    P_STAGE_DROP,
    P_PATIENCE,
) = range(13)
N_PROJECT_U = 14
# starting-firm uniforms (synthetic baseline)
(B_REVENUE, B_AGE, B_HNTE, B_HNTE_EXPIRY, B_SPARE, B_ZJTX, B_ZJTX_EXPIRY, B_RENTING, B_FLOOR) = range(9)
N_BASE_U = 10

EVENT_COLUMNS = ["time", "date", "event", "entity", "sector", "mode", "value"]


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


class _SignedGet(ContainerGet):
    def __init__(self, container, amount, key):
        self.key = key
        super().__init__(container, amount)


class SigningOrderContainer(simpy.Container):
    """A container whose waiting requests are served strictly in signing order.

    The head of the queue blocks later requests (no overtaking), so projects
    start in the order they were signed whatever order they asked in.
    """

    GetQueue = SortedQueue
    get = BoundClass(_SignedGet)  # type: ignore[assignment]

    def withdraw(self, request) -> None:
        """Cancel a waiting request and let the requests behind it try again."""
        request.cancel()
        self._trigger_get(None)


@dataclass
class Counters:
    signed: int = 0
    landed: int = 0
    producing: int = 0
    dropped: int = 0
    new_hnte: int = 0
    new_zjtx: int = 0

    def reset(self):
        self.__init__()


@dataclass
class Result:
    """One replication: tidy yearly indicators and (optionally) its event log."""

    rows: list = field(default_factory=list)  # (year, indicator, value)
    events: list = field(default_factory=list)
    statuses: list = field(default_factory=list)  # (assessed year, outcome, status after it)


class ParkModel:
    """One replication of a park. Use :func:`run_replication`."""

    def __init__(self, scenario, streams: Streams, record_events: bool = False, assessment=None):
        self.scn = scn = realise(scenario, streams)
        self.streams = streams
        self.record = record_events
        self.env = simpy.Environment()
        self.H = scn.months
        self.Y = scn.simulation.years
        self.w = scn.simulation.weight
        self.start_year = scn.simulation.start_year
        self.sectors = SectorTable(scn)
        self.firms = FirmTable(self.H, self.Y, float(scn.certification.tech_sme.register_prob))
        # what the levers change and cost (rules.levers): the only place this engine reads [levers]
        self.effects = E = LV.effects(scn.levers, lambda value, path: float(value), self.H)
        self.firms.rd_exit_factor = float(E.rd_active_exit_factor)
        self.result = Result()
        self.count = Counters()
        self.investment = 0.0
        self.land_acquired_mu = 0.0
        self.waiting = 0
        self._project_seq = 0

        # yearly shocks: sector shock + regional shock, shape (sectors, years)
        macro = float(scn.shocks.macro_sd) * streams.rng(MACRO).standard_normal(self.Y)
        self.shock = (
            np.array(
                [
                    self.sectors.shock_sd[k] * streams.rng(SECTOR, key_of(n)).standard_normal(self.Y)
                    for k, n in enumerate(self.sectors.names)
                ]
            )
            + macro[None, :]
        )

        cap = scn.capacity
        self.factory_total = float(cap.factory_floor_m2) / self.w
        self._starting_firms()
        if cap.factory_occupied_m2 is not None:
            occupied = float(cap.factory_occupied_m2) / self.w
            if occupied > self.factory_total + 1e-9:
                raise occupied_error(scenario, occupied * self.w)
        else:
            occupied = float(self.firms.floor_m2[: self.firms.n].sum())
            self.factory_total = starting_floor_space(self.factory_total, occupied)
        self.factory = SigningOrderContainer(self.env, init=self.factory_total - occupied)
        self.land = SigningOrderContainer(self.env, init=0.0)
        self.land_quota = float(cap.land_quota_mu_per_year)
        self.quota_left = 0.0  # what is left of this year's land quota (in the land pool), in simulated mu
        self.inst_rng = streams.rng(INSTITUTIONS)
        self.institutions = int(scn.institutions.initial)
        self.incubation = float(scn.institutions.incubation_m2)
        self.listed_initial = int(scn.listing.initial)
        self.tech_sme_params = C.tech_sme_params(scn.certification.tech_sme)

        self.rd_multiplier = float(E.rd_multiplier)
        self.credit_bonus = float(E.rd_active_growth_bonus)
        self.applications = 0  # high-tech applications in the current year (simulated firms)
        pl = scn.pipeline
        rate = (float(pl.signings_per_month) + float(E.extra_signings_per_month)) / self.w
        self.monthly_rates = [rate * pl.monthly_profile[m % 12] for m in range(self.H)]
        self.env.process(self._arrivals())
        self._warm_up(float(pl.warm_up_months), rate, pl.monthly_profile)
        if scn._projects is not None:
            for row_no, row in enumerate(scn._projects.itertuples(index=False)):
                self.env.process(self._known_project(row_no, row))
        self.env.process(self._clock())

        # the yearly assessment is decided by rules.assessment.drive (run_parks); the park only knows the effects of
        # its status, from the initial one on (a portfolio's parks are assessed under the portfolio's assessment)
        self.assessment = assessment if assessment is not None else scn.assessment
        self.year_values: dict[int, dict[str, float]] = {}
        self.growth_bonus = 0.0
        self.quota_factor = 1.0
        self._base_rates = list(self.monthly_rates)
        if self.assessment is not None:
            self.apply_status(A.status_effects(self.assessment, self.assessment.initial_status))

    # ------------------------------------------------------------------ helpers
    def _log(self, event: str, entity: str, sector: int | None = None, mode: str = "", value: float = float("nan")) -> None:
        if self.record:
            sec = self.sectors.names[sector] if sector is not None else ""
            self.result.events.append((self.env.now, event, entity, sec, mode, value))

    def _log_each(self, event: str, rows, values=None) -> None:
        """Log ``event`` for each firm in ``rows`` (with ``values[i]`` as its value)."""
        if self.record:
            F = self.firms
            for i in rows:
                self._log(event, F.labels[i], int(F.sector[i]), value=float("nan") if values is None else float(values[i]))

    def _grant(self, kind: str, rows, t: float, validity_years: int) -> int:
        """Certify firms ``rows`` (kind "hnte" or "zjtx") until ``t + validity``; return how many are first-time."""
        F = self.firms
        on, ever, expiry = getattr(F, f"{kind}_on"), getattr(F, f"{kind}_ever"), getattr(F, f"{kind}_expiry")
        first_time = int((~ever[rows]).sum())
        on[rows] = True
        ever[rows] = True
        expiry[rows] = t + 12.0 * validity_years
        self._log_each(f"{kind}_granted", rows, expiry)
        return first_time

    # ----------------------------------------------------------- starting state
    def _starting_firms(self) -> None:
        scn, S = self.scn, self.sectors
        index = {n: k for k, n in enumerate(S.names)}
        reg = scn._register
        if reg is not None:
            for r, row in enumerate(reg.itertuples(index=False)):
                rng = self.streams.rng(REGISTER, r)
                self._add_starting(rng, index[row.sector], row._asdict(), label=str(row.firm_id))
        for name, base in scn.baseline.sectors.items():
            k = index[name]
            n_sim = int(round(base.firms / self.w))
            first = self.firms.n
            for j in range(n_sim):
                rng = self.streams.rng(SYNTHETIC_FIRM, key_of(name), j)
                self._add_starting(rng, k, None, label=f"{name}-{j}", base=base)
            if base.total_revenue is not None and n_sim:
                self._rescale(slice(first, self.firms.n), float(base.total_revenue) * I.TEN_THOUSAND / self.w)

    def _rescale(self, rows: slice, total: float) -> None:
        """Scale starting firms' revenue (level, history, R&D) so that last year's sum is ``total`` (万元)."""
        F = self.firms
        drawn = F.rev[rows, HISTORY - 1].sum()
        if drawn <= 0:
            return
        factor, log_factor = FR.calibration(total, drawn)
        F.logB[rows] += log_factor
        F.rev[rows, :HISTORY] *= factor
        F.rd[rows, :HISTORY] *= factor
        F.prev_above[rows] = C.above_size(F.rev[rows, HISTORY - 1], F.industrial[rows], self.scn.certification.above_size_revenue)

    def _add_starting(self, rng, k: int, row: dict | None, label: str, base=None) -> None:
        F = self.firms
        u = rng.random(N_BASE_U)
        if row is None:
            revenue = ppf(base.revenue, u[B_REVENUE])
            age = 12.0 * ppf(base.age_years, u[B_AGE])
            known = {}
        else:
            base = self.scn.baseline.sectors.get(self.sectors.names[k])
            revenue = float(row["revenue"])
            age = 12.0 * (row["age_years"] if row["age_years"] is not None else (ppf(base.age_years, u[B_AGE]) if base else 5.0))
            known = {
                key: row[key]
                for key in (
                    "st_staff_share",
                    "hightech_revenue_share",
                    "hightech_service_share",
                    "ip_class1",
                    "ip_class2",
                    "niche",
                    "rd_institution",
                    "listed",
                )
                if row[key] is not None
            }
            if row["employees"]:
                known["productivity"] = FR.register_productivity(revenue, row["employees"])
            if row["rd_spend"] is not None:
                known["rd_share"] = FR.register_rd_share(row["rd_spend"], revenue)
        # synthetic starting firms: the certified share are those of highest tech orientation
        latent = float(FR.starting_orientation(u[B_HNTE])) if row is None else None
        level = G.year_end_level(revenue, self.sectors.growth[k])  # last year's total -> its year-end rate
        i = F.add(rng, self.sectors, k, label=label, birth=-age, level=level, age0=age, ramp=False, known=known, latent=latent)
        # the level B is last year's revenue; starting firms have finished ramping up
        F.set_history(i, revenue, F.rd_eff[i, 0] if F.rd_active[i] else 0.0, age)
        if row is None:
            cert = self.scn.certification
            hnte, hnte_expiry, tech_sme, zjtx, zjtx_expiry = FR.starting_certificates(
                u[B_HNTE],
                u[B_HNTE_EXPIRY],
                u[B_ZJTX],
                u[B_ZJTX_EXPIRY],
                base.hnte_share,
                base.tech_sme_share,
                base.zjtx_share,
                cert.hnte.validity_years,
                cert.zjtx.validity_years,
            )
            if hnte:
                F.hnte_on[i] = F.hnte_ever[i] = True
                F.hnte_expiry[i] = hnte_expiry
            F.tech_sme[i] = tech_sme
            if zjtx:
                F.zjtx_on[i] = F.zjtx_ever[i] = True
                F.zjtx_expiry[i] = zjtx_expiry
            if u[B_RENTING] < base.renting_share:
                F.floor_m2[i] = ppf(base.floor_space_m2, u[B_FLOOR])
        else:
            if not math.isnan(row["hnte_expiry_month"]) and row["hnte_expiry_month"] > 0:
                F.hnte_on[i] = F.hnte_ever[i] = True
                F.hnte_expiry[i] = row["hnte_expiry_month"]
            F.tech_sme[i] = bool(row["tech_sme"])
            if not math.isnan(row["zjtx_expiry_month"]) and row["zjtx_expiry_month"] > 0:
                F.zjtx_on[i] = F.zjtx_ever[i] = True
                F.zjtx_expiry[i] = row["zjtx_expiry_month"]
            F.floor_m2[i] = row["floor_space_m2"] or 0.0
        F.prev_above[i] = C.above_size(revenue, F.industrial[i], self.scn.certification.above_size_revenue)
        F.prev_tech[i] = F.tech_sme[i] or F.hnte_on[i]

    # ---------------------------------------------------------------- pipeline
    def _arrivals(self):
        rng = self.streams.rng(ARRIVALS)
        t = 0.0
        while True:
            t_next = next_signing(t, rng.standard_exponential(), self.monthly_rates, self.H)
            if math.isinf(t_next):
                return
            yield self.env.timeout(t_next - self.env.now)
            t = t_next
            seq = self._project_seq
            self._project_seq += 1
            self.env.process(self._project(self.streams.rng(PROJECT, seq), f"P{seq}", t, None))

    def _warm_up(self, months: float, rate: float, profile) -> None:
        """Projects signed in the ``months`` before the start that are still in flight at the start."""
        if months <= 0:
            return
        whole = int(math.ceil(months))
        # month k of the warm-up window [-whole, 0) has calendar month (k - whole) mod 12
        rates = [rate * profile[(k - whole) % 12] if k >= whole - months else 0.0 for k in range(whole)]
        rng = self.streams.rng(ARRIVALS, WARM_UP)
        t, seq = 0.0, 0
        while not math.isinf(t := next_signing(t, rng.standard_exponential(), rates, whole)):
            self.env.process(self._project(self.streams.rng(WARM_UP, seq), f"W{seq}", t - whole, None))
            seq += 1

    def _known_project(self, row_no: int, row):
        t0 = float(row.signing_month)
        if t0 > 0:
            yield self.env.timeout(t0)
        yield from self._project(self.streams.rng(KNOWN_PROJECT, row_no), str(row.project_id), t0, row)

    def _project(self, rng, label: str, signed_at: float, row):
        scn, S = self.scn, self.sectors
        pl = scn.pipeline
        u = rng.random(N_PROJECT_U)
        if row is None:
            k = choose(u[P_SECTOR], S.signing_weight)
            rent = bool(u[P_MODE] < pl.rent_share)
            planned = ppf(pl.project.planned_output, u[P_OUTPUT])
            floor = ppf(pl.project.floor_space_m2, u[P_FLOOR])
            land = ppf(pl.project.land_mu, u[P_LAND])
            invest = ppf(pl.project.investment, u[P_INVEST])
            status = "signed"
            productivity = None
        else:
            k = S.names.index(row.sector)
            rent = row.mode == "rent"
            planned = float(row.planned_output)
            floor = float(row.floor_space_m2 or 0.0)
            land = float(row.land_mu or 0.0)
            invest = float(row.investment) if row.investment is not None else ppf(pl.project.investment, u[P_INVEST])
            status = row.status
            productivity = planned / row.jobs if row.jobs else None
        if row is None or row.investment is None:
            invest = investment(invest, rent, pl.project.rent_investment_share)
        mode = "rent" if rent else "build"
        realisation = ppf(pl.project.output_realisation, u[P_REALISE])
        elapsed = max(0.0, -signed_at)  # known projects signed before the start
        stage = pl.rent if rent else pl.build
        E = self.effects
        land_delay = stage_delay(ppf(pl.landing.delay, u[P_LAND_DELAY]), float(E.landing_delay_factor))
        later_delay = stage_delay(
            ppf(stage.delay, u[P_RENT_DELAY if rent else P_BUILD_DELAY]), float(E.rent_delay_factor if rent else E.build_delay_factor)
        )
        land_dropout = dropout(pl.landing.dropout, float(E.landing_dropout_factor))
        stage_dropout = dropout(stage.dropout, float(E.rent_dropout_factor if rent else E.build_dropout_factor))
        if row is None and signed_at < 0 and in_the_past(land_delay, later_delay, elapsed, u[P_LAND_DROP] < land_dropout):
            return  # a synthetic project signed before the start (warm-up) that the baseline stands for
        if signed_at >= 0:
            self.count.signed += 1
            self._log("signed", label, k, mode, planned)

        # landing
        if status == "signed":
            wait, elapsed = remaining(land_delay, elapsed)
            if wait > 0:
                yield self.env.timeout(wait)
            if u[P_LAND_DROP] < land_dropout:
                self.count.dropped += 1
                self._log("dropout", label, k, mode, 0)
                return
            self.count.landed += 1
            self._log("landed", label, k, mode)

        # space: standard-factory floor space or land quota, in signing order
        amount = max(floor if rent else land, 1e-9)
        store = self.factory if rent else self.land
        patience = ppf(stage.patience, u[P_PATIENCE])
        req = store.get(amount, key=(signed_at, label))
        if not req.triggered:
            self.waiting += 1
            self._log("waiting", label, k, mode, amount)
            if math.isinf(patience):
                yield req
            else:
                yield req | self.env.timeout(patience)
            self.waiting -= 1
            if not req.triggered:
                store.withdraw(req)
                self.count.dropped += 1
                self._log("gave_up", label, k, mode, amount)
                return
        else:
            yield req
        self.investment += invest
        if not rent:
            self.land_acquired_mu += land
            self.quota_left = quota_after(self.quota_left, amount)
        self._log("space_obtained", label, k, mode, amount)

        # production start (rent) or construction (build)
        wait, _ = remaining(later_delay, elapsed)
        if wait > 0:
            yield self.env.timeout(wait)
        if u[P_STAGE_DROP] < stage_dropout:
            if rent:
                yield self.factory.put(amount)
            self.count.dropped += 1
            self._log("dropout", label, k, mode, 1)
            return
        self.count.producing += 1
        F = self.firms
        i = F.add(
            rng,
            S,
            k,
            label=label,
            birth=self.env.now,
            level=planned * realisation,
            known={"productivity": productivity} if productivity else None,
        )
        if rent:
            F.floor_m2[i] = amount
        self._log("production_start", label, k, mode, planned * realisation)

    # ------------------------------------------------------------------- clock
    def _clock(self):
        self._start_of_month(0)
        for m in range(self.H):
            yield self.env.timeout(1.0)
            self._end_of_month(m)
            if m + 1 < self.H:
                self._start_of_month(m + 1)

    def _start_of_month(self, m: int) -> None:
        cap = self.scn.capacity
        year, month = self.start_year + m // 12, m % 12 + 1
        for add in cap.factory_additions:
            if add.year == year and add.month == month and add.amount > 0:
                self.factory_total += float(add.amount) / self.w
                self.factory.put(float(add.amount) / self.w)
                self._log("factory_added", "park", None, "rent", float(add.amount))
        for month_added, m2, mu in self.effects.additions:  # the levers' factories and prepared land
            if m == month_added and m2 > 0:
                self.factory_total += float(m2) / self.w
                self.factory.put(float(m2) / self.w)
                self._log("factory_added", "levers", None, "rent", float(m2))
            if m == month_added and mu > 0:
                self.land.put(float(mu) / self.w)
                self._log("land_added", "levers", None, "build", float(mu))
        for ch in cap.land_quota_changes:
            if ch.year == year and ch.month == month:
                self.land_quota = float(ch.amount)
        if month == 1:
            lapse = quota_lapse(self.land.level, self.quota_left, cap.quota_carry_over)
            if lapse > 0:
                self.land.get(lapse, key=(-math.inf, ""))
            quota = (self.land_quota + float(self.effects.extra_quota_mu_per_year)) * self.quota_factor
            self.quota_left = quota / self.w
            if quota > 0:
                self.land.put(quota / self.w)

    def _end_of_month(self, m: int) -> None:
        F, S = self.firms, self.sectors
        t = float(m + 1)
        y = m // 12
        n = F.n
        idx = np.flatnonzero(F.alive[:n])
        if len(idx):
            s = F.sector[idx]
            birth, death = F.birth[idx], F.death[idx]
            frac = G.active_fraction(t, birth, death)
            z = F.noise[idx, np.minimum(F.steps[idx], self.H - 1)]
            growth = S.growth[s] + self.growth_bonus + self.credit_bonus * F.rd_active[idx]
            F.logB[idx] += G.log_step(growth, self.shock[s, y], S.noise_sd[s], z)
            F.steps[idx] += 1
            level = np.exp(F.logB[idx]) * G.ramp(t - birth, F.ramp_months[idx], F.ramp_start[idx])
            F.level[idx] = level
            flow = level * frac / 12.0
            F.rev[idx, y + HISTORY] += flow
            F.rd[idx, y + HISTORY] += flow * F.rd_eff[idx, y] * self.rd_multiplier
            dying = idx[death <= t]
            if len(dying):
                F.alive[dying] = False
                freed = float(F.floor_m2[dying].sum())
                if freed > 0:
                    self.factory.put(freed)
                self._log_each("exit", dying)
        month = m % 12 + 1
        cert = self.scn.certification
        if month == cert.hnte.round_month:
            self._hnte_round(t, y)
        if month == cert.zjtx.round_month:
            self._zjtx_round(t, y)
        if month == cert.tech_sme.round_month:
            self._tech_sme_round(t, y)
        if month == 12:
            self._year_end(t, y)

    # ---------------------------------------------------------- certifications
    def _hnte_round(self, t: float, y: int) -> None:
        F, p = self.firms, self.scn.certification.hnte
        idx = np.flatnonzero(F.alive[: F.n])
        expired = idx[F.hnte_on[idx] & (F.hnte_expiry[idx] <= t)]
        F.hnte_on[expired] = False
        revoked = idx[F.hnte_on[idx] & (F.uy[idx, y, Y_HNTE_REVOKE] < p.revocation_prob)]
        F.hnte_on[revoked] = False
        F.hnte_expiry[revoked] = t
        cols = slice(y, y + HISTORY)  # the three fiscal years before year y
        eligible = C.hnte_eligible(
            age_months=t - F.birth[idx],
            rd_3y=F.rd[idx, cols].sum(axis=1),
            sales_3y=F.rev[idx, cols].sum(axis=1),
            latest_sales=F.rev[idx, y + HISTORY - 1],
            st_share=F.st_share[idx],
            hightech_share=F.ht_share[idx],
            score=F.score[idx],
            has_ip=F.ip1[idx] | (F.ip2[idx] > 0),
            in_field=F.in_field[idx],
            violation=F.uy[idx, y, Y_HNTE_VIOLATION] < p.violation_prob,
            p=p,
        )
        # firms whose certificate just expired re-apply at their own (higher) rate
        E = self.effects
        apply_prob = np.minimum(1.0, np.where(np.isin(idx, expired), p.reapply_prob, p.apply_prob) + float(E.hnte_apply_boost))
        approval = min(1.0, float(p.approval_prob) + float(E.hnte_approval_boost))
        applying = eligible & ~F.hnte_on[idx] & (F.uy[idx, y, Y_HNTE_APPLY] < apply_prob)
        self.applications += int(applying.sum())
        grant = idx[applying & (F.uy[idx, y, Y_HNTE_APPROVE] < approval)]
        self._log_each("hnte_expired", expired)
        self._log_each("hnte_revoked", revoked)
        self.count.new_hnte += self._grant("hnte", grant, t, p.validity_years)

    def _tech_sme_round(self, t: float, y: int) -> None:
        F, p = self.firms, self.tech_sme_params
        idx = np.flatnonzero(F.alive[: F.n])
        last = y + HISTORY - 1
        rev = F.rev[idx, last]
        ok = C.tech_sme_eligible(
            employees=F.level[idx] / F.productivity[idx],
            revenue=rev,
            st_share=F.st_share[idx],
            rd_ratio=C._ratio(F.rd[idx, last], rev),
            ip_class1=F.ip1[idx],
            ip_class2=F.ip2[idx],
            hnte_valid=F.hnte_on[idx],
            p=p,
        )
        new = ok & F.registers[idx]
        self._log_each("tech_sme_registered", idx[new & ~F.tech_sme[idx]])
        self._log_each("tech_sme_lapsed", idx[~new & F.tech_sme[idx]])
        F.tech_sme[idx] = new

    def _zjtx_round(self, t: float, y: int) -> None:
        F, p = self.firms, self.scn.certification.zjtx
        idx = np.flatnonzero(F.alive[: F.n])
        expired = idx[F.zjtx_on[idx] & (F.zjtx_expiry[idx] <= t)]
        F.zjtx_on[expired] = False
        last = y + HISTORY - 1
        ok = C.zjtx_eligible(age_months=t - F.birth[idx], niche=F.niche[idx], rd_last=F.rd[idx, last], revenue_last=F.rev[idx, last], p=p)
        grant = idx[ok & ~F.zjtx_on[idx] & (F.uy[idx, y, Y_ZJTX_APPLY] < p.apply_prob) & (F.uy[idx, y, Y_ZJTX_APPROVE] < p.approval_prob)]
        self._log_each("zjtx_expired", expired)
        self.count.new_zjtx += self._grant("zjtx", grant, t, p.validity_years)

    # ---------------------------------------------------------------- year end
    def _year_end(self, t: float, y: int) -> None:
        F, scn = self.firms, self.scn
        n = F.n
        col = y + HISTORY
        alive = F.alive[:n].copy()
        lp = scn.listing
        listing = alive & ~F.listed[:n] & (F.rev[:n, col] >= lp.min_revenue) & (F.uy[:n, y, Y_LISTING] < lp.prob)
        F.listed[:n] |= listing
        self._log_each("listed", np.flatnonzero(listing))
        inst = scn.institutions
        births = int(self.inst_rng.poisson(float(inst.new_per_year) + float(self.effects.extra_institutions_per_year)))
        closures = int(self.inst_rng.binomial(self.institutions, float(inst.closure_prob)))
        self.institutions += births - closures
        self.incubation += float(inst.incubation_added_m2_per_year)

        tech = F.tech_sme[:n] | F.hnte_on[:n]
        baseline = scn.baseline.baseline_output if (y == 0 and scn.baseline.baseline_output is not None) else None
        state = I.YearState(
            weight=self.w,
            alive=alive,
            industrial=F.industrial[:n],
            revenue=F.rev[:n, col],
            revenue_prev=F.rev[:n, col - 1],
            rd=F.rd[:n, col],
            rd_prev=F.rd[:n, col - 1],
            hightech_service_share=F.hts_share[:n],
            employees=F.level[:n] / F.productivity[:n],
            hnte_valid=F.hnte_on[:n],
            tech_based=tech,
            zjtx_valid=F.zjtx_on[:n],
            rd_active=F.rd_active[:n],
            rd_institution=F.rd_inst[:n],
            listed=F.listed[:n],
            prev_above=F.prev_above[:n],
            prev_tech=F.prev_tech[:n],
            above_size_revenue=float(scn.certification.above_size_revenue),
            new_hnte=self.count.new_hnte,
            new_zjtx=self.count.new_zjtx,
            institutions=self.institutions,
            incubation_m2=self.incubation,
            industrial_land_km2=float(scn.capacity.industrial_land_km2) + self.land_acquired_mu * self.w / 1500.0,
            factory_floor_m2=self.factory_total * self.w,
            factory_used_m2=(self.factory_total - self.factory.level) * self.w,
            land_quota_left_mu=self.land.level * self.w,
            projects_signed=self.count.signed,
            projects_landed=self.count.landed,
            projects_producing=self.count.producing,
            projects_dropped=self.count.dropped,
            projects_waiting=self.waiting,
            investment_cum=self.investment * self.w / I.TEN_THOUSAND,
            hnte_applications=self.applications * self.w,
            baseline_output=baseline,
            listed_initial=self.listed_initial,
        )
        values = {name: float(v) for name, v in I.from_record(LV.price_record(I.record(state), self.effects, y)).items()}
        self.year_values[y] = values
        year = self.start_year + y
        self.result.rows.extend((year, name, float(v)) for name, v in values.items())
        F.prev_above[:n] = C.above_size(F.rev[:n, col], F.industrial[:n], scn.certification.above_size_revenue)
        F.prev_tech[:n] = tech & alive
        self.count.reset()
        self.applications = 0

    # -------------------------------------------------------------- assessment
    def apply_status(self, effects: A.StatusEffects) -> None:
        """The effects of the park's (new) status act from now on: signings from this month, the land quota
        from the next year start, growth from this month's end."""
        self.quota_factor = effects.land_quota_factor
        self.growth_bonus = effects.growth_bonus
        for m in range(int(self.env.now), self.H):  # (the pending gap keeps its rate)
            self.monthly_rates[m] = self._base_rates[m] * effects.signing_factor

    def run(self) -> Result:
        """Run this park alone over the horizon, assessed under its assessment."""
        run_parks([self], self.assessment)
        return self.result

    def record_status(self, year: int, outcome: int, status: str) -> None:
        self.result.statuses.append((year, A.OUTCOME_NAMES[outcome], status))
        self._log("assessed", "park", None, A.OUTCOME_NAMES[outcome] + " -> " + status, float(year))


def run_parks(parks: list[ParkModel], assessment) -> None:
    """Run SimPy parks side by side over the horizon, assessed each year by the shared driver (rules.assessment.drive)."""
    H, Y, first = parks[0].H, parks[0].Y, parks[0].start_year

    def advance(m: int) -> None:
        for park in parks:
            park.env.run(until=float(m) + 1e-9)

    def record(y: int, p: int, outcomes, statuses) -> None:
        parks[p].record_status(first + y, int(outcomes[0]), assessment.statuses[int(statuses[0])])

    A.drive(
        assessment,
        len(parks),
        1,
        H,
        Y,
        advance=advance,
        indicators=lambda y: [{k: np.array([v]) for k, v in park.year_values[y].items()} for park in parks],
        apply=lambda p, r, effects: parks[p].apply_status(effects),
        record=record,
    )


class PortfolioModel:
    """Several parks of one region in one replication, advanced in lockstep and assessed together.

    Each park is a :class:`ParkModel` with its own projects and firms (streams
    keyed by the park) but the region's shared draws: uncertain parameters,
    sector shocks and the regional shock. At each decision month every park is
    run up to it, the portfolio's assessment (rank rules included) decides each
    park's outcome, and each park's new status acts on it from then on.
    """

    def __init__(self, scenario, streams: Streams, record_events: bool = False):
        self.scn = realise(scenario, streams)
        self.names = [name for name, _ in scenario._members]
        self.parks = [
            ParkModel(member, Streams(streams.seed, streams.replication, park=key_of(name)), record_events, self.scn.assessment)
            for name, member in scenario._members
        ]

    def run(self) -> list[tuple[str, Result]]:
        run_parks(self.parks, self.scn.assessment)
        return [(name, park.result) for name, park in zip(self.names, self.parks, strict=True)]


def run_replication(scenario, seed: int, replication: int = 0, *, record_events: bool = False) -> Result:
    """Simulate replication ``replication`` of ``scenario`` for ``seed`` with the SimPy engine."""
    if scenario.portfolio is not None:
        raise InputError(
            f"{scenario._source}: portfolio: `simulate` and `trace` show one park; for a portfolio of parks use"
            " `parksim run` (or run a park alone: drop [portfolio] and apply its overrides with --set)"
        )
    return ParkModel(scenario, Streams(seed, replication), record_events).run()
