"""The model registry: named stages as modules, checkpoints from before still load unchanged."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.data.mnist import load_sample, normalize
from core.errors import UserError
from core.resources import bundled_model_file
from core.storage.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.training.models import MODELS, build_model

# The checkpoint format's keys: renaming or adding a parameterised module would break every
# model file users have saved.
MLP_KEYS = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
CNN_KEYS = [
    "conv1.weight",
    "conv1.bias",
    "conv2.weight",
    "conv2.bias",
    "fc1.weight",
    "fc1.bias",
    "fc2.weight",
    "fc2.bias",
]


def functional_cnn(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The SmallCNN forward as it was written before its stages became modules."""
    x = F.relu(F.max_pool2d(model.conv1(x), 2))
    x = F.relu(F.max_pool2d(model.conv2(x), 2))
    x = F.relu(model.fc1(torch.flatten(x, 1)))
    return F.log_softmax(model.fc2(x), dim=1)


def functional_mlp(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = F.relu(model.fc1(torch.flatten(x, 1)))
    x = F.relu(model.fc2(x))
    return F.log_softmax(model.fc3(x), dim=1)


FUNCTIONAL = {"cnn": functional_cnn, "mlp": functional_mlp}


@pytest.mark.parametrize(("name", "keys"), [("mlp", MLP_KEYS), ("cnn", CNN_KEYS)])
def test_state_dict_keys_are_unchanged(name, keys):
    assert list(build_model(name).state_dict()) == keys


def test_bundled_default_model_loads_and_answers_as_before():
    checkpoint = load_checkpoint(bundled_model_file())
    model = checkpoint.build()
    data = load_sample()
    x = normalize(data.test_images[:200]).unsqueeze(1)
    with torch.no_grad():
        now = model(x)
        if checkpoint.model_name in FUNCTIONAL:  # the forward as written before the stages
            assert torch.equal(now, FUNCTIONAL[checkpoint.model_name](model, x))
    accuracy = (now.argmax(1) == data.test_labels[:200]).float().mean()
    assert accuracy > 0.9  # a trained model, not random weights that happen to load


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_a_checkpoint_saved_before_the_stages_loads_and_answers_the_same(tmp_path, name):
    """A file holding only the old parameter names (no module for ReLU or pooling)."""
    torch.manual_seed(4)
    old = build_model(name)
    state = {key: value.clone() for key, value in old.state_dict().items()}
    path = save_checkpoint(
        Checkpoint(model_name=name, loss="nll", state_dict=state), tmp_path / "m.pt"
    )
    model = load_checkpoint(path).build()
    x = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(x), FUNCTIONAL[name](old.eval(), x))


def test_mlp_forward_equals_the_functional_form():
    torch.manual_seed(3)
    model = build_model("mlp").eval()
    x = torch.randn(8, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(x), functional_mlp(model, x))


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("loss", ["nll", "ce"])
def test_every_model_builds_answers_and_declares_hookable_stages(name, loss):
    model = build_model(name, loss).eval()
    modules = dict(model.named_modules())
    with torch.no_grad():
        out = model(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 10)
    if loss == "nll":
        assert torch.allclose(out.exp().sum(1), torch.ones(4), atol=1e-5)
    spec = MODELS[name]
    assert spec.stages, f"{name} declares no stages"
    assert spec.stages[-1].kind == "logits"
    for stage in spec.stages:
        assert stage.module in modules, f"{name}.{stage.name}: no module {stage.module!r}"
        assert hasattr(modules[stage.weights], "weight")
    assert spec.embedding_stage is not None and spec.embedding_stage.kind != "logits"


def test_deep_sigmoid_preset_is_deep_and_uses_sigmoids():
    stages = MODELS["deep-sigmoid"].stages
    hidden = [s for s in stages if s.kind != "logits"]
    assert len(hidden) >= 6
    assert {s.activation for s in hidden} == {"sigmoid"}


def test_unknown_model_or_loss_is_a_user_error():
    with pytest.raises(UserError, match="unknown model"):
        build_model("resnet")
    with pytest.raises(UserError, match="unknown loss"):
        build_model("mlp", "mse")
