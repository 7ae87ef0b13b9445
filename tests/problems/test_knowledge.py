"""Tests for zoo_lab.problems: heat rod (+ torch twin), EMT Cu–Au, Cantera flame, Command."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
import subprocess
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo_lab.problems import (
    Command,
    CommandError,
    combustion,
    example_command,
    heat,
    inverse_problem,
    materials,
    torch_twin,
)

RNG = np.random.default_rng(12345)


# --- heat ------------------------------------------------------------------------------


def test_heat_metadata_and_shapes():
    rod = heat.program
    assert (heat.IN_DIM, heat.OUT_DIM) == (4, 12)
    assert heat.BOUNDS.shape == (4, 2) and np.all(heat.BOUNDS == [0.2, 2.0])
    X = RNG.uniform(0.2, 2.0, (5, 4))
    Y = rod(X)
    assert Y.shape == (5, rod.out_dim) and Y.dtype == np.float64
    # maximum principle: temperatures between the boundary values 0 and 1
    assert np.all(Y >= -1e-12) and np.all(Y <= 1 + 1e-12)
    # rows are independent: a batch equals its rows run one by one
    np.testing.assert_allclose(Y, np.vstack([rod(x[None]) for x in X]), rtol=0, atol=1e-14)


def test_heat_twin_matches_numpy_solver_float64():
    X = RNG.uniform(0.2, 2.0, (7, 4))
    Y = heat.program(X)
    Yt = torch_twin(torch.tensor(X, dtype=torch.float64))
    assert Yt.dtype == torch.float64
    np.testing.assert_allclose(Yt.numpy(), Y, rtol=0, atol=1e-10)


def test_heat_twin_gradient_matches_finite_differences_of_solver():
    k = np.array([0.5, 1.5, 0.8, 1.2])
    v = RNG.standard_normal(heat.OUT_DIM)
    K = torch.tensor(k[None], requires_grad=True)
    (torch_twin(K)[0] @ torch.tensor(v)).backward()
    h = 1e-6
    E = np.eye(4) * h
    fd = (heat.program(k + E) @ v - heat.program(k - E) @ v) / (2 * h)
    np.testing.assert_allclose(K.grad.numpy()[0], fd, rtol=1e-6, atol=1e-9)


def test_heat_discretisation_converges():
    k = np.array([[0.5, 1.5, 0.8, 1.2]])
    fine = heat.HeatRod(n_cells=256, n_steps=960)
    # measured 6.2e-5 against a 4x finer grid (both space and time)
    assert np.abs(fine(k) - heat.program(k)).max() < 2e-4


def test_heat_more_conductive_rod_is_hotter():
    lo, hi = heat.program(np.full((1, 4), 0.5)), heat.program(np.full((1, 4), 1.5))
    assert np.all(hi > lo)


def test_heat_inverse_problem():
    exact = inverse_problem()
    np.testing.assert_allclose(exact.readings, heat.program(exact.k_true[None])[0])
    assert exact.misfit(exact.k_true[None])[0] == 0.0
    noisy = inverse_problem(noise=0.01, seed=3)
    again = inverse_problem(noise=0.01, seed=3)
    np.testing.assert_array_equal(noisy.readings, again.readings)
    assert 0 < np.std(noisy.readings - noisy.clean) < 0.02
    assert noisy.bounds.shape == (4, 2)
    other = inverse_problem(heat.HeatRod(n_zones=3), seed=1)
    assert other.k_true.shape == (3,) and np.all(other.k_true > 0.2)


@pytest.mark.parametrize(
    "kwargs",
    [{"n_zones": 0}, {"n_steps": 100, "n_snapshots": 3}, {"theta": 0.2}, {"sensors": (1.5,)}],
)
def test_heat_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        heat.HeatRod(**kwargs)


def test_heat_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        heat.program(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"X\[1\]"):
        heat.program(np.array([[1.0] * 4, [1.0, -1.0, 1.0, 1.0]]))


# --- materials (ASE EMT) -----------------------------------------------------------------


def test_emt_equilibrium_lattice_constant_of_pure_cu():
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.eos import EquationOfState

    a0 = materials.equilibrium_lattice_constant(0.0)
    # pinned from ASE 3.29 EMT (Jacobsen et al. 1996 parameters): 3.58983 Å
    assert a0 == pytest.approx(3.58983, abs=2e-4)
    # independent route, ASE's own EquationOfState fit on the 1-atom primitive cell
    vols, ens = [], []
    for a in np.linspace(3.5, 3.7, 9):
        atoms = bulk("Cu", "fcc", a=a)
        atoms.calc = EMT()
        vols.append(atoms.get_volume())
        ens.append(atoms.get_potential_energy())
    v0, _, _ = EquationOfState(vols, ens).fit()
    assert a0 == pytest.approx((4 * v0) ** (1 / 3), abs=2e-3)
    # experiment about 3.61 Å at room temperature (Kittel, Introduction to Solid State
    # Physics): EMT, whose parameters are fitted to experiment, lands within 1 %
    assert a0 == pytest.approx(3.615, rel=0.01)


def test_emt_lattice_constant_rises_with_gold_fraction():
    cs = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    a = materials.equilibrium_lattice_constant(cs, xatol=1e-4)
    assert np.all(np.diff(a) > 0)
    # measured endpoints: Cu 3.5898 Å, Au 4.0562 Å (ASE 3.29 EMT)
    assert a[-1] == pytest.approx(4.0562, abs=1e-3)
    # Vegard-like: within 0.06 Å of the straight line (measured bowing +0.033 Å at c = 0.5)
    vegard = a[0] + cs * (a[-1] - a[0])
    assert np.abs(a - vegard).max() < 0.06


def test_emt_energy_continuous_and_pressure_consistent():
    E = materials.program
    assert E.in_dim == 2 and E.out_dim == 1 and materials.BOUNDS.shape == (2, 2)
    # continuity across the composition grid 1/32
    c = 5 / 32
    left, right = E(np.array([[c - 1e-9, 3.7]])), E(np.array([[c + 1e-9, 3.7]]))
    assert abs(left - right).max() < 1e-7
    # P = -dE/dV, V per atom = a^3 / 4, 1 eV/Å^3 = 160.2177 GPa
    a, h = 3.75, 1e-4
    Ep, Em = E(np.array([[0.3, a + h], [0.3, a - h]]))[:, 0]
    p_fd = -(Ep - Em) / (((a + h) ** 3 - (a - h) ** 3) / 4) * 160.21766
    p = materials.pressure_program(np.array([[0.3, a]]))[0, 0]
    assert p == pytest.approx(p_fd, rel=1e-3)
    with pytest.raises(ValueError, match="c="):
        E(np.array([[1.5, 3.6]]))
    with pytest.raises(ValueError, match="solute"):
        materials.AlloyEMT(solute="Fe")


# --- combustion (Cantera gri30) ---------------------------------------------------------


def test_flame_temperature_stoichiometric_methane_air():
    T = combustion.program(np.array([[1.0]]))[0, 0]
    # pinned from Cantera 3.2 / gri30: 2225.52 K; the commonly quoted equilibrium value for
    # stoichiometric methane/air from ~298 K is about 2226 K (e.g. Turns, An Introduction
    # to Combustion); the issue asks for 'near 2225 K'
    assert T == pytest.approx(2225.52, abs=0.5)
    hot = combustion.program_phi_t0(np.array([[1.0, 300.0], [1.0, 600.0]]))[:, 0]
    assert hot[0] == pytest.approx(T, abs=1e-6) and hot[1] == pytest.approx(2366.80, abs=0.5)


def test_flame_temperature_peaks_just_rich_and_is_monotone_lean():
    phis = np.linspace(0.5, 1.5, 101)
    T = combustion.program(phis[:, None])[:, 0]
    assert 1.0 < phis[np.argmax(T)] < 1.1  # measured peak at phi ≈ 1.035, 2233.9 K
    lean = T[phis <= 1.0]
    assert np.all(np.diff(lean) > 0)
    with pytest.raises(ValueError, match="phi="):
        combustion.program(np.array([[-1.0]]))
    with pytest.raises(ValueError, match="shape"):
        combustion.program(np.ones((3, 2)))


# --- command ----------------------------------------------------------------------------


def test_command_stdin_and_files_modes():
    X = np.array([[0.5, 0.5], [1.0, 2.0], [0.0, 0.25]])
    expected = ((X - 0.5) ** 2).sum(1, keepdims=True) + 1.0
    np.testing.assert_allclose(example_command()(X), expected, rtol=1e-15)
    np.testing.assert_allclose(example_command(mode="files")(X), expected, rtol=1e-15)
    cmd = example_command(in_dim=3)
    assert cmd.name == "quadratic_program" and cmd.in_dim == 3
    # output to stdout in files mode, comma-separated input
    comma = Command(
        [sys.executable, str(example_command().argv[1]), "--input", "{input}"],
        in_dim=2,
        mode="files",
        delimiter=",",
    )
    np.testing.assert_allclose(comma(X), expected, rtol=1e-15)


def test_command_refuses_shell_string():
    with pytest.raises(TypeError, match="shell string"):
        Command("python prog.py", in_dim=1)
    with pytest.raises(ValueError, match="placeholder"):
        Command(["prog"], in_dim=1, mode="files")
    with pytest.raises(ValueError, match="mode: got 'pipe'; allowed: stdin, files"):
        Command(["prog"], in_dim=1, mode="pipe")


def test_command_timeout_names_program_and_keeps_cause():
    cmd = example_command(sleep=30, timeout=0.5)
    with pytest.raises(CommandError, match="quadratic_program: timed out") as info:
        cmd(np.zeros((2, 2)))
    assert isinstance(info.value.__cause__, subprocess.TimeoutExpired)


def test_command_nonzero_exit_reports_stderr_tail():
    with pytest.raises(CommandError, match="status 3.*failing on purpose"):
        example_command(fail=True)(np.zeros((1, 2)))


def test_command_wrong_output_shape():
    cmd = Command(list(example_command().argv), in_dim=2, out_dim=2, name="quad2")
    with pytest.raises(CommandError, match=r"quad2: output has shape \(4, 1\), expected \(4, 2\)"):
        cmd(np.zeros((4, 2)))


# --- picklability -----------------------------------------------------------------------

PROGRAMS = [
    (heat.program, RNG.uniform(0.2, 2.0, (4, 4))),
    (combustion.program, np.array([[0.6], [0.8], [1.0], [1.2]])),
    (materials.program, np.array([[0.0, 3.6], [0.5, 3.8]])),
    (example_command(), RNG.uniform(0, 1, (4, 2))),
]


@pytest.mark.parametrize("program,X", PROGRAMS, ids=["heat", "combustion", "materials", "command"])
def test_programs_pickle_roundtrip(program, X):
    clone = pickle.loads(pickle.dumps(program))
    assert clone == program
    np.testing.assert_array_equal(clone(X), program(X))


def test_programs_run_in_a_process_pool():
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(p, X) for p, X in PROGRAMS]
        results = [f.result(timeout=120) for f in futures]
    for (program, X), Y in zip(PROGRAMS, results, strict=True):
        np.testing.assert_array_equal(Y, program(X))


# --- issue 15: Command docstring, names, digits; the guide's example --------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "couple_your_program.md"


def test_command_docstring_lists_every_parameter():
    doc = Command.__doc__
    params = doc[doc.index("Parameters"):]
    for f in dataclasses.fields(Command):
        assert f"\n    {f.name} :" in params, f.name


def test_command_is_named_by_its_whole_argv():
    a = Command([sys.executable, "/one/prog.py", "--fast"], in_dim=1)
    b = Command([sys.executable, "/two/prog.py", "--fast"], in_dim=1)
    assert a.name == f"{sys.executable} /one/prog.py --fast" and a.name != b.name
    assert Command(["awk", "-f", "my script.awk"], in_dim=1).name == "awk -f 'my script.awk'"


def _printing(tmp_path, fmt):
    script = tmp_path / f"print_{fmt.strip('%.')}.py"
    script.write_text("import sys, math\nfor line in sys.stdin:\n"
                      "    x, y = map(float, line.split())\n"
                      f"    print('{fmt}' % (math.sin(x) + x * y))\n")
    return Command([sys.executable, str(script)], in_dim=2)


def test_blackbox_warns_when_outputs_have_too_few_digits_for_mu(tmp_path):
    import zoo_lab as zl

    est = zl.estimators.make("coordinate", mu=1e-6)
    z = torch.tensor([[0.3, 0.7], [1.1, -0.4]], dtype=torch.float64, requires_grad=True)
    box = zl.BlackBox(_printing(tmp_path, "%.6g"), 2, 1, estimator=est)
    with pytest.warns(RuntimeWarning, match=r"only 6 significant digits.*mu=1e-06.*17 significant"):
        box(z).sum().backward()
    z.grad = None
    good = zl.BlackBox(_printing(tmp_path, "%.17g"), 2, 1, estimator=est)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        good(z).sum().backward()
    x, y = z.detach().T
    exact = torch.stack([torch.cos(x) + y, x], 1)
    torch.testing.assert_close(z.grad, exact, atol=1e-5, rtol=0)
    # 6 digits are plenty for a large step: no warning
    coarse = zl.BlackBox(_printing(tmp_path, "%.6g"), 2, 1,
                         estimator=zl.estimators.make("coordinate", mu=1e-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coarse(z.detach().clone().requires_grad_(True)).sum().backward()


@pytest.mark.skipif(shutil.which("awk") is None, reason="awk not installed")
def test_guide_command_example_runs(tmp_path, monkeypatch, capsys):
    text = GUIDE.read_text()
    start = text.index("<!-- tested: guide-command-example")
    code = text[text.index("```python\n", start) + len("```python\n"):]
    code = code[:code.index("```\n")]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(GUIDE), "exec"), {})  # asserts ZO gradient ~ exact inside
    out = capsys.readouterr().out
    assert "awk -f damped.awk" in out and "1 forward + 2 backward" in out
    assert "\n2 6\n" in out  # 2 program calls, 6 rows
