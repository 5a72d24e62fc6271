"""Pure loss and penalty functions, against hand computations."""

import math

import pytest
import torch
from torch import nn

from skae._losses import contractive_penalty, kl_sparsity, l1_sparsity


def test_kl_sparsity_by_hand():
    codes = torch.tensor([[0.1, 0.5], [0.3, 0.7]], dtype=torch.float64)
    rho = 0.2
    expected = 0.0
    for rho_hat in (0.2, 0.6):  # column means
        expected += rho * math.log(rho / rho_hat) + (1 - rho) * math.log(
            (1 - rho) / (1 - rho_hat)
        )
    assert kl_sparsity(codes, rho).item() == pytest.approx(expected, rel=1e-12)


def test_kl_sparsity_is_zero_at_target_and_positive_elsewhere():
    codes = torch.full((5, 3), 0.05)
    assert kl_sparsity(codes, 0.05).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_sparsity(codes + 0.1, 0.05).item() > 0


def test_kl_sparsity_is_finite_for_dead_and_saturated_units():
    codes = torch.tensor([[0.0, 1.0], [0.0, 1.0]], requires_grad=True)
    penalty = kl_sparsity(codes, 0.05)
    penalty.backward()
    assert torch.isfinite(penalty) and torch.isfinite(codes.grad).all()


def test_kl_sparsity_gradient_pulls_mean_towards_target():
    codes = torch.full((4, 1), 0.5, requires_grad=True)
    kl_sparsity(codes, 0.05).backward()
    assert (codes.grad > 0).all()  # descending lowers the activations


def test_l1_sparsity_by_hand():
    codes = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert l1_sparsity(codes).item() == pytest.approx(6.0 / 4)


def test_contractive_penalty_of_linear_encoder_is_weight_norm():
    # For a linear map the Jacobian is the weight matrix, for every row.
    torch.manual_seed(0)
    layer = nn.Linear(4, 3).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    expected = layer.weight.square().sum()
    assert contractive_penalty(layer, x).item() == pytest.approx(expected.item())


def test_contractive_penalty_of_sigmoid_layer_matches_closed_form():
    # Rifai et al.: ||J||^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2.
    torch.manual_seed(1)
    layer = nn.Linear(6, 4).double()
    x = torch.randn(7, 6, dtype=torch.float64)
    h = torch.sigmoid(layer(x))
    closed = ((h * (1 - h)).square() * layer.weight.square().sum(dim=1)).sum(1).mean()
    encode = nn.Sequential(layer, nn.Sigmoid())
    assert contractive_penalty(encode, x).item() == pytest.approx(closed.item())


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh])
def test_contractive_penalty_matches_brute_force_jacobian(activation):
    torch.manual_seed(0)
    encode = nn.Sequential(
        nn.Linear(5, 8), activation(), nn.Linear(8, 6), activation(), nn.Linear(6, 3)
    ).double()
    x = torch.randn(9, 5, dtype=torch.float64)
    brute = torch.stack(
        [
            torch.autograd.functional.jacobian(lambda r: encode(r[None])[0], row)
            .square()
            .sum()
            for row in x
        ]
    ).mean()
    penalty = contractive_penalty(encode, x)
    torch.testing.assert_close(penalty, brute)


def test_contractive_penalty_is_differentiable_and_works_without_grad():
    torch.manual_seed(0)
    encode = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    x = torch.randn(3, 4, dtype=torch.float64)
    penalty = contractive_penalty(encode, x)
    penalty.backward()
    # Every weight shapes the Jacobian (the last bias does not).
    assert all(encode[i].weight.grad is not None for i in (0, 2))
    with torch.no_grad():  # as in validation
        again = contractive_penalty(encode, x)
    assert again.item() == pytest.approx(penalty.item())
    # The penalty does not ask for (or leave) gradients on the input.
    assert not x.requires_grad and x.grad is None


def test_contractive_penalty_gradient_matches_finite_differences():
    torch.manual_seed(0)
    encode = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = torch.randn(2, 3, dtype=torch.float64)
    weight = encode[0].weight

    def f(w):
        return contractive_penalty(
            lambda v: torch.nn.functional.linear(
                torch.tanh(torch.nn.functional.linear(v, w, encode[0].bias)),
                encode[2].weight,
                encode[2].bias,
            ),
            x,
        )

    assert torch.autograd.gradcheck(f, (weight.detach().clone().requires_grad_(),))
