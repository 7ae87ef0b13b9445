"""zoo_lab.surrogate.ensemble: K MLPs as stacked weights train exactly like K separate nets, one bmm per layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo_lab.surrogate.ensemble import MLPEnsemble, train_ensemble_adam
from zoo_lab.surrogate.train import make_net


def _nets(seeds, dim, hidden, dtype=torch.float64):
    return [make_net(dim, hidden, torch.nn.Tanh, torch.Generator().manual_seed(s), dtype, 5 / 3)
            for s in seeds]


def _data(n, dim, dtype=torch.float64, seed=0):
    rng = np.random.default_rng(seed)
    U = torch.as_tensor(rng.uniform(-1, 1, (n, dim)), dtype=dtype)
    Y = torch.sin(3 * U).sum(dim=1) + 0.1 * U[:, 0] ** 2
    return U, (Y - Y.mean()) / Y.std()


def _train_alone(net, U, Y, epochs, lr):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad(set_to_none=True)
        torch.mean((net(U).squeeze(-1) - Y) ** 2).backward()
        opt.step()
    return net


@settings(max_examples=6, deadline=None)
@given(k=st.integers(1, 6), dim=st.integers(1, 5), width=st.integers(2, 16),
       depth=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_each_member_equals_its_separately_trained_net(k, dim, width, depth, seed):
    hidden = (width,) * depth
    seeds = [seed + i for i in range(k)]
    U, Y = _data(48, dim, seed=seed)
    ens = MLPEnsemble.from_nets(_nets(seeds, dim, hidden))
    final = train_ensemble_adam(ens, U, Y, epochs=60, lr=1e-2)
    alone = [_train_alone(net, U, Y, 60, 1e-2) for net in _nets(seeds, dim, hidden)]
    T, _ = _data(200, dim, seed=seed + 1)
    with torch.no_grad():
        batched = ens(T)
        for i, net in enumerate(alone):
            ref = net(T).squeeze(-1)
            assert torch.allclose(batched[i], ref, rtol=0, atol=1e-9), i
            assert torch.allclose(ens.member(i)(T).squeeze(-1), ref, rtol=0, atol=1e-9)
            mse = torch.mean((net(U).squeeze(-1) - Y) ** 2)
            assert abs(float(final[i]) - float(mse)) < 1e-9
    assert float(final.max()) < 1.0  # training did something: below the variance of Y


def test_float32_members_match_within_tolerance_and_members_differ():
    seeds = range(8)
    U, Y = _data(64, 2, torch.float32)
    ens = MLPEnsemble.from_nets(_nets(seeds, 2, (32, 32), torch.float32))
    train_ensemble_adam(ens, U, Y, epochs=100)
    alone = [_train_alone(n, U, Y, 100, 3e-3) for n in _nets(seeds, 2, (32, 32), torch.float32)]
    with torch.no_grad():
        out = ens(U)
        for i, net in enumerate(alone):
            # float32 rounding differs between bmm and mm; Adam's step normalisation lets it
            # grow a little, so compare at 2e-3 of the (unit) target scale
            assert torch.allclose(out[i], net(U).squeeze(-1), rtol=0, atol=2e-3)
    assert float((out[0] - out[1]).abs().max()) > 1e-2  # different inits, different nets


def test_same_seeds_reproduce_bit_for_bit_and_per_member_data_works():
    U, Y = _data(40, 3)
    runs = []
    for _ in range(2):
        ens = MLPEnsemble.from_nets(_nets([3, 4, 5], 3, (8,)))
        train_ensemble_adam(ens, U, Y, epochs=30)
        runs.append([p.detach().clone() for p in ens.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))
    # one data set per member: member 1 on its own targets equals a single net on them
    Uk, Yk = torch.stack([U, U]), torch.stack([Y, -Y])
    ens = MLPEnsemble.from_nets(_nets([1, 1], 3, (8,)))
    train_ensemble_adam(ens, Uk, Yk, epochs=30)
    ref = _train_alone(_nets([1], 3, (8,))[0], U, -Y, 30, 3e-3)
    with torch.no_grad():
        assert torch.allclose(ens(Uk)[1], ref(U).squeeze(-1), rtol=0, atol=1e-9)
        assert not torch.allclose(ens(Uk)[0], ens(Uk)[1])


def test_bad_input_is_named():
    nets = _nets([0], 2, (4,)) + _nets([1], 2, (5,))
    with pytest.raises(ValueError, match="same layer shapes"):
        MLPEnsemble.from_nets(nets)
    with pytest.raises(ValueError, match="nets"):
        MLPEnsemble.from_nets([])
    ens = MLPEnsemble.from_nets(_nets([0, 1], 2, (4,)))
    with pytest.raises(ValueError, match="k: expected a member index in \\[0, 2\\)"):
        ens.member(2)
    U, Y = _data(10, 2)
    with pytest.raises(ValueError, match="epochs"):
        train_ensemble_adam(ens, U, Y, epochs=0)
    with pytest.raises(ValueError, match="lr"):
        train_ensemble_adam(ens, U, Y, epochs=1, lr=-1.0)


def test_fit_proxies_adam_members_are_independent_proxies():
    import zoo_lab as zl
    from zoo_lab.surrogate.ensemble import fit_proxies_adam

    f = zl.functions.get("sphere", 2)
    designs = [zl.sampling.sample("sobol", 32, f.bounds, seed=s) for s in (0, 1)]
    data = [(X, f(X)) for X in designs]
    pair = fit_proxies_adam(data, f.bounds, [0, 1], hidden=(16,), epochs=400, dtype="float64")
    alone = fit_proxies_adam(data[1:], f.bounds, [1], hidden=(16,), epochs=400, dtype="float64")
    T = zl.sampling.sample("uniform", 50, f.bounds, seed=9)
    np.testing.assert_allclose(pair[1](T), alone[0](T), rtol=0, atol=1e-9)
    assert pair[0].settings["ensemble_size"] == 2 and pair[0].settings["seed"] == 0
    # trained: far better than predicting the mean on its own design
    X, y = data[0]
    assert np.sqrt(np.mean((pair[0](X) - y) ** 2)) < 0.5 * np.std(y)
    with pytest.raises(ValueError, match="same number of points"):
        fit_proxies_adam([data[0], (designs[1][:16], f(designs[1][:16]))], f.bounds, [0, 1])
