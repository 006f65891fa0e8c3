"""Every hyperparameter in one frozen dataclass, with the paper's defaults.

The CLI and the notebook both build a `CycleGANConfig`; it is saved as JSON next to every
checkpoint and export so a file always says how it was made.

Example:
    config = CycleGANConfig.preset("tiny", n_epochs=2)
    config.save_json("runs/demo/config.json")
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cyclegan_tf import registry

GAN_MODES = ("lsgan", "vanilla", "hinge", "wgan", "wgan-gp")
# Losses whose discriminator compares logits with targets, which label noise can soften.
TARGET_GAN_MODES = ("lsgan", "vanilla")
# Generators with residual blocks whose kernel size `kernel_size` sets, and generators with an
# encoder output that the embedding discriminator can judge (`networks.ENCODER_OUTPUTS`).
KERNEL_SIZE_GENERATORS = ("resnet_9blocks", "resnet_6blocks")
# Generators that normalize their first conv per image (so they cannot see an image's mean
# colour) and can take the input image again at their last conv (`input_skip`).
INPUT_SKIP_GENERATORS = ("resnet_9blocks", "resnet_6blocks", "mobile", "mobile_deep")
NORMS = ("instance", "batch", "none")
INIT_TYPES = ("normal", "xavier", "kaiming")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")

# Fields that change the shape of some saved variable: a checkpoint is only compatible with a
# model whose config agrees on all of them.
ARCHITECTURE_FIELDS = (
    "generator",
    "discriminator",
    "ngf",
    "ndf",
    "n_layers_d",
    "norm",
    "use_dropout",
    "channels",
    "crop_size",
    "pool_size",
    "kernel_size",
    "input_skip",
)


def _opt(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field whose help text the CLI shows."""
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass(frozen=True)
class CycleGANConfig:
    """Hyperparameters of a CycleGAN run; defaults are those of Zhu et al. (2017)."""

    # Networks
    generator: str = _opt("resnet_9blocks", "generator architecture", choices="generators")
    discriminator: str = _opt("basic", "discriminator architecture", choices="discriminators")
    ngf: int = _opt(64, "generator filters in the first conv layer", minimum=1)
    ndf: int = _opt(64, "discriminator filters in the first conv layer", minimum=1)
    n_layers_d: int = _opt(
        3,
        "conv layers of the 'n_layers' discriminator (1: 16x16 patches, 2: 34x34, 3: 70x70; "
        "'basic' is 3)",
        minimum=1,
    )
    norm: str = _opt("instance", "normalization layer", choices=NORMS)
    use_dropout: bool = _opt(False, "dropout (0.5) in the generator, as pix2pix")
    init_type: str = _opt("normal", "weight initialization", choices=INIT_TYPES)
    init_gain: float = _opt(0.02, "scale of the weight initialization", minimum=0)
    channels: int = _opt(3, "image channels of both domains", minimum=1)
    kernel_size: int = _opt(
        3,
        "kernel size of the ResNet generators' residual-block convs (3 = paper; odd)",
        minimum=1,
    )
    input_skip: bool = _opt(
        False,
        "feed the input image to the generator's last conv too, past every norm: the paper's "
        "generator normalizes its first conv per image, so G(x + c) == G(x) and it cannot tell "
        "one flat colour from another (ResNet and mobile generators)",
    )
    # Objective
    gan_mode: str = _opt("lsgan", "adversarial loss", choices=GAN_MODES)
    lambda_gan: float = _opt(
        1.0, "weight of the adversarial terms (0 switches them off)", minimum=0
    )
    lambda_a: float = _opt(
        10.0, "weight of the forward cycle loss A->B->A (0 switches it off)", minimum=0
    )
    lambda_b: float = _opt(
        10.0, "weight of the backward cycle loss B->A->B (0 switches it off)", minimum=0
    )
    lambda_identity: float = _opt(
        0.5,
        "identity loss weight, as a fraction of lambda_a/lambda_b (0 switches it off)",
        minimum=0,
    )
    lambda_tv: float = _opt(
        0.0,
        "weight of a total-variation term on G(A): a smoothness prior for flat target styles "
        "such as anime (White-box Cartoonization; 0 switches it off, as the paper has it)",
        minimum=0,
    )
    lambda_gp: float = _opt(10.0, "gradient penalty weight for gan_mode 'wgan-gp'", minimum=0)
    wgan_clip: float = _opt(
        0.01, "gan_mode 'wgan': critic weights are clipped to +-this after each update", minimum=0
    )
    n_critic: int = _opt(
        5, "gan_mode 'wgan': critic updates (each on its own batch) per generator update", minimum=1
    )
    wgan_lr: float = _opt(
        5e-5,
        "gan_mode 'wgan': RMSprop learning rate of every network (the WGAN paper's)",
        minimum=0,
    )
    lambda_embedding: float = _opt(
        0.0,
        "weight of the embedding discriminator term: a third discriminator tells the two "
        "generators' encoder outputs apart and the generators learn to fool it (XGAN; 0: off)",
        minimum=0,
    )
    fake_label_noise: float = _opt(
        0.0,
        "discriminator targets for fakes drawn from U(0, this) per element (lsgan/vanilla)",
        minimum=0,
        below=1,
    )
    real_label_noise: float = _opt(
        0.0,
        "discriminator targets for real images drawn from U(1 - this, 1) (lsgan/vanilla)",
        minimum=0,
        below=1,
    )
    generator_ema: float = _opt(
        0.0,
        "keep an exponential moving average of the generators' weights with this decay (e.g. "
        "0.99: the last ~100 steps) and save, sample and score it instead of the live weights "
        "(0: off, as in the paper)",
        minimum=0,
        below=1,
    )
    pool_size: int = _opt(
        50, "generated images kept per direction for the discriminators (0: none)", minimum=0
    )
    # Optimization
    lr: float = _opt(2e-4, "initial Adam learning rate, generators and discriminators", minimum=0)
    beta_1: float = _opt(0.5, "Adam beta_1", minimum=0, below=1)
    beta_2: float = _opt(0.999, "Adam beta_2", minimum=0, below=1)
    n_epochs: int = _opt(100, "epochs at the initial learning rate", minimum=0)
    n_epochs_decay: int = _opt(
        100, "epochs of linear decay of the learning rate to zero", minimum=0
    )
    batch_size: int = _opt(1, "images per domain in a batch", minimum=1)
    # A precision is a training choice: saved generators compute in float32 whatever trained
    # them (`cyclegan_tf.dtype_policies`), so a bf16-trained one exports to int8 TFLite as well.
    precision: str = _opt(
        "auto",
        "compute precision; auto: mixed_bfloat16 on a CPU with native bf16 (AVX512-BF16/AMX), "
        "mixed_float16 on a GPU of compute capability >= 7.0, float32 otherwise",
        choices=PRECISIONS,
    )
    seed: int = _opt(0, "random seed for weights, data order and augmentation", minimum=0)
    # Where it runs (not architecture: may change on resume)
    distribute: str = _opt(
        "none",
        "none: one device; mirrored: every local GPU (tf.distribute.MirroredStrategy); "
        "multiworker: the worker processes of TF_CONFIG (MultiWorkerMirroredStrategy); "
        "batch_size is then the global batch",
        choices=registry.DISTRIBUTE_MODES,
    )
    peer_timeout: float = _opt(
        120.0,
        "multiworker: seconds to wait for every worker of TF_CONFIG to connect before stopping",
        minimum=1,
    )
    # Data
    data: str = _opt(
        "synthetic",
        "dataset: a folder in the trainA/trainB layout, 'A_DIR,B_DIR', 'tfds:cycle_gan/NAME' "
        "or 'synthetic' (embedded, no download)",
    )
    load_size: int = _opt(286, "images are resized to this size before cropping", minimum=1)
    crop_size: int = _opt(256, "training images are cropped to this size", minimum=1)
    preprocess: str = _opt("resize_and_crop", "preprocessing mode", choices=PREPROCESS_MODES)
    no_flip: bool = _opt(False, "disable random horizontal flips")
    max_dataset_size: int = _opt(0, "use at most this many images per domain (0: all)", minimum=0)
    synthetic_size: int = _opt(
        400, "images per domain in the embedded synthetic training set", minimum=1
    )

    def __post_init__(self) -> None:
        self.validate()

    # -- validation ---------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise a ValueError naming the option, the bad value and what is allowed.

        Each field's own rule (choices, minimum, below) is declared beside it; the rules that
        tie fields together follow.
        """
        for f in dataclasses.fields(self):
            _check_field(f, getattr(self, f.name))
        if self.n_epochs + self.n_epochs_decay == 0:
            raise ValueError("n_epochs + n_epochs_decay must be at least 1")
        if "crop" in self.preprocess and self.crop_size > self.load_size:
            raise ValueError(
                f"crop_size ({self.crop_size}) must not be larger than load_size "
                f"({self.load_size}) with preprocess '{self.preprocess}'"
            )
        if self.preprocess in ("none", "scale_width") and self.batch_size != 1:
            raise ValueError(
                f"preprocess '{self.preprocess}' keeps image sizes different, so batch_size "
                f"must be 1, got {self.batch_size}"
            )
        if self.preprocess in ("none", "scale_width") and self.pool_size:
            raise ValueError(
                f"preprocess '{self.preprocess}' gives images of different sizes, which the image "
                f"pool cannot store: set pool_size to 0 (got {self.pool_size})"
            )
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (3, 5, 7, ...), got {self.kernel_size}")
        if self.kernel_size != 3 and self.generator not in KERNEL_SIZE_GENERATORS:
            raise ValueError(
                f"kernel_size sets the residual-block convs of the generators "
                f"{list(KERNEL_SIZE_GENERATORS)}; generator '{self.generator}' has none"
            )
        if self.input_skip and self.generator not in INPUT_SKIP_GENERATORS:
            raise ValueError(
                f"input_skip feeds the image past the first norm of the generators "
                f"{list(INPUT_SKIP_GENERATORS)}; generator '{self.generator}' has no norm there "
                f"(its first conv keeps the colour already): add --no-input-skip"
            )
        if self.n_layers_d != 3 and self.discriminator != "n_layers":
            # The official code ignores it here too; a silent no-op misled two of our trials.
            raise ValueError(
                f"n_layers_d sets the 'n_layers' discriminator; discriminator "
                f"'{self.discriminator}' has a fixed depth, so n_layers_d {self.n_layers_d} "
                f"would be ignored: add --discriminator n_layers"
            )
        noisy = [n for n in ("fake_label_noise", "real_label_noise") if getattr(self, n) > 0]
        if noisy and self.gan_mode not in TARGET_GAN_MODES:
            raise ValueError(
                f"{' and '.join(noisy)} soften the discriminator's targets, which gan_mode "
                f"'{self.gan_mode}' does not have; use one of {list(TARGET_GAN_MODES)}"
            )
        multiple = registry.generator_size_multiple(self.generator)
        if self.crop_size % multiple:
            raise ValueError(
                f"crop_size must be a multiple of {multiple} for generator '{self.generator}', "
                f"got {self.crop_size}"
            )

    # -- derived values -----------------------------------------------------------------------
    @property
    def total_epochs(self) -> int:
        return self.n_epochs + self.n_epochs_decay

    @property
    def critic_updates(self) -> int:
        """Discriminator updates per training step, each on its own batch (WGAN: n_critic)."""
        return self.n_critic if self.gan_mode == "wgan" else 1

    @property
    def step_batch_size(self) -> int:
        """Images per domain that one training step takes from the data."""
        return self.batch_size * self.critic_updates

    @property
    def initial_lr(self) -> float:
        """The learning rate before any decay: `wgan_lr` for WGAN's RMSprop, else `lr`."""
        return self.wgan_lr if self.gan_mode == "wgan" else self.lr

    def architecture(self) -> dict[str, Any]:
        """What a checkpoint must agree on to be loaded into this model: the fields that shape
        a variable, whether the embedding discriminator and the generators' average exist, and
        the optimizers' kind."""
        return {
            **{name: getattr(self, name) for name in ARCHITECTURE_FIELDS},
            "embedding_discriminator": self.lambda_embedding > 0,
            "generator_average": self.generator_ema > 0,
            "optimizer": "rmsprop" if self.gan_mode == "wgan" else "adam",
        }

    def replace(self, **changes: Any) -> CycleGANConfig:
        """A copy with some fields changed (and validated)."""
        _check_field_names(changes)
        return dataclasses.replace(self, **changes)

    # -- presets and JSON ---------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> CycleGANConfig:
        """A named recipe (see `PRESETS`), with some fields overridden."""
        _check_choice("preset", name, tuple(PRESETS))
        _check_field_names(overrides)
        return cls(**{**PRESETS[name], **overrides})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CycleGANConfig:
        """Build from a dict; unknown keys (from a newer version) are an error, not ignored."""
        _check_field_names(values)
        return cls(**values)

    def save_json(self, path: str | os.PathLike) -> None:
        """Write the config atomically (a crash never leaves half a config.json)."""
        from cyclegan_tf.atomic import write_text_atomically

        write_text_atomically(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load_json(cls, path: str | os.PathLike) -> CycleGANConfig:
        try:
            with open(path) as f:
                values = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"no config file at {path}") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON: {e}") from None
        return cls.from_dict(values)


