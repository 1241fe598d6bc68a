"""Export a training run as one standalone PyTorch script (``export-script``, "Export as script…").

The script is what a learner takes away: the run's exact model class (its source, taken from the
registry, so it cannot drift from what the app trains), loss, optimizer, batch size, epochs, seed
and schedule, written like pytorch/examples' ``mnist/main.py`` — a ``train()`` and a ``test()``,
torchvision's dataset class with ``download=True`` or a local ``--data`` folder — and PyTorch's own
``DistributedDataParallel`` + ``DistributedSampler`` when started by ``torchrun``. It imports only
torch and torchvision, and saves a checkpoint in the app's format, so the app can load the result.
"""

from __future__ import annotations

import ast
import inspect
import pprint
import textwrap
from dataclasses import dataclass

from core.data.datasets import DATASET_CHOICES, MNIST_MEAN, MNIST_STD, dataset_info
from core.data.mnist import HELD_OUT_SEED
from core.errors import UserError
from core.storage.checkpoint import FORMAT, FORMAT_VERSION
from core.training.models import MODELS
from core.training.train_types import MAX_HELD_OUT, TrainConfig

# app dataset name -> (torchvision class, what the learner reads), from core.data.datasets; a run on
# the sample becomes a script on full MNIST; "folder" (your own pictures) has no torchvision class.
TORCHVISION_DATASETS: dict[str, tuple[str, str]] = {
    name: (info.torchvision_class, info.title)
    for name in DATASET_CHOICES
    if name != "folder" and (info := dataset_info(name)) is not None
}


@dataclass(frozen=True)
class ExportedScript:
    text: str
    suggested_name: str


def export_script(
    config: TrainConfig, origin: str = "the Training tab's current settings"
) -> ExportedScript:
    """The whole script for ``config``; ``origin`` names the app run it came from (a comment)."""
    config.validate()
    if config.dataset not in TORCHVISION_DATASETS:
        raise UserError(
            f"runs on the {config.dataset!r} dataset cannot be exported as a script yet"
        )
    dataset_class, dataset_title = TORCHVISION_DATASETS[config.dataset]
    spec = MODELS[config.model]
    model_class = type(spec.factory(config.loss == "nll"))
    values = {
        "title": spec.title,
        "dataset_title": dataset_title,
        "credit": _credit(config.dataset),
        "origin": origin,
        "settings": _settings_line(config),
        "model_source": textwrap.dedent(inspect.getsource(model_class)).strip(),
        "augment_source": _augment_block(config),
        "stdlib_imports": _stdlib_imports(config),
        "augment_setup": (
            "BatchAugmenter(SETTINGS['seed'], device)"
            if config.augment
            else "None  # not augmented"
        ),
        "model_class": model_class.__name__,
        "log_probs": config.loss == "nll",
        "loss_call": "F.nll_loss" if config.loss == "nll" else "F.cross_entropy",
        "dataset_class": dataset_class,
        "optimizer": _optimizer_code(config),
        "scheduler": _scheduler_code(config),
        "model_name": config.model,
        "loss": config.loss,
        "dataset": config.dataset,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mean": MNIST_MEAN,
        "std": MNIST_STD,
        "holdout": config.holdout,
        "max_held_out": MAX_HELD_OUT,
        "held_out_seed": HELD_OUT_SEED,
        "config": pprint.pformat(
            {k: v for k, v in config.to_dict().items() if k != "data_dir"}, sort_dicts=False
        ),
    }
    return ExportedScript(
        _TEMPLATE.format(**values), f"train_{config.model}_{dataset_class.lower()}.py"
    )


def _credit(dataset: str) -> str:
    """The dataset's citation and licence (core.data.datasets), wrapped for the docstring."""
    info = dataset_info(dataset)
    if info is None:
        return ""
    text = f"{info.citation} Licence: {info.licence}. {info.url}"
    return "\n    ".join(textwrap.wrap(text, 92))


