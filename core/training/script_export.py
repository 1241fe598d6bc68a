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
from pathlib import Path
from types import ModuleType

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


# The folder written beside a script whose run used the bundled sample (``write_exported``).
SAMPLE_FOLDER = "digit_lab_sample"
_EXPORTED_DATA_LINE = "EXPORTED_DATA = None  # filled in when written: where the sample was put"


@dataclass(frozen=True)
class ExportedScript:
    text: str
    suggested_name: str
    # True when the run used the bundled sample: ``write_exported`` writes it beside the script,
    # and the script reads it from there with no arguments and no network.
    travels_with_sample: bool = False


def data_used(config: TrainConfig) -> str:
    """The dataset a run with ``config`` trains on: "auto" is full MNIST when present, else the
    bundled sample (as ``core.data.mnist.load_mnist`` decides)."""
    from core.data.mnist import mnist_present

    if config.dataset == "auto":
        return "mnist" if mnist_present(config.data_dir) else "sample"
    return config.dataset


def export_script(
    config: TrainConfig,
    origin: str = "the Training tab's current settings",
    lr_changes: list[tuple[int, float]] | tuple = (),
) -> ExportedScript:
    """The whole script for ``config``; ``origin`` names the app run it came from (a comment).

    ``lr_changes`` [(step, lr), ...] (``RunResult.lr_changes``, changed mid-run) become steps in
    the script's schedule: from that 0-based step on the scheduled rate is scaled by lr / config.lr.
    """
    config.validate()
    sample = data_used(config) == "sample"
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
        "train_loss_call": _train_loss_code(config),
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
        **_data_values(sample, dataset_class),
        **_lr_step_values(config, list(lr_changes)),
    }
    name = f"train_{config.model}_{'sample' if sample else dataset_class.lower()}.py"
    return ExportedScript(_TEMPLATE.format(**values), name, sample)


def _data_values(sample: bool, dataset_class: str) -> dict[str, str]:
    """Where the script finds its data: the sample beside it (offline), or torchvision's folder."""
    if not sample:
        return {
            "data_setup": "",
            "data_source": "",
            "data_default": '"data"',
            "run_help": (
                "python this_script.py                    # downloads the data with torchvision\n"
                f"    python this_script.py --data DIR         # a local folder in torchvision's "
                f"layout (DIR/{dataset_class}/raw)"
            ),
        }
    return {
        "data_setup": (
            "HERE = os.path.dirname(os.path.abspath(__file__))\n"
            f"SAMPLE_FOLDER = {SAMPLE_FOLDER!r}  # the bundled sample, written beside this script\n"
            f"{_EXPORTED_DATA_LINE}\n"
        ),
        "data_source": _SAMPLE_FOLDER_SOURCE,
        "data_default": "sample_folder()",
        "run_help": (
            "python this_script.py                    # the app's bundled sample (4,000 train / "
            "1,000 test\n"
            f"        MNIST digits), written beside this script in {SAMPLE_FOLDER}/: offline\n"
            "    python this_script.py --data DIR         # full MNIST instead: downloaded into "
            "DIR by\n"
            "        torchvision (or read from DIR/MNIST/raw when it is already there)"
        ),
    }


_SAMPLE_FOLDER_SOURCE = '''def sample_folder():
    """The bundled sample: beside this script, else where it was written when exported."""
    beside = os.path.join(HERE, SAMPLE_FOLDER)
    if os.path.isdir(os.path.join(beside, "MNIST", "raw")) or EXPORTED_DATA is None:
        return beside
    return EXPORTED_DATA


'''


def _lr_step_values(config: TrainConfig, lr_changes: list[tuple[int, float]]) -> dict[str, str]:
    if not lr_changes:
        return {"lr_steps_source": "", "lr_step_call": ""}
    steps = [(int(step), float(lr) / config.lr) for step, lr in sorted(lr_changes)]
    source = (
        "# The learning rate was changed while the run trained in Digit Lab: from 0-based step S on,\n"
        "# the scheduled rate is multiplied by F (a constant rate becomes lr * F).\n"
        f"LR_STEPS = {steps!r}\n\n\n"
        "def set_lr_for_step(optimizer, scheduler, step):\n"
        "    scale = 1.0\n"
        "    for first, factor in LR_STEPS:\n"
        "        if step >= first:\n"
        "            scale = factor\n"
        '    base = scheduler.get_last_lr()[0] if scheduler is not None else SETTINGS["lr"]\n'
        "    for group in optimizer.param_groups:\n"
        '        group["lr"] = base * scale\n\n\n'
    )
    call = "set_lr_for_step(optimizer, scheduler, (epoch - 1) * len(loader) + batch)\n        "
    return {"lr_steps_source": source, "lr_step_call": call}


