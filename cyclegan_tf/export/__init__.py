"""Mobile export: `.tflite` variants with parity checks (`exporter`), LiteRT helpers (`litert`)
and the latency benchmark (`benchmark`).

Submodules are imported on demand: `litert` and `benchmark` must stay importable without
TensorFlow, so a benchmark's child process measures LiteRT's memory, not TensorFlow's.
"""
