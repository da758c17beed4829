"""The fast engine's scheduler: projects on an event heap, factory space and land served in signing order, the month loop.

This is what differs from the SimPy engine's processes and containers; the firms' procedures are
:mod:`parksim.model`'s.

Functions called once a month or less take the block's :class:`~parksim.model.layout.State` and the
:class:`~parksim.model.layout.Plan` as two named bundles. Those called per event or per project
(:func:`_project_event`, :func:`_new_project`, :func:`_start_project`, and the model's ``_new_firm``) take
their arrays one by one: with the bundles they cost about 15% of the engine's speed (bench, one thread,
interleaved: 694-727 replications/s against 846-854 with arrays), as a bundle passed to a function that is
not inlined is copied on every call.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from parksim.model import fastrand as R
from parksim.model.firms import _key, _new_firm, _stream
from parksim.model.jit import _ENTRY, _I, _JIT, _LEAN
from parksim.model.layout import ERR_OVERFLOW, FirmF, Known, Month, Par, ProjDist, ProjF, ProjI, RepF, RepI, Root, Sec, Stage
from parksim.model.park import _firms_month_end, _init_park
from parksim.model.random import ARRIVALS, KNOWN_PROJECT, PROJECT, WARM_UP
from parksim.rules.pipeline import (
    choose,
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
        # its promise falls due this year or the next (counted where it falls due: rules.pipeline.promise_slot)
        due = promise_deadline(signed_at, rent, PV[pr, Par.PROM_RENT], PV[pr, Par.PROM_BUILD])
        RI[r, RepI.DUE_NEXT if promise_slot(t, due) else RepI.DUE] += 1
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
    PF[r, ProjF.LANDT, j] = signed_at  # (a project already landed at the start: landed when signed)
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
            PF[r, ProjF.LANDT, j] = t
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
        signed_at = PF[r, ProjF.SIGN, j]
        if signed_at >= 0:
            due = promise_deadline(signed_at, rent, PV[pr, Par.PROM_RENT], PV[pr, Par.PROM_BUILD])
            if promise_kept(signed_at, PF[r, ProjF.LANDT, j], t, due, PV[pr, Par.PROM_LAND]):
                RI[r, RepI.KEPT_NEXT if promise_slot(t, due) else RepI.KEPT] += 1
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
def _end_of_month(r, m, pr, Y, seed, park, S, P):
    """The month end: the firms' (:func:`_firms_month_end`), then the waiting projects get the space exits freed."""
    PF, PI, QF, RS, RI, AL = S.PF, S.PI, S.QF, S.RS, S.RI, S.AL
    freed = _firms_month_end(r, m, pr, Y, seed, park, S, P)
    if freed > 0:
        _serve(r, _I(1), float(m + 1), QF, PF, PI, RS, RI, AL)


@numba.njit(**_LEAN)
def _events(r, m, H, Y, seed, park, S, P):
    """Process the signings and project events falling in month m, in time order."""
    FF, FI, FR, PF, PI, PR, AL, QF, QL, RS, RI, RR, RATE = S.FF, S.FI, S.FR, S.PF, S.PI, S.PR, S.AL, S.QF, S.QL, S.RS, S.RI, S.RR, S.RATE
    PV, PD, SV, SD, KP = P.PV, P.PD, P.SV, P.SD, P.KP
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
def _init_rep(r, H, Y, seed, park, S, P):
    PF, PI, PR, AL, QF, QL, RS, RI, RR, RATE = S.PF, S.PI, S.PR, S.AL, S.QF, S.QL, S.RS, S.RI, S.RR, S.RATE
    PV, PD, SV, MV, WR, KP = P.PV, P.PD, P.SV, P.MV, P.WR, P.KP
    pr = 0 if PV.shape[0] == 1 else r
    if not _init_park(r, pr, Y, seed, park, S, P):
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
def _advance(r0, r1, m0, m1, H, Y, seed, REPS, park, S, P):
    """Advance replications r0..r1-1 of the block over months m0..m1-1 (month m0 == 0: initialise first)."""
    PF, PI, AL, QF, QL, RS, RI = S.PF, S.PI, S.AL, S.QF, S.QL, S.RS, S.RI
    PV, MV = P.PV, P.MV
    for r in range(r0, r1):
        pr = 0 if PV.shape[0] == 1 else r
        sk = np.empty(2, np.uint64)
        sk[0] = seed
        sk[1] = REPS[r]
        if m0 == 0:
            _init_rep(r, H, Y, sk, park, S, P)
        for m in range(m0, m1):
            if RI[r, RepI.ERROR] != 0:
                break
            # the month's events, its end, and the start of the next month (in this function, not one of its own:
            # every compiled function re-optimises all it calls, and this one would be the whole month again)
            _events(r, m, H, Y, sk, park, S, P)
            _end_of_month(r, m, pr, Y, sk, park, S, P)
            if m + 1 < H:
                _start_of_month(r, _I(m + 1), pr, PF, PI, QF, QL, RS, RI, PV, MV, AL)