def write_exported(script: ExportedScript, path: str | Path) -> str:
    """Write ``script`` atomically at ``path`` (and the bundled sample beside it when its run
    used it); return the sentence that tells the learner how to run it."""
    from core.resources import sample_data_dir
    from core.storage.atomic import write_bytes_atomic, write_text_atomic

    path = Path(path)
    text = script.text
    name = path.name
    how = f"python {name} (one device) or torchrun --nproc_per_node=N {name}"
    if script.travels_with_sample:
        target = path.parent / SAMPLE_FOLDER / "MNIST" / "raw"
        try:
            target.mkdir(parents=True, exist_ok=True)
            for source in sorted((sample_data_dir() / "MNIST" / "raw").iterdir()):
                write_bytes_atomic(target / source.name, source.read_bytes())
        except OSError as exc:
            raise UserError(
                f"could not write the sample beside the script in {target}: {exc.strerror or exc}"
            ) from None
        exported = str((path.parent / SAMPLE_FOLDER).resolve())
        text = text.replace(_EXPORTED_DATA_LINE, f"EXPORTED_DATA = {exported!r}")
        how += (
            f"; the bundled sample it trained on is beside it in {SAMPLE_FOLDER}/, so it runs "
            f"offline with no arguments. For full MNIST: python {name} --data DIR "
            "(torchvision downloads it into DIR)"
        )
    write_text_atomic(path, text)
    return f"wrote {path}: {how}"


def _credit(dataset: str) -> str:
    """The dataset's citation and licence (core.data.datasets), wrapped for the docstring."""
    info = dataset_info(dataset)
    if info is None:
        return ""
    text = f"{info.citation} Licence: {info.licence}. {info.url}"
    return "\n    ".join(textwrap.wrap(text, 92))


def augmentation_source() -> str:
    """core/data/augment.py's definitions, verbatim, for a script whose run augments its batches.

    The definitions of the in-house module it uses (core/inference/strokes.py, the refit's stroke
    thinning) come first, so the script stands alone. Everything but the imports, the module
    docstrings and the GUI's example strip; the app's normalisation constants become the
    script's ``MEAN``/``STD`` and ``UserError`` a ValueError.
    """
    from core.data import augment
    from core.inference import strokes

    text = "\n\n\n".join(_definitions(module) for module in (strokes, augment))
    for old, new in (("MNIST_MEAN", "MEAN"), ("MNIST_STD", "STD"), ("UserError", "ValueError")):
        text = text.replace(old, new)
    return text


def _definitions(module: ModuleType) -> str:
    """A module's top-level statements, verbatim, without its docstring, its imports and the
    names in ``AUGMENT_LEFT_OUT``."""
    source = inspect.getsource(module)
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
    return "\n\n\n".join(parts)


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
    modules += ["functools"] if config.label_smoothing > 0 else []
    lines = [f"import {name}" for name in sorted(modules)]
    if config.augment:
        lines.append("from dataclasses import dataclass")
    return "\n".join(lines)


def _augment_block(config: TrainConfig) -> str:
    if not config.augment:
        return ""
    header = (
        "# Augmentation, as the app does it: each batch trains with a varied copy of every digit\n"
        "# (random per-sample affine warps and elastic distortion, on the training device;\n"
        "# core/data/augment.py).\n\n"
    )
    return header + augmentation_source() + "\n\n\n"


def _train_loss_code(config: TrainConfig) -> str:
    """The training loss as the engine computes it (``core.training.trainer.criterion``)."""
    if config.label_smoothing > 0:  # right for either head: see criterion
        return f"functools.partial(F.cross_entropy, label_smoothing={config.label_smoothing!r})"
    return "F.nll_loss" if config.loss == "nll" else "F.cross_entropy"


def _optimizer_code(config: TrainConfig) -> str:
    if config.optimizer == "adam":
        betas = (config.adam_beta1, config.adam_beta2)
        extra = "" if betas == (0.9, 0.999) else f", betas={betas!r}"
        return f"torch.optim.Adam(model.parameters(), lr={config.lr!r}{extra})"
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
    {run_help}
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
{data_setup}


{model_source}


{augment_source}{lr_steps_source}{data_source}def pick_device(local_rank):
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
        weight = 1.0
        if augmenter is not None:  # the clean digits and a varied copy of each
            data, target = augmenter.with_copies(data, target)
            weight = augmenter.loss_weight
        {lr_step_call}optimizer.zero_grad(set_to_none=True)
        loss = {train_loss_call}(model(data), target)
        (loss * weight).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if log and batch % 100 == 0:
            print(f"epoch {{epoch}} [{{batch * loader.batch_size}}/{{len(loader.dataset)}}] loss {{loss.item():.4f}}")


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
    parser.add_argument("--data", default={data_default}, help="dataset folder (torchvision layout)")
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
    try:
        train_set = hold_out(load_split(args.data, True, download))
        test_set = load_split(args.data, False, download)
    except (OSError, RuntimeError) as exc:  # offline, or a folder without the files
        why = " ".join(str(exc).split())[:200]
        raise SystemExit(
            f"error: no {dataset_class} data in {{os.path.abspath(args.data)}} and it could not be "
            f"downloaded ({{why}}); give --data DIR with DIR/{dataset_class}/raw"
        ) from None
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
