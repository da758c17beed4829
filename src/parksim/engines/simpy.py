"""The SimPy engine: one replication of a park as a discrete-event simulation.

Projects are SimPy processes (sign -> land -> wait for factory space or land
quota -> start production or build -> become a firm). Standard-factory floor
space and the land quota are containers served in signing order. A monthly
clock process runs the month's end; the yearly assessment is the shared driver
(:func:`parksim.rules.assessment.drive`).

The firms are the model's shared procedures, the ones the fast engine runs
(:mod:`parksim.model`: the starting firms, a project's firm, the firms'
month end with growth, exits, the certification rounds and the year end), over
the same state layout for one replication. This engine differs from the fast
one in scheduling and storage only: projects are SimPy processes with
containers instead of records on an event heap, and its projects draw from
NumPy streams of their own. So the two engines agree in distribution, not draw
by draw (``tests/test_engine_agreement.py``), and every procedure of the model
is written once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.core import BoundClass
from simpy.resources.container import ContainerGet
from simpy.resources.resource import SortedQueue

from parksim.engines.fast.plan import _capacity, plan
from parksim.engines.fast.pool import _state_shapes
from parksim.errors import InputError
from parksim.model.layout import ERR_OCCUPIED, Base, FirmF, FirmI, Plan, RepF, RepI, State
from parksim.model.park import firm_from_project, firms_month_end, occupied_error, park_start
from parksim.model.random import ARRIVALS, KNOWN_PROJECT, PROJECT, WARM_UP, Streams, key_of
from parksim.model.realise import realise
from parksim.rules import assessment as A
from parksim.rules import indicators as I
from parksim.rules import levers as LV
from parksim.rules.pipeline import (
    choose,
    dropout,
    in_the_past,
    investment,
    next_signing,
    promise_deadline,
    promise_kept,
    promise_slot,
    quota_after,
    quota_lapse,
    remaining,
    stage_delay,
)
from parksim.scenario.dists import ppf

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

EVENT_COLUMNS = ["time", "date", "event", "entity", "sector", "mode", "value"]


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
class Result:
    """One replication: tidy yearly indicators and (optionally) its event log."""

    rows: list = field(default_factory=list)  # (year, indicator, value)
    events: list = field(default_factory=list)
    statuses: list = field(default_factory=list)  # (assessed year, outcome, status after it)


class FirmColumns:
    """Named views of a park's firm table (rows ``0 .. n - 1``), e.g. ``model.firms.logB[: model.firms.n]``."""

    FLOAT = {
        "birth": FirmF.BIRTH,
        "death": FirmF.DEATH,
        "logB": FirmF.LOGB,
        "productivity": FirmF.PROD,
        "st_share": FirmF.ST,
        "ht_share": FirmF.HT,
        "hts_share": FirmF.HTS,
        "score": FirmF.SCORE,
        "hnte_expiry": FirmF.HEXP,
        "zjtx_expiry": FirmF.ZEXP,
        "floor_m2": FirmF.FLOOR,
    }
    INT = {
        "sector": FirmI.SECTOR,
        "industrial": FirmI.IND,
        "alive": FirmI.ALIVE,
        "rd_active": FirmI.RDACT,
        "rd_inst": FirmI.RDINST,
        "hnte_on": FirmI.HON,
        "tech_sme": FirmI.TSME,
        "zjtx_on": FirmI.ZON,
        "listed": FirmI.LISTED,
    }

    def __init__(self, model: ParkModel):
        self._model = model

    @property
    def n(self) -> int:
        return int(self._model.RI[0, RepI.FIRMS])

    def __getattr__(self, name: str) -> np.ndarray:
        m = self.__dict__["_model"]
        if name in FirmColumns.FLOAT:
            return m.FF[0, FirmColumns.FLOAT[name]]
        if name in FirmColumns.INT:
            return m.FI[0, FirmColumns.INT[name]]
        raise AttributeError(name)


