"""What a run folder or a saved generator is: config, parameter counts, epoch reached."""

from __future__ import annotations

import json
import os

from cyclegan_tf.checkpoints import sidecar_path
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.pretrained import describe_shipped, resolve_model
from cyclegan_tf.run_folder import RunFolder
from cyclegan_tf.training_state import checkpoint_epoch


def parameter_counts(config: CycleGANConfig) -> dict[str, int]:
    """Parameters of each network the config describes (built, not loaded)."""
    from cyclegan_tf.networks import (
        build_embedding_discriminator,
        discriminators_from_config,
        generators_from_config,
        with_encoder_output,
    )

    g, _ = generators_from_config(config)
    d, _ = discriminators_from_config(config)
    counts = {"generator (each)": g.count_params(), "discriminator (each)": d.count_params()}
    if config.lambda_embedding > 0:
        code = with_encoder_output(g, config.generator).outputs[1]
        embedding = build_embedding_discriminator(code.shape[-1], config.ndf)
        counts["embedding discriminator"] = embedding.count_params()
    return counts


def describe(path: str | os.PathLike | None = None) -> str:
    """A readable summary of a run folder, a `.keras` generator or a shipped model's name;
    without a path, the list of shipped models."""
    if path is None:
        return describe_shipped()
    path = resolve_model(path)
    if path.is_dir():
        config_path = RunFolder(path).config
        if not config_path.is_file():
            raise FileNotFoundError(f"{path} has no config.json: not a cyclegan-tf run folder")
        config = CycleGANConfig.load_json(config_path)
        epoch = checkpoint_epoch(RunFolder(path).checkpoint)
        header = [
            f"run folder: {path}",
            f"epochs completed: {epoch if epoch is not None else 0} of {config.total_epochs}",
        ]
    elif path.suffix == ".keras" and path.is_file():
        meta = json.loads(sidecar_path(path).read_text())
        config = CycleGANConfig.from_dict(meta["config"])
        header = [
            f"generator: {path} ({meta['direction']})",
            f"saved after epoch: {meta.get('epoch')}",
        ]
    else:
        raise FileNotFoundError(f"{path} is neither a run folder nor a .keras generator")
    counts = [f"{name} parameters: {count:,}" for name, count in parameter_counts(config).items()]
    options = [f"  {k} = {v!r}" for k, v in sorted(config.to_dict().items())]
    return "\n".join(header + counts + ["config:"] + options)
