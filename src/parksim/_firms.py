"""The firm table: one row per enterprise ever simulated, as growable NumPy columns.

Creating a firm draws all its random numbers at once, in a fixed order, from the
firm's own stream, so that the same firm has the same attributes, noise and
yearly decisions in every scenario it appears in (common random numbers).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from ._dists import ppf
from .rules import firms as FR
from .rules import growth as G
from .rules.pipeline import poisson_ppf

# attribute uniforms drawn at birth, in this order
(A_PROD, A_RD_ACTIVE, A_RD_SHARE, A_ST, A_HT, A_HTS, A_SCORE, A_IP1, A_IP2, A_FIELD, A_NICHE, A_RDINST, A_REGISTERS, A_LATENT) = range(14)
N_ATTR = 15
#: attributes that load on a firm's latent tech orientation (Gaussian copula)
TECH_ATTRS = np.array([A_RD_ACTIVE, A_RD_SHARE, A_ST, A_HT, A_SCORE, A_IP1, A_IP2, A_FIELD, A_NICHE, A_RDINST, A_REGISTERS])
#: the tech attributes that are quantities (the others are yes/no: rules.firms.present)
TECH_QUANTITIES = np.array([A_RD_SHARE, A_ST, A_HT, A_SCORE, A_IP2])
# yearly decision uniforms
(Y_HNTE_APPLY, Y_HNTE_APPROVE, Y_HNTE_VIOLATION, Y_HNTE_REVOKE, Y_ZJTX_APPLY, Y_ZJTX_APPROVE, Y_LISTING) = range(7)
N_YEARLY = 8
HISTORY = 3  # fiscal years kept before the start (for the 3-year R&D ratio)


class SectorTable:
    """Realised sector parameters as arrays indexed by sector number."""

    def __init__(self, scn):
        self.names = list(scn.sectors)
        secs = [scn.sectors[n] for n in self.names]
        f = lambda attr: np.array([float(getattr(s, attr)) for s in secs])  # noqa: E731
        self.industrial = np.array([s.industrial for s in secs], dtype=bool)
        self.growth = f("growth")
        self.shock_sd = f("shock_sd")
        self.noise_sd = f("firm_noise_sd")
        self.h_young = G.monthly_hazard(f("exit_rate_young"))
        self.h_mature = G.monthly_hazard(f("exit_rate_mature"))
        self.young_months = 12.0 * f("young_years")
        self.ramp_months = f("ramp_up_months")
        self.ramp_start = f("ramp_start")
        self.rd_noise_sd = f("rd_noise_sd")
        self.signing_weight = f("signing_weight")
        self.tech_correlation = f("tech_correlation")
        # yes/no attributes as normal quantiles of their probabilities (rules.firms.present)
        self.rd_active_z = FR.threshold(f("rd_active"))
        self.ip_class1_z = FR.threshold(f("ip_class1"))
        self.hnte_field_z = FR.threshold(f("hnte_field"))
        self.niche_z = FR.threshold(f("niche"))
        self.rd_institution_z = FR.threshold(f("rd_institution"))
        self.spec = secs


class FirmTable:
    """Growable struct-of-arrays of firms."""

    SCALARS = {
        "sector": np.int32,
        "industrial": bool,
        "alive": bool,
        "birth": float,
        "death": float,
        "logB": float,
        "level": float,
        "steps": np.int32,
        "ramp_months": float,
        "ramp_start": float,
        "productivity": float,
        "rd_active": bool,
        "st_share": float,
        "ht_share": float,
        "hts_share": float,
        "score": float,
        "ip1": bool,
        "ip2": np.int32,
        "in_field": bool,
        "niche": bool,
        "rd_inst": bool,
        "registers": bool,
        "hnte_on": bool,
        "hnte_expiry": float,
        "hnte_ever": bool,
        "tech_sme": bool,
        "zjtx_on": bool,
        "zjtx_expiry": float,
        "zjtx_ever": bool,
        "listed": bool,
        "floor_m2": float,
        "prev_above": bool,
        "prev_tech": bool,
    }

    def __init__(self, months: int, years: int, register_prob: float, capacity: int = 256):
        self.months = months
        self.years = years
        self.register_prob = register_prob  # a firm's lasting propensity to register as a tech-based SME
        self.register_z = float(FR.threshold(register_prob))
        self.rd_exit_factor = 1.0  # credit lever: exit hazard of R&D-active firms multiplied by this
        self.n = 0
        self.labels: list[str] = []
        self._cap = 0
        for name, dt in self.SCALARS.items():
            setattr(self, name, np.zeros(0, dtype=dt))
        self.noise = np.zeros((0, months))
        self.rev = np.zeros((0, years + HISTORY))
        self.rd = np.zeros((0, years + HISTORY))
        self.rd_eff = np.zeros((0, years))
        self.uy = np.zeros((0, years, N_YEARLY))
        self._grow(capacity)

    def _grow(self, cap: int) -> None:
        def ext(a, shape_tail, dt=None):
            out = np.zeros((cap, *shape_tail), dtype=dt or a.dtype)
            out[: self.n] = a[: self.n]
            return out

        for name in self.SCALARS:
            setattr(self, name, ext(getattr(self, name), ()))
        self.noise = ext(self.noise, (self.months,))
        self.rev = ext(self.rev, (self.years + HISTORY,))
        self.rd = ext(self.rd, (self.years + HISTORY,))
        self.rd_eff = ext(self.rd_eff, (self.years,))
        self.uy = ext(self.uy, (self.years, N_YEARLY))
        self._cap = cap

    def add(
        self,
        rng: np.random.Generator,
        sectors: SectorTable,
        s: int,
        *,
        label: str,
        birth: float,
        level: float,
        age0: float = 0.0,
        ramp: bool = True,
        known: dict | None = None,
        latent: float | None = None,
    ) -> int:
        """Create a firm of sector ``s`` born at ``birth`` (months; negative for starting firms).

        ``level`` is its full-capacity output (万元/year); ``age0`` its age in
        months at ``birth`` (starting firms). ``known`` holds values read from a
        register, used instead of draws (the draws are still consumed).
        """
        if self.n == self._cap:
            self._grow(2 * self._cap)
        i = self.n
        self.n += 1
        self.labels.append(label)
        known = known or {}
        spec = sectors.spec[s]
        u = rng.random(N_ATTR)
        e_exit = rng.standard_exponential()
        self.noise[i] = rng.standard_normal(self.months)
        self.uy[i] = rng.random((self.years, N_YEARLY))
        rdz = rng.standard_normal(self.years)
        # normal scores (rules.firms): the tech attributes share the firm's latent tech orientation
        z = ndtri(u)
        z0 = z[A_LATENT] if latent is None else latent
        z[TECH_ATTRS] = FR.tech_score(sectors.tech_correlation[s], z0, z[TECH_ATTRS])
        u[TECH_QUANTITIES] = ndtr(z[TECH_QUANTITIES])  # quantities are F^-1(Phi(score))

        self.sector[i] = s
        self.industrial[i] = sectors.industrial[s]
        self.alive[i] = True
        self.birth[i] = birth
        self.logB[i] = math.log(max(level, 1e-9))
        self.steps[i] = 0
        self.ramp_months[i] = sectors.ramp_months[s] if ramp else 0.0
        self.ramp_start[i] = sectors.ramp_start[s]
        self.productivity[i] = known.get("productivity") or ppf(spec.labour_productivity, u[A_PROD])
        rd_active, rd_share = FR.research(
            FR.present(z[A_RD_ACTIVE], sectors.rd_active_z[s]), ppf(spec.rd_share, u[A_RD_SHARE]), known.get("rd_share", math.nan)
        )
        self.rd_active[i] = rd_active
        # a firm aged age0 at time 0 was born at birth = -age0
        self.death[i] = float(
            FR.exit_time(
                birth, e_exit, age0, rd_active, self.rd_exit_factor, sectors.h_young[s], sectors.h_mature[s], sectors.young_months[s]
            )
        )
        self.rd_eff[i] = FR.rd_efficiency(rd_share, rd_active, sectors.rd_noise_sd[s], rdz)
        self.st_share[i] = _known(known, "st_staff_share", ppf(spec.st_staff_share, u[A_ST]))
        self.ht_share[i] = _known(known, "hightech_revenue_share", ppf(spec.hightech_revenue_share, u[A_HT]))
        self.hts_share[i] = _known(known, "hightech_service_share", ppf(spec.hightech_service_share, u[A_HTS]))
        self.score[i] = ppf(spec.innovation_score, u[A_SCORE])
        self.ip1[i] = _known(known, "ip_class1", FR.present(z[A_IP1], sectors.ip_class1_z[s]))
        self.ip2[i] = _known(known, "ip_class2", poisson_ppf(u[A_IP2], spec.ip_class2_mean))
        self.in_field[i] = FR.present(z[A_FIELD], sectors.hnte_field_z[s])
        self.niche[i] = _known(known, "niche", FR.present(z[A_NICHE], sectors.niche_z[s]))
        self.rd_inst[i] = _known(known, "rd_institution", FR.present(z[A_RDINST], sectors.rd_institution_z[s]))
        self.registers[i] = FR.present(z[A_REGISTERS], self.register_z)
        self.hnte_on[i] = False
        self.hnte_expiry[i] = -math.inf
        self.hnte_ever[i] = False
        self.tech_sme[i] = False
        self.zjtx_on[i] = False
        self.zjtx_expiry[i] = -math.inf
        self.zjtx_ever[i] = False
        self.listed[i] = bool(known.get("listed", False))
        self.floor_m2[i] = 0.0
        self.prev_above[i] = False
        self.prev_tech[i] = False
        self.level[i] = 0.0
        self.rev[i] = 0.0
        self.rd[i] = 0.0
        return i

    def set_history(self, i: int, revenue: float, rd_share_last: float, age_months: float) -> None:
        """Fill the fiscal years before the start with last year's revenue (years the firm existed)."""
        for k in range(HISTORY):  # column HISTORY-1-k is year -(k+1)
            if age_months > 12.0 * k or k == 0:
                self.rev[i, HISTORY - 1 - k] = revenue
                self.rd[i, HISTORY - 1 - k] = revenue * rd_share_last


def _known(known: dict, key: str, default):
    v = known.get(key)
    return default if v is None else v