def augmentation_source() -> str:
    """core/data/augment.py's definitions, verbatim, for a script whose run augments its batches.

    Everything but the imports, the module docstring and the GUI's example strip; the app's
    normalisation constants become the script's ``MEAN``/``STD`` and ``UserError`` a ValueError.
    """
    from core.data import augment

    source = inspect.getsource(augment)
    tree = ast.parse(source)
    lines = source.splitlines()
    parts = []
    for node in tree.body[1:]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if getattr(node, "name", "") in AUGMENT_LEFT_OUT:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        parts.append("\n".join(lines[start - 1 : node.end_lineno]))
    text = "\n\n\n".join(parts)
    for old, new in (("MNIST_MEAN", "MEAN"), ("MNIST_STD", "STD"), ("UserError", "ValueError")):
        text = text.replace(old, new)
    return text


AUGMENT_LEFT_OUT = ("augment_examples",)


def _settings_line(config: TrainConfig) -> str:
    optimizer = f"{config.optimizer} lr {config.lr:g}"
    if config.optimizer == "sgd":
        optimizer += f" momentum {config.momentum:g}"
    augment = "on" if config.augment else "off"
    return (
        f"model {config.model}, loss {config.loss}, optimizer {optimizer}, batch "
        f"{config.batch_size}, {config.epochs} epochs, seed {config.seed}, schedule "
        f"{config.schedule}, augmentation {augment}"
    )


def _stdlib_imports(config: TrainConfig) -> str:
    modules = ["argparse", "gzip", "os", "shutil"] + (["math"] if config.augment else [])
    lines = [f"import {name}" for name in sorted(modules)]
    if config.augment:
        lines.append("from dataclasses import dataclass")
    return "\n".join(lines)


def _augment_block(config: TrainConfig) -> str:
    if not config.augment:
        return ""
    header = (
        "# Augmentation, as the app does it: random per-sample affine warps, elastic distortion\n"
        "# and stroke thickness, on whole batches on the training device (core/data/augment.py).\n\n"
    )
    return header + augmentation_source() + "\n\n\n"


def _optimizer_code(config: TrainConfig) -> str:
    if config.optimizer == "adam":
        return f"torch.optim.Adam(model.parameters(), lr={config.lr!r})"
    return f"torch.optim.SGD(model.parameters(), lr={config.lr!r}, momentum={config.momentum!r})"


def _scheduler_code(config: TrainConfig) -> str:
    if config.schedule == "onecycle":
        return (
            f"torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr={config.lr!r}, "
            "total_steps=epochs * len(train_loader), cycle_momentum=False)"
        )
    return "None  # constant learning rate"


