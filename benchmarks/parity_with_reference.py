"""Our training step is the official CycleGAN objective: one step from the same weights and images
as the PyTorch reference gives the same losses and the same updated weights.

    python benchmarks/parity_with_reference.py \
        --reference ../shared/peers/torch_cyclegan_reference.py

Our model (ResNet-6 generators, 70x70 PatchGANs, LSGAN, cycle 10, identity 0.5, pool 50, Adam
2e-4 / 0.5) is built small (ngf 8, ndf 8, 32x32, batch 1); its initial weights are copied into the
reference's networks (`generator`, `discriminator`, `Pool` imported from the reference file), and
both take one full training step (both generators, then both discriminators through the pools)
on the same two images. The reference's step is its `main()`'s `_step`, repeated here line for
line because it is a closure. Needs PyTorch (the `.[peer]` extra). Writes JSON and Markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402
from torch import nn  # noqa: E402

from cyclegan_tf.config import CycleGANConfig  # noqa: E402
from cyclegan_tf.training import build_model  # noqa: E402


def load_reference(path: str):
    spec = importlib.util.spec_from_file_location("torch_cyclegan_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kernel_layers(keras_model) -> list:
    return [layer for layer in keras_model.layers if hasattr(layer, "kernel")]


def copy_weights(keras_model, torch_model: nn.Module) -> int:
    """Keras (kh, kw, in, out) conv / (kh, kw, out, in) transposed-conv kernels into PyTorch's
    (out, in, kh, kw) / (in, out, kh, kw), in network order; returns the layers copied."""
    ours = kernel_layers(keras_model)
    theirs = [m for m in torch_model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    if len(ours) != len(theirs):
        raise ValueError(f"{keras_model.name}: {len(ours)} conv layers, reference {len(theirs)}")
    with torch.no_grad():
        for layer, module in zip(ours, theirs, strict=True):
            kernel = np.asarray(layer.kernel)
            module.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            module.bias.copy_(torch.from_numpy(np.asarray(layer.bias)))
    return len(ours)


def to_torch(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images.transpose(0, 3, 1, 2).copy())


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True, help="torch_cyclegan_reference.py")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--ngf", type=int, default=8)
    parser.add_argument("--ndf", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE / "results" / "parity_with_reference"))
    args = parser.parse_args(argv)
    ref = load_reference(args.reference)
    torch.set_num_threads(1)

    config = CycleGANConfig(
        generator="resnet_6blocks", ngf=args.ngf, ndf=args.ndf, crop_size=args.size,
        load_size=args.size, batch_size=1, seed=args.seed,
        precision="float32",  # the reference runs in float32: a 1e-4 check needs the same
    )  # fmt: skip
    model = build_model(config, jit_compile=False)
    # The reference's names: GA = G (A->B), GB = F; DA judges B (fake B), DB judges A.
    GA, GB = ref.generator(args.ngf, 6), ref.generator(args.ngf, 6)
    DA, DB = ref.discriminator(args.ndf, 3), ref.discriminator(args.ndf, 3)
    pairs = [(model.generator_ab, GA), (model.generator_ba, GB),
             (model.discriminator_b, DA), (model.discriminator_a, DB)]  # fmt: skip
    copied = sum(copy_weights(k, t) for k, t in pairs)

    rng = np.random.default_rng(args.seed)
    real_a = rng.uniform(-1, 1, (1, args.size, args.size, 3)).astype("float32")
    real_b = rng.uniform(-1, 1, (1, args.size, args.size, 3)).astype("float32")
    realA, realB = to_torch(real_a), to_torch(real_b)

    # Forward: the same translation.
    with torch.no_grad():
        forward_diff = float(np.abs(
            np.asarray(model.generator_ab(real_a)).transpose(0, 3, 1, 2) - GA(realA).numpy()
        ).max())  # fmt: skip

    # One step of ours.
    logs = {k: float(v) for k, v in model.train_step((real_a, real_b)).items()}

    # One step of the reference (its _step, line for line).
    optG = torch.optim.Adam(list(GA.parameters()) + list(GB.parameters()), lr=2e-4,
                            betas=(0.5, 0.999))  # fmt: skip
    optD = torch.optim.Adam(list(DA.parameters()) + list(DB.parameters()), lr=2e-4,
                            betas=(0.5, 0.999))  # fmt: skip
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    poolA, poolB = ref.Pool(), ref.Pool()
    lam, lid = 10.0, 0.5

    def gan(pred, real):
        return mse(pred, torch.ones_like(pred) if real else torch.zeros_like(pred))

    fakeB = GA(realA)
    recA = GB(fakeB)
    fakeA = GB(realB)
    recB = GA(fakeA)  # noqa: E702
    for p in list(DA.parameters()) + list(DB.parameters()):
        p.requires_grad_(False)
    optG.zero_grad()
    idt = {"b": l1(GA(realB), realB), "a": l1(GB(realA), realA)}
    terms = {"G": gan(DA(fakeB), True), "F": gan(DB(fakeA), True),
             "cycle": l1(recA, realA) + l1(recB, realB)}  # fmt: skip
    loss_G = terms["G"] + terms["F"] + terms["cycle"] * lam + (idt["a"] + idt["b"]) * lam * lid
    loss_G.backward()
    optG.step()
    for p in list(DA.parameters()) + list(DB.parameters()):
        p.requires_grad_(True)
    optD.zero_grad()
    fb = poolB.query(fakeB.detach())
    fa = poolA.query(fakeA.detach())  # noqa: E702
    lDA = (gan(DA(realB), True) + gan(DA(fb), False)) * 0.5
    lDB = (gan(DB(realA), True) + gan(DB(fa), False)) * 0.5
    lDA.backward()
    lDB.backward()
    optD.step()  # noqa: E702
    reference_losses = {  # as plain numbers
        "G": terms["G"].item(), "F": terms["F"].item(), "cycle": terms["cycle"].item(),
        "identity": (idt["a"] + idt["b"]).item(), "D_B": lDA.item(), "D_A": lDB.item(),
    }  # fmt: skip

    losses = {
        name: {"ours": logs[name], "reference": value, "relative": relative(logs[name], value)}
        for name, value in reference_losses.items()
    }
    lr = 2e-4
    kernels, biases = [], []
    conv_types = (nn.Conv2d, nn.ConvTranspose2d)
    for keras_model, torch_model in pairs:
        theirs = [m for m in torch_model.modules() if isinstance(m, conv_types)]
        for layer, module in zip(kernel_layers(keras_model), theirs, strict=True):
            ours = np.asarray(layer.kernel).transpose(3, 2, 0, 1)
            kernels.append(np.abs(ours - module.weight.detach().numpy()).ravel() / lr)
            biases.append(np.abs(np.asarray(layer.bias) - module.bias.detach().numpy()) / lr)
    # |w_ours - w_ref| after the step, in units of lr
    difference = np.concatenate(kernels + biases)
    kernel_difference, bias_difference = np.concatenate(kernels), np.concatenate(biases)
    report = {
        "command": "python benchmarks/parity_with_reference.py " + " ".join(argv or sys.argv[1:]),
        "torch": torch.__version__,
        "machine": describe_machine(),
        "config": {
            "generator": "resnet_6blocks",
            "ngf": args.ngf,
            "ndf": args.ndf,
            "size": args.size,
            "batch": 1,
        },  # fmt: skip
        "conv_layers_copied": copied,
        "parameters": int(difference.size),
        "forward_max_abs_diff": forward_diff,
        "losses": losses,
        "weights_after_step": {
            "max_diff_in_lr": float(difference.max()),
            "p99_9_diff_in_lr": float(np.percentile(difference, 99.9)),
            "share_within_1pct_of_lr": float(np.mean(difference <= 0.01)),
            "kernels_max_diff_in_lr": float(kernel_difference.max()),
            "kernels_share_within_1pct_of_lr": float(np.mean(kernel_difference <= 0.01)),
            "biases_max_diff_in_lr": float(bias_difference.max()),
            "biases_share_within_1pct_of_lr": float(np.mean(bias_difference <= 0.01)),
        },
    }
    report["losses_agree_1e-4"] = all(v["relative"] <= 1e-4 for v in losses.values())
    # Kernels: at least 99.9% within 1% of lr. The rest are weights whose gradient is below the
    # float32 rounding of the sums, where Adam's normalised step may take either sign. Biases of
    # a conv followed by instance norm have a gradient of exactly zero in real arithmetic (the
    # mean subtraction cancels them): both frameworks step them by rounding noise, so they are
    # reported, not judged.
    report["passed"] = report["losses_agree_1e-4"] and (
        report["weights_after_step"]["kernels_share_within_1pct_of_lr"] >= 0.999
    )
    write_report(report, args.out, to_markdown)
    return 0 if report["passed"] else 1


def to_markdown(report: dict) -> str:
    w = report["weights_after_step"]
    lines = [
        "# One training step: cyclegan-tf vs the official CycleGAN in PyTorch, same start",
        "",
        f"`{report['command']}` (PyTorch {report['torch']}; config {report['config']}; "
        f"{report['conv_layers_copied']} conv layers copied from ours into the reference, "
        f"{report['parameters']:,} parameters).",
        "",
        markdown_machine(report["machine"]),
        "",
        f"Forward G(A) before the step: max abs difference {report['forward_max_abs_diff']:.2e}.",
        "",
        "| loss (before the update) | ours | reference | relative difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, v in report["losses"].items():
        lines.append(f"| {name} | {v['ours']:.6f} | {v['reference']:.6f} | {v['relative']:.1e} |")
    lines += [
        "",
        f"Losses agree to 1e-4 relative: **{'yes' if report['losses_agree_1e-4'] else 'no'}**.",
        "",
        "Weights after the step (both generators, then both discriminators; Adam's first step "
        "moves a weight by about lr = 2e-4, so differences are given in units of lr): max "
        f"{w['max_diff_in_lr']:.3f} lr, 99.9th percentile {w['p99_9_diff_in_lr']:.4f} lr, "
        f"{w['share_within_1pct_of_lr']:.2%} of the parameters within 1% of lr.",
        "",
        f"- conv kernels: max {w['kernels_max_diff_in_lr']:.3f} lr, "
        f"{w['kernels_share_within_1pct_of_lr']:.2%} within 1% of lr;",
        f"- conv biases: max {w['biases_max_diff_in_lr']:.3f} lr, "
        f"{w['biases_share_within_1pct_of_lr']:.2%} within 1% of lr.",
        "",
        "Biases of a conv followed by instance norm have a gradient of exactly zero in real "
        "arithmetic (the mean subtraction cancels them), so both frameworks move them by Adam's "
        "normalised rounding noise, up to about 2 lr either way: reported, not judged. The check "
        "passes when the losses agree to 1e-4 relative and at least 99.9% of the kernels are "
        f"within 1% of lr: **{'passed' if report['passed'] else 'failed'}**.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