PRESETS: dict[str, dict[str, Any]] = {
    # The paper's setup: ResNet-9 at 256 px, batch 1, 100 + 100 epochs.
    "paper": {},
    # The recipe commonly reported for selfie2anime (3,400 + 3,400 images): batch 4, 80 epochs.
    "selfie2anime": {"batch_size": 4, "n_epochs": 40, "n_epochs_decay": 40},
    # The shipped phone model (recipe D): the mobile_deep generator (blocks at 1/8 resolution)
    # trained on selfie2anime at 128 px (run at 256), a half-width 70x70 PatchGAN; with
    # `--steps-per-epoch 425` (half an epoch) its 17 epochs, 7,225 steps of batch 4, take about
    # 1 h 40 min on 2 CPU cores. The model card has the measured recipe.
    "selfie2anime-mobile": {
        "generator": "mobile_deep",
        "ngf": 16,
        "ndf": 32,
        "load_size": 143,
        "crop_size": 128,
        "batch_size": 4,
        "n_epochs": 4,
        "n_epochs_decay": 13,
        # Not `auto`: the narrow generator makes bf16 no faster (0.715 vs 0.718 s/step,
        # train_throughput_mobile128_ndf32.md) and the shipped model was trained in float32.
        "precision": "float32",
    },
    # A small, fast model for a CPU demo on the embedded dataset (a few minutes on a laptop).
    # Five departures from the paper, each measured on the embedded pairs
    # (benchmarks/results/tiny_trials.md, sessions 7, 10, 11): the saved generators are a weight
    # average (G(A)'s noise swings from step to step; the average keeps its mean), a lighter
    # A->B->A cycle weight, a total-variation term on G(A), the input image at G's last conv, and a
    # lighter identity term.
    "tiny": {
        "generator": "resnet_6blocks",
        "ngf": 16,
        "ndf": 16,
        "load_size": 72,
        "crop_size": 64,
        "batch_size": 4,
        "n_epochs": 6,
        "n_epochs_decay": 4,
        "synthetic_size": 200,
        "lr": 5e-4,
        "generator_ema": 0.995,
        "lambda_a": 2.0,
        # A smoothness prior on G(A) (session 10): without it G(A) fills with speckle on the
        # sharp photos; with it the run ends about 0.1 SSIM higher and no longer falls after
        # its fifth epoch (tiny_trials.md).
        "lambda_tv": 4.0,
        # The input image at G's last conv (session 11): the paper's generator cannot see an
        # image's mean colour, so it painted every backdrop the same; with it each photo's
        # backdrop maps to its own pastel and the run ends about 0.5 dB higher (tiny_trials.md).
        "input_skip": True,
        # A quarter of the identity term (session 11): with the skip, the identity term trains
        # G to pass its input straight through, and on the sharp photos that passes their noise.
        "lambda_identity": 0.25,
        # Not `auto`: bf16 makes this small step only 1.22x faster where the CPU has it
        # (train_throughput_tiny.md) and its one 10-epoch run ended lower (tiny_trials.md,
        # session 8); float32 also keeps the committed tiny results reproducible everywhere.
        "precision": "float32",
    },
}


def config_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(CycleGANConfig))


def _check_field_names(values: dict[str, Any]) -> None:
    known = {f.name for f in dataclasses.fields(CycleGANConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown config option(s) {unknown}; known options: {sorted(known)}")


def field_choices(f: dataclasses.Field) -> list[str] | None:
    """The allowed values of a field, with the registry's names resolved."""
    choices = f.metadata.get("choices")
    if choices == "generators":
        return registry.generator_names()
    if choices == "discriminators":
        return registry.discriminator_names()
    return list(choices) if choices else None


def _check_field(f: dataclasses.Field, value: Any) -> None:
    choices = field_choices(f)
    if choices is not None:
        _check_choice(f.name, value, choices)
    minimum, below = f.metadata.get("minimum"), f.metadata.get("below")
    if minimum == 1 and f.type in ("int", int) and value < 1:
        raise ValueError(f"{f.name} must be a positive integer, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{f.name} must be >= {minimum}, got {value}")
    if below is not None and not value < below:
        raise ValueError(f"{f.name} must be below {below}, got {value}")


def _check_choice(name: str, value: Any, allowed: tuple[str, ...] | list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
