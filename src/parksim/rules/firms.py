"""A new enterprise's attributes and the starting enterprises' certificates.

A firm's attributes are drawn once, when it is created, as a Gaussian copula.
Each attribute has a standard normal score. The *tech* attributes (R&D activity
and share, S&T staff share, high-tech revenue share, innovation score, class-I
and class-II IP, high-tech field, niche, R&D institution, registering as a
tech-based SME) load on the firm's latent tech orientation ``z0`` with the
sector's ``tech_correlation`` rho (:func:`tech_score`): innovative firms tend
to be innovative on every count. The other attributes (labour productivity,
high-tech service share) have scores of their own.

* A quantity is its score mapped through the attribute's distribution
  (``F^-1(Phi(score))``); how a score reaches the distribution is the engines'
  sampling (their random streams), not a rule.
* A yes/no attribute of probability ``p`` is held by the firms of highest score
  (:func:`present`): so a high orientation raises R&D activity, IP, field,
  niche, institutions and registering together.

The firm-creation procedure both engines call draws the scores as normals from
the firm's keyed stream and passes them here. Every function takes plain numbers
or NumPy arrays and is compiled by numba into that procedure (:mod:`parksim.rules`).
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from parksim.rules._ops import exp, ndtri, where
from parksim.rules.growth import MONTHS, exit_age


@register_jitable
def tech_score(rho, z0, z):
    """Normal score of a tech attribute: loading ``rho`` on the orientation ``z0``, the rest the attribute's own ``z``.

    The score is standard normal again, and two tech attributes of a firm have correlation ``rho**2``.
    """
    return rho * z0 + np.sqrt(np.maximum(1.0 - rho * rho, 0.0)) * z


@register_jitable
def threshold(p):
    """The threshold of :func:`present` for a yes/no attribute of probability ``p``: ``ndtri(p)``."""
    return ndtri(p)


@register_jitable
def present(score, threshold):
    """Whether a yes/no attribute of probability ``p`` is present, for a standard normal ``score``.

    ``threshold`` is :func:`threshold` of ``p``: the attribute is held by the firms whose score
    exceeds the ``1 - p`` quantile, ``P(-Z < ndtri(p)) = p``.
    """
    return -score < threshold


@register_jitable
def research(active, share, known_share):
    """R&D activity and share of revenue: the drawn ones, or the register's (``known_share`` not NaN).

    A register that states R&D spend fixes the share; the firm is R&D-active if it is positive.
    """
    if not math.isnan(known_share):
        return known_share > 0, known_share
    return active, share


@register_jitable
def exit_time(birth, e, age0, rd_active, rd_exit_factor, h_young, h_mature, young_months):
    """Month a firm created at ``birth`` (aged ``age0`` months then) exits, for a unit exponential ``e``.

    R&D-active firms' exit hazards are multiplied by ``rd_exit_factor`` (the credit lever; 1 by default).
    """
    hf = rd_exit_factor if rd_active else 1.0
    return birth + exit_age(e, age0, hf * h_young, hf * h_mature, young_months)


@register_jitable
def rd_efficiency(share, active, noise_sd, z):
    """R&D spend per unit of revenue in a year: the firm's share times lognormal noise of mean 1 (``z`` standard normal)."""
    return (share if active else 0.0) * exp(noise_sd * z - 0.5 * noise_sd * noise_sd)


@register_jitable
def register_productivity(revenue, employees):
    """Labour productivity of a register firm that states its employees (万元 of revenue per employee)."""
    return max(revenue, 1e-9) / employees


@register_jitable
def register_rd_share(rd_spend, revenue):
    """R&D share of a register firm that states its R&D spend (0 without revenue)."""
    return rd_spend / revenue if revenue > 0 else 0.0


# --- starting firms ----------------------------------------------------------------------------------
@register_jitable
def starting_orientation(u_cert):
    """A synthetic starting firm's tech orientation, from the uniform that decides its certificates.

    A starting firm is certified if ``u_cert`` is below the sector's certified share
    (:func:`starting_certificates`); its orientation is ``ndtri(1 - u_cert)``, so the
    certified firms are those of highest orientation (and so of most R&D, IP, ...).
    """
    return ndtri(1.0 - u_cert)


@register_jitable
def starting_certificates(u_cert, u_hnte_left, u_zjtx, u_zjtx_left, hnte_share, tech_sme_share, zjtx_share, hnte_years, zjtx_years):
    """A synthetic starting firm's certificates: (high-tech, its expiry month, tech-based SME, 专精特新, its expiry month).

    The sector's stated shares are certified (``u_cert`` serves high-tech and tech-based SME alike, so
    the two go together); a certificate is at a uniform point of its validity, so it expires
    ``u * 12 * validity years`` months after the start. Without the certificate the expiry is ``-inf``.
    """
    hnte = u_cert < hnte_share
    zjtx = u_zjtx < zjtx_share
    hnte_expiry = u_hnte_left * MONTHS * hnte_years if hnte else -math.inf
    zjtx_expiry = u_zjtx_left * MONTHS * zjtx_years if zjtx else -math.inf
    return hnte, hnte_expiry, u_cert < tech_sme_share, zjtx, zjtx_expiry


@register_jitable
def calibration(total, drawn):
    """Factor scaling a sector's drawn starting revenues to its stated ``total``, and its log (for log output levels).

    Returns ``(1, 0)`` when nothing was drawn (``drawn <= 0``): there is nothing to scale.
    """
    if drawn <= 0:
        return 1.0, 0.0
    factor = total / drawn
    return factor, (math.log(factor) if factor > 0 else -math.inf)


# --- traits over time ---------------------------------------------------------------------------------
@register_jitable
def adoption_prob(yearly_hazard, above_size, small_factor, lever_factor):
    """Chance a firm adopts a practice (starts R&D, sets up an R&D institution) during a year.

    ``yearly_hazard`` is the rate of an above-size firm; a firm below the threshold adopts at ``small_factor``
    times it (smaller firms adopt less), and a campaign (the R&D-coverage lever) multiplies both by
    ``lever_factor``. The chance of a yearly hazard ``h`` is ``1 - exp(-h)``.
    """
    rate = yearly_hazard * where(above_size, 1.0, small_factor) * lever_factor
    return 1.0 - exp(-np.maximum(rate, 0.0))


@register_jitable
def improved_score(score, gain):
    """An innovation score after a year's gain (IP filed, results converted, R&D management built up), at most 100."""
    return np.minimum(score + gain, 100.0)
