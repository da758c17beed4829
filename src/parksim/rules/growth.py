"""Output growth, ramp-up and exit of enterprises.

A firm's *full-capacity output level* ``B`` (万元/year) follows a monthly
log-random walk::

    log B[m+1] = log B[m] + g/12 + (Z_sector[y] + Z_macro[y])/12 + sigma_f/sqrt(12) * eps[m]

with ``g`` the sector's mean yearly log-growth, ``Z`` the yearly sector and
regional shocks (shared by all firms of a sector / the park: a bad year hits
every firm at once) and ``eps`` the firm's own standard normal noise. After
``n`` months with no shocks, ``E[log B] = log B0 + n g/12`` and
``Var[log B] = n sigma_f**2 / 12``.

The firm's actual output rate is ``B`` times its ramp-up factor, and its
output in a month is that rate / 12 times the share of the month it was alive.

Every function here is written in the subset of NumPy that numba compiles
(``where`` of :mod:`parksim.rules._ops`, ``np.minimum``, ``np.maximum``; no ``np.errstate``): the SimPy
engine calls them on NumPy arrays, the fast engine calls their compiled form
on one firm at a time. Both engines therefore run the same rules.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from parksim.rules._ops import where

MONTHS = 12.0


@register_jitable
def drift(growth, shock):
    """The part of a month's log output change shared by the firms of a sector: ``g/12 + Z/12``."""
    return growth / MONTHS + shock / MONTHS


@register_jitable
def noise_scale(noise_sd):
    """Standard deviation of a firm's own monthly log output noise: ``sigma_f / sqrt(12)``."""
    return noise_sd / np.sqrt(MONTHS)


@register_jitable
def log_step(growth, shock, noise_sd, z):
    """Monthly change of log output level (see module docstring): ``drift + noise_scale * z``."""
    return drift(growth, shock) + noise_scale(noise_sd) * z


@register_jitable
def ramp(age_months, ramp_months, ramp_start):
    """Share of full output reached ``age_months`` after production start (linear ramp)."""
    # no ramp (ramp_months <= 0): full output at once; written without np.where so that
    # the compiled form stays a plain number for one firm
    flat = (ramp_months <= 0) * 1.0
    frac = np.minimum((np.maximum(age_months, 0.0) + flat) / np.maximum(ramp_months, 1e-300), 1.0)
    return ramp_start + (1.0 - ramp_start) * frac


@register_jitable
def active_fraction(t, birth, death):
    """Share of the month ``[t-1, t)`` during which a firm alive on ``[birth, death)`` existed."""
    return np.minimum(np.maximum(np.minimum(t, death) - np.maximum(t - 1.0, birth), 0.0), 1.0)


@register_jitable
def year_end_level(revenue, growth):
    """Output rate at the end of a year whose total was ``revenue``, growing at ``growth`` (log/year).

    Output accrues monthly at the month-end rate (as the engines step it), so a
    year ending at rate ``B`` totals ``B/12 * sum_{k=0..11} exp(-g k/12)``. Hence
    ``B = 12 * revenue * (1 - exp(-g/12)) / (1 - exp(-g))``, and the next year's
    total is exactly ``revenue * exp(g)``. A starting firm begins at this rate,
    not at its last-year average (which would understate first-year growth).
    """
    small = np.abs(growth) <= 1e-12
    safe = where(small, 1.0, growth)
    factor = where(small, 1.0, 12.0 * np.expm1(-safe / 12.0) / np.expm1(-safe))
    return revenue * factor


@register_jitable
def monthly_hazard(yearly_prob):
    """Constant monthly hazard equivalent to a yearly exit probability."""
    certain = yearly_prob >= 1.0
    return where(certain, np.inf, -np.log1p(-where(certain, 0.0, yearly_prob)) / MONTHS)


@register_jitable
def cumulative_hazard(age, h_young, h_mature, young_months):
    """Integrated hazard from age 0 to ``age`` (months) with two phases."""
    return h_young * np.minimum(age, young_months) + h_mature * np.maximum(age - young_months, 0.0)


@register_jitable
def exit_age(e, age0, h_young, h_mature, young_months):
    """Age (months) at which a firm aged ``age0`` exits, given a unit exponential ``e``.

    Inverts the two-phase cumulative hazard: the exit age solves
    ``H(age) = H(age0) + e``. Returns ``inf`` where the hazard is zero.
    """
    target = cumulative_hazard(age0, h_young, h_mature, young_months) + e
    young_total = h_young * young_months
    in_young = where(h_young > 0, target / where(h_young > 0, h_young, 1.0), np.inf)
    in_mature = where(h_mature > 0, young_months + (target - young_total) / where(h_mature > 0, h_mature, 1.0), np.inf)
    return where(target <= young_total, in_young, in_mature)