_TEMPLATE = '''\
"""Train {title} on {dataset_title}: a run exported from Digit Lab.

Exported from: {origin}.
Settings: {settings}.
Data: {credit}

Run it on one device (cuda, then mps, then cpu):
    python this_script.py                    # downloads the data with torchvision
    python this_script.py --data DIR         # a local folder in torchvision's layout (DIR/{dataset_class}/raw)
Run it on N GPUs (or N CPU processes with gloo) with PyTorch's own distributed engine:
    torchrun --nproc_per_node=N this_script.py

Only torch and torchvision are needed. The saved model loads in Digit Lab (Training tab > Load).
"""

from __future__ import annotations

{stdlib_imports}

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets

SETTINGS = {config}
MEAN, STD = {mean!r}, {std!r}


{model_source}


{augment_source}def pick_device(local_rank):
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def unpack_local_folder(root, dataset_class):
    """torchvision reads the extracted IDX files; extract any that lie there only gzipped."""
    raw = os.path.join(root, dataset_class.__name__, "raw")
    for url, _md5 in dataset_class.resources:
        packed = os.path.join(raw, os.path.basename(url))
        if os.path.exists(packed) and not os.path.exists(packed[:-3]):
            with gzip.open(packed, "rb") as source, open(packed[:-3], "wb") as target:
                shutil.copyfileobj(source, target)


def hold_out(train_set):
    """Keep aside the digits the app keeps aside (to calibrate its confidence): the same run."""
    images, labels = train_set.tensors
    count = max(0, min({max_held_out}, int(len(labels) * {holdout!r}), len(labels) - 1))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed({held_out_seed}))
    kept = order[count:].sort().values
    return TensorDataset(images[kept], labels[kept])


def load_split(root, train, download):
    """The whole split as two tensors, normalised as the app does (mean {mean}, std {std})."""
    split = datasets.{dataset_class}(root, train=train, download=download)
    images = split.data.float().div(255).sub(MEAN).div(STD).unsqueeze(1)
    return TensorDataset(images, split.targets)


def train(model, device, loader, optimizer, scheduler, augmenter, epoch, log):
    model.train()
    for batch, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        if augmenter is not None:
            data = augmenter(data)
        optimizer.zero_grad(set_to_none=True)
        loss = {loss_call}(model(data), target)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if log and batch % 100 == 0:
            print(f"epoch {{epoch}} [{{batch * len(data)}}/{{len(loader.dataset)}}] loss {{loss.item():.4f}}")


def test(model, device, loader, log):
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            total_loss += {loss_call}(output, target, reduction="sum").item()
            correct += (output.argmax(dim=1) == target).sum().item()
    count = len(loader.dataset)
    if log:
        print(f"test loss {{total_loss / count:.4f}}, test accuracy {{100.0 * correct / count:.2f}}%")
    return correct / count, total_loss / count


def save_for_digit_lab(model, path, accuracy, loss):
    """The app's model-file format: plain data and tensors, loadable with weights_only=True."""
    state = {{k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    payload = {{
        "format": {format!r},
        "format_version": {format_version!r},
        "model_name": {model_name!r},
        "loss": {loss!r},
        "state_dict": state,
        "config": SETTINGS,
        "metrics": {{"test_accuracy": accuracy, "test_loss": loss}},
        "dataset": {dataset!r},
        "normalization": [MEAN, STD],
        "app_version": "exported script",
    }}
    torch.save(payload, path + ".tmp")
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data", help="dataset folder (torchvision layout)")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--out", default="model.pt", help="where the trained model is saved")
    args = parser.parse_args()

    distributed = "WORLD_SIZE" in os.environ  # set by torchrun
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(local_rank)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    rank = dist.get_rank() if distributed else 0
    log = rank == 0
    torch.manual_seed(SETTINGS["seed"])

    download = not os.path.isdir(os.path.join(args.data, "{dataset_class}", "raw"))
    if not download:
        unpack_local_folder(args.data, datasets.{dataset_class})
    if distributed and rank != 0 and download:
        dist.barrier()  # rank 0 downloads first
    train_set = hold_out(load_split(args.data, True, download))
    test_set = load_split(args.data, False, download)
    if distributed and rank == 0 and download:
        dist.barrier()

    if distributed:
        sampler = DistributedSampler(train_set, seed=SETTINGS["seed"])
    else:  # the app's order: a fresh permutation each epoch from a generator seeded once
        shuffle = torch.Generator().manual_seed(SETTINGS["seed"])
        sampler = RandomSampler(train_set, generator=shuffle)
    train_loader = DataLoader(train_set, batch_size=SETTINGS["batch_size"], sampler=sampler)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = {model_class}(log_probs={log_probs!r}).to(device)
    if distributed:
        model = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
    optimizer = {optimizer}
    epochs = args.epochs
    scheduler = {scheduler}
    augmenter = {augment_setup}

    for epoch in range(1, epochs + 1):
        if distributed:
            sampler.set_epoch(epoch)
        train(model, device, train_loader, optimizer, scheduler, augmenter, epoch, log)
        if log:
            accuracy, loss = test(model, device, test_loader, log)

    if log:
        plain = model.module if distributed else model
        save_for_digit_lab(plain, args.out, accuracy, loss)
        print(f"saved {{args.out}}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
