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
"""

from __future__ import annotations

import numpy as np

MONTHS = 12.0


def log_step(growth, shock, noise_sd, z):
    """Monthly change of log output level (see module docstring)."""
    return growth / MONTHS + shock / MONTHS + noise_sd / np.sqrt(MONTHS) * z


def ramp(age_months, ramp_months, ramp_start):
    """Share of full output reached ``age_months`` after production start (linear ramp)."""
    age = np.asarray(age_months, dtype=float)
    rm = np.asarray(ramp_months, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(rm > 0, np.clip(age / np.where(rm > 0, rm, 1.0), 0.0, 1.0), 1.0)
    return ramp_start + (1.0 - ramp_start) * frac


def active_fraction(t, birth, death):
    """Share of the month ``[t-1, t)`` during which a firm alive on ``[birth, death)`` existed."""
    return np.clip(np.minimum(t, death) - np.maximum(t - 1.0, birth), 0.0, 1.0)


def year_end_level(revenue, growth):
    """Output rate at the end of a year whose total was ``revenue``, growing at ``growth`` (log/year).

    Output accrues monthly at the month-end rate (as the engines step it), so a
    year ending at rate ``B`` totals ``B/12 * sum_{k=0..11} exp(-g k/12)``. Hence
    ``B = 12 * revenue * (1 - exp(-g/12)) / (1 - exp(-g))``, and the next year's
    total is exactly ``revenue * exp(g)``. A starting firm begins at this rate,
    not at its last-year average (which would understate first-year growth).
    """
    g = np.asarray(growth, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(np.abs(g) > 1e-12, 12.0 * np.expm1(-g / 12.0) / np.expm1(-g), 1.0)
    out = revenue * factor
    return float(out) if np.ndim(out) == 0 else out


def monthly_hazard(yearly_prob):
    """Constant monthly hazard equivalent to a yearly exit probability."""
    p = np.asarray(yearly_prob, dtype=float)
    with np.errstate(divide="ignore"):
        return -np.log1p(-p) / MONTHS


def cumulative_hazard(age, h_young, h_mature, young_months):
    """Integrated hazard from age 0 to ``age`` (months) with two phases."""
    age = np.asarray(age, dtype=float)
    return h_young * np.minimum(age, young_months) + h_mature * np.maximum(age - young_months, 0.0)


def exit_age(e, age0, h_young, h_mature, young_months):
    """Age (months) at which a firm aged ``age0`` exits, given a unit exponential ``e``.

    Inverts the two-phase cumulative hazard: the exit age solves
    ``H(age) = H(age0) + e``. Returns ``inf`` where the hazard is zero.
    """
    e = np.asarray(e, dtype=float)
    target = cumulative_hazard(age0, h_young, h_mature, young_months) + e
    young_total = h_young * young_months
    with np.errstate(divide="ignore", invalid="ignore"):
        in_young = np.where(h_young > 0, target / np.where(h_young > 0, h_young, 1.0), np.inf)
        in_mature = np.where(h_mature > 0, young_months + (target - young_total) / np.where(h_mature > 0, h_mature, 1.0), np.inf)
    out = np.where(target <= young_total, in_young, in_mature)
    return float(out) if out.ndim == 0 else out