#: the one-replication state the shared procedures work on (the fast engine's block arrays, B = 1)


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
        self.names = list(scn.sectors)
        self.signing_weight = np.array([float(scn.sectors[n].signing_weight) for n in self.names])
        self.result = Result()
        self.waiting = 0
        self._project_seq = 0
        # a portfolio's parks are assessed under the portfolio's assessment (decided by rules.assessment.drive)
        self.assessment = assessment if assessment is not None else scn.assessment
        # what the levers change and cost (rules.levers): the only place this engine reads [levers]
        self.effects = E = LV.effects(scn.levers, lambda value, path: float(value), self.H)

        # the firms: the shared procedures' state and parameters for this replication
        self.park = 0 if streams.park is None else int(streams.park)
        self.seed2 = np.array([streams.seed, streams.replication], dtype=np.uint64)
        self.P = P = plan(scenario, streams.seed, [streams.slot], streams.park, self.assessment)
        cap, _ = _capacity(P)
        # (the project arrays are the fast engine's scheduling: one project's room here, never used)
        shapes = _state_shapes(1, cap, 1, self.Y, self.H, len(self.names))
        for name in State._fields:
            setattr(self, name, np.zeros(*shapes[name]))
        self.REC.fill(np.nan)
        self.plan_bundle = Plan(*(P[k] for k in Plan._fields))
        self._state_bundle = None
        if not park_start(self.seed2, self.park, self.Y, self._state(), self.plan_bundle):
            if self.RI[0, RepI.ERROR] == ERR_OCCUPIED:
                raise occupied_error(scenario, float(self.RS[0, RepF.FLEVEL]))
            raise RuntimeError("the starting firms do not fit the firm table")  # (its room is the starting firms' count)
        self.labels = self._starting_labels()
        self.firms = FirmColumns(self)

        self.factory_total = float(self.RS[0, RepF.FTOTAL])
        self.factory = SigningOrderContainer(self.env, init=float(self.RS[0, RepF.FLEVEL]))
        self.land = SigningOrderContainer(self.env, init=0.0)
        self.land_quota = float(scn.capacity.land_quota_mu_per_year)
        self.quota_left = 0.0  # what is left of this year's land quota (in the land pool), in simulated mu
        self.quota_factor = float(self.RS[0, RepF.QFACTOR])
        self.year_values: dict[int, dict[str, float]] = {}

        pl = scn.pipeline
        rate = (float(pl.signings_per_month) + float(E.extra_signings_per_month)) / self.w
        self.monthly_rates = [rate * pl.monthly_profile[m % 12] for m in range(self.H)]
        self._base_rates = list(self.monthly_rates)
        if self.assessment is not None:  # the initial status's effects act from the start
            self.apply_status(A.status_effects(self.assessment, self.assessment.initial_status))
        self.env.process(self._arrivals())
        self._warm_up(float(pl.warm_up_months), rate, pl.monthly_profile)
        if scn._projects is not None:
            for row_no, row in enumerate(scn._projects.itertuples(index=False)):
                self.env.process(self._known_project(row_no, row))
        self.env.process(self._clock())

    @property
    def shock(self) -> np.ndarray:
        """The yearly shocks of each sector (sector + regional), shape (sectors, years)."""
        return self.SH[0, :, : self.Y]

    # ------------------------------------------------------------------ helpers
    def _state(self) -> State:
        """The shared procedures' state of this replication (rebuilt when the firm table grows)."""
        if self._state_bundle is None or self._state_bundle.FF is not self.FF:
            self._state_bundle = State(*(getattr(self, k) for k in State._fields))
        return self._state_bundle

    def _starting_labels(self) -> list[str]:
        """Names of the starting firms, in the order the shared procedure creates them (register, then each sector)."""
        reg = self.scn._register
        labels = [] if reg is None else [str(x) for x in reg["firm_id"]]
        for k, name in enumerate(self.names):
            labels += [f"{name}-{j}" for j in range(int(self.P["BV"][0, k, Base.N]))]
        return labels

    def _log(self, event: str, entity: str, sector: int | None = None, mode: str = "", value: float = float("nan")) -> None:
        if self.record:
            sec = self.names[sector] if sector is not None else ""
            self.result.events.append((self.env.now, event, entity, sec, mode, value))

    def _log_each(self, event: str, rows, values=None) -> None:
        """Log ``event`` for each firm in ``rows`` (with ``values[i]`` as its value)."""
        sectors = self.FI[0, FirmI.SECTOR]
        for i in rows:
            self._log(event, self.labels[i], int(sectors[i]), value=float("nan") if values is None else float(values[i]))

    def _new_firm(self, key: tuple[int, int], sector: int, level: float, productivity: float, label: str) -> int:
        """The firm a project becomes at production start (the shared procedure; the table grows when full)."""
        while True:
            i = firm_from_project(
                key[0],
                key[1],
                sector,
                float(self.env.now),
                level,
                productivity,
                self.Y,
                self.seed2,
                self.park,
                self._state(),
                self.plan_bundle,
            )
            if i >= 0:
                self.labels.append(label)
                return i
            for name, axis in (("FF", 2), ("FI", 2), ("FR", 1)):  # twice the room, the firms kept
                a = getattr(self, name)
                setattr(self, name, np.concatenate([a, np.zeros_like(a)], axis=axis))

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
            self.env.process(self._project(self.streams.rng(PROJECT, seq), (PROJECT, seq), f"P{seq}", t, None))

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
            self.env.process(self._project(self.streams.rng(WARM_UP, seq), (WARM_UP, seq), f"W{seq}", t - whole, None))
            seq += 1

    def _known_project(self, row_no: int, row):
        t0 = float(row.signing_month)
        if t0 > 0:
            yield self.env.timeout(t0)
        yield from self._project(self.streams.rng(KNOWN_PROJECT, row_no), (KNOWN_PROJECT, row_no), str(row.project_id), t0, row)

    def _project(self, rng, key: tuple[int, int], label: str, signed_at: float, row):
        scn = self.scn
        pl = scn.pipeline
        u = rng.random(N_PROJECT_U)
        if row is None:
            k = choose(u[P_SECTOR], self.signing_weight)
            rent = bool(u[P_MODE] < pl.rent_share)
            planned = ppf(pl.project.planned_output, u[P_OUTPUT])
            floor = ppf(pl.project.floor_space_m2, u[P_FLOOR])
            land = ppf(pl.project.land_mu, u[P_LAND])
            invest = ppf(pl.project.investment, u[P_INVEST])
            status = "signed"
            productivity = None
        else:
            k = self.names.index(row.sector)
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
        promise = pl.promise
        due = promise_deadline(signed_at, rent, float(promise.rent_months), float(promise.build_months))
        if signed_at >= 0:
            self.RI[0, RepI.SIGNED] += 1
            # its promise falls due this year or the next (counted where it falls due: rules.pipeline.promise_slot)
            self.RI[0, RepI.DUE_NEXT if promise_slot(signed_at, due) else RepI.DUE] += 1
            self._log("signed", label, k, mode, planned)
        landed_at = signed_at  # (a project already landed at the start: landed when signed)

        # landing
        if status == "signed":
            wait, elapsed = remaining(land_delay, elapsed)
            if wait > 0:
                yield self.env.timeout(wait)
            if u[P_LAND_DROP] < land_dropout:
                self.RI[0, RepI.DROPPED] += 1
                self._log("dropout", label, k, mode, 0)
                return
            self.RI[0, RepI.LANDED] += 1
            landed_at = self.env.now
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
                self.RI[0, RepI.DROPPED] += 1
                self._log("gave_up", label, k, mode, amount)
                return
        else:
            yield req
        self.RS[0, RepF.INVEST] += invest
        if not rent:
            self.RS[0, RepF.LANDACQ] += land
            self.quota_left = quota_after(self.quota_left, amount)
        self._log("space_obtained", label, k, mode, amount)

        # production start (rent) or construction (build)
        wait, _ = remaining(later_delay, elapsed)
        if wait > 0:
            yield self.env.timeout(wait)
        if u[P_STAGE_DROP] < stage_dropout:
            if rent:
                yield self.factory.put(amount)
            self.RI[0, RepI.DROPPED] += 1
            self._log("dropout", label, k, mode, 1)
            return
        self.RI[0, RepI.PRODUCING] += 1
        now = self.env.now
        if signed_at >= 0 and promise_kept(signed_at, landed_at, now, due, float(promise.landing_months)):
            self.RI[0, RepI.KEPT_NEXT if promise_slot(now, due) else RepI.KEPT] += 1
        i = self._new_firm(key, k, planned * realisation, math.nan if productivity is None else productivity, label)
        if rent:
            self.FF[0, FirmF.FLOOR, i] = amount
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
        """The firms' month end (the shared procedure), on this engine's pipeline state at that moment."""
        RS, RI = self.RS, self.RI
        RS[0, RepF.FTOTAL] = self.factory_total
        RS[0, RepF.FLEVEL] = self.factory.level
        RS[0, RepF.LLEVEL] = self.land.level
        RI[0, RepI.WAITING] = self.waiting
        before = self._certificates() if self.record else None
        freed = firms_month_end(m, self.Y, self.seed2, self.park, self._state(), self.plan_bundle)
        if before is not None:
            self._log_changes(before, float(m + 1))
        if freed > 0:  # vacant at once (the year end saw it so); waiting projects get it once this month end is done
            self.factory.put(freed)
        if m % 12 == 11:
            y = m // 12
            rec = LV.price_record(self.REC[0, y].copy(), self.effects, y)
            values = {name: float(v) for name, v in I.from_record(rec).items()}
            self.year_values[y] = values
            self.result.rows.extend((self.start_year + y, name, v) for name, v in values.items())

    # ------------------------------------------------------------- event log
    def _certificates(self):
        n = int(self.RI[0, RepI.FIRMS])
        ints = self.FI[0, [FirmI.ALIVE, FirmI.HON, FirmI.TSME, FirmI.ZON, FirmI.LISTED], :n].copy()
        return ints, self.FF[0, [FirmF.HEXP, FirmF.ZEXP], :n].copy()

    def _log_changes(self, before, t: float) -> None:
        """Log what the month end did to each firm (exits, certificates, listings), from the state before and after."""
        (alive, hnte, tech, zjtx, listed), (hexp, zexp) = before
        n = len(alive)
        FI, FF = self.FI[0, :, :n], self.FF[0, :, :n]
        now = {k: FI[k] == 1 for k in (FirmI.ALIVE, FirmI.HON, FirmI.TSME, FirmI.ZON, FirmI.LISTED)}
        was = [x == 1 for x in (alive, hnte, tech, zjtx, listed)]
        self._log_each("exit", np.flatnonzero(was[0] & ~now[FirmI.ALIVE]))
        expired = was[1] & (hexp <= t)
        self._log_each("hnte_expired", np.flatnonzero(expired))
        self._log_each("hnte_revoked", np.flatnonzero(was[1] & ~expired & ~now[FirmI.HON]))
        granted = now[FirmI.HON] & (FF[FirmF.HEXP] != hexp)
        self._log_each("hnte_granted", np.flatnonzero(granted), FF[FirmF.HEXP])
        self._log_each("zjtx_expired", np.flatnonzero(was[3] & (zexp <= t)))
        self._log_each("zjtx_granted", np.flatnonzero(now[FirmI.ZON] & (FF[FirmF.ZEXP] != zexp)), FF[FirmF.ZEXP])
        self._log_each("tech_sme_registered", np.flatnonzero(now[FirmI.TSME] & ~was[2]))
        self._log_each("tech_sme_lapsed", np.flatnonzero(was[2] & ~now[FirmI.TSME]))
        self._log_each("listed", np.flatnonzero(now[FirmI.LISTED] & ~was[4]))

    # -------------------------------------------------------------- assessment
    def apply_status(self, effects: A.StatusEffects) -> None:
        """The effects of the park's (new) status act from now on: signings from this month, the land quota
        from the next year start, growth from this month's end."""
        self.quota_factor = effects.land_quota_factor
        self.RS[0, RepF.GBONUS] = effects.growth_bonus
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
    """Run SimPy parks side by side over the horizon, assessed each year by the shared driver (rules.assessment.drive);
    a park created without the assessment (a portfolio park with ``assessed = false``) is not assessed."""
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
        assessed=[park.assessment is not None for park in parks],
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
            ParkModel(member, Streams(streams.seed, streams.slot, park=key_of(name), given=streams.given), record_events, assessment)
            for (name, member), assessment in zip(scenario._members, A.assessments(self.scn), strict=True)
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
    return ParkModel(scenario, Streams(seed, replication, given=scenario._given), record_events).run()
