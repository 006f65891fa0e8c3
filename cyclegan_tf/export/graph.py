"""Reading a functional Keras model's graph: which layer feeds a layer, and who reads a layer.

The export's rewrites (`lowering`, `equalize`) look for layer patterns such as a conv whose only
reader is an instance norm; these two questions are all they ask of the graph.
"""

from __future__ import annotations

import keras


def single_input(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The layer whose output `layer` reads, or None when it is called more than once or reads
    several tensors."""
    nodes = [n for n in layer._inbound_nodes if n.operation is layer]
    if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
        return None
    return nodes[0].input_tensors[0]._keras_history.operation


def consumers(model: keras.Model, producer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """Every call in `model` that reads an output of `producer` (a layer twice if called twice)."""
    found = []
    for layer in model.layers:
        for node in layer._inbound_nodes:
            if any(t._keras_history.operation is producer for t in node.input_tensors):
                found.append(layer)
    return found
