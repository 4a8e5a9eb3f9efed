"""STIRPAT ridge fit: recovers known elasticities, matches an independent ridge formulation."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.stirpat import fit


def _data() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    a, t, s = rng.uniform(1, 10, 25), rng.uniform(1, 5, 25), rng.uniform(0.2, 0.8, 25)
    noise = np.exp(rng.normal(0, 0.02, 25))
    return 2.0 * a**0.8 * t**0.5 * s**-0.3 * noise, {"A": a, "T": t, "S": s}


def test_ols_recovers_exact_elasticities() -> None:
    _, x = _data()
    exact = 2.0 * x["A"] ** 0.8 * x["T"] ** 0.5 * x["S"] ** -0.3
    res = fit(exact, x, alpha=0.0)
    assert res.coefficients == {"A": pytest.approx(0.8), "T": pytest.approx(0.5),
                                "S": pytest.approx(-0.3)}
    assert res.intercept == pytest.approx(np.log(2.0))
    assert res.r2 == pytest.approx(1.0)


def test_ridge_matches_augmented_least_squares() -> None:
    # Ridge on centred logs == OLS on [Xc; √α·I] against [yc; 0]; the intercept is not
    # penalised: ln a = mean(ln y) − mean(ln X)·b.
    y, x = _data()
    alpha = 0.7
    res = fit(y, x, alpha=alpha)
    lx = np.log(np.column_stack(list(x.values())))
    ly = np.log(y)
    xc, yc = lx - lx.mean(axis=0), ly - ly.mean()
    aug_x = np.vstack([xc, np.sqrt(alpha) * np.eye(3)])
    aug_y = np.r_[yc, np.zeros(3)]
    beta = np.linalg.lstsq(aug_x, aug_y, rcond=None)[0]
    np.testing.assert_allclose(list(res.coefficients.values()), beta, rtol=1e-10)
    assert res.intercept == pytest.approx(ly.mean() - lx.mean(axis=0) @ beta)
    # the penalty shrinks the coefficients towards 0 compared with OLS
    ols = fit(y, x, alpha=0.0)
    assert np.linalg.norm(beta) < np.linalg.norm(list(ols.coefficients.values()))


def test_constant_driver_gets_zero_and_does_not_break_ols() -> None:
    y, x = _data()
    x["K"] = np.full(25, 3.0)
    res = fit(y, x, alpha=0.0)
    assert res.coefficients["K"] == 0.0
    assert res.coefficients["A"] == pytest.approx(fit(y, {k: x[k] for k in "ATS"}).coefficients["A"])


def test_non_positive_values_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit([1.0, 0.0], {"A": [1.0, 2.0]})
