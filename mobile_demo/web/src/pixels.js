// Pixels <-> model tensors, following the export's sidecar JSON (never hard-coded sizes/ranges).

/** The centred square of a width x height image: [sx, sy, side]. */
export function centreSquare(width, height) {
  const side = Math.min(width, height);
  return [Math.floor((width - side) / 2), Math.floor((height - side) / 2), side];
}

/** RGBA bytes (ImageData.data) -> the model's input: uint8 RGB, or float RGB in meta's range. */
export function toModelInput(rgba, input) {
  const pixels = rgba.length / 4;
  if (input.dtype === "uint8") {
    const out = new Uint8Array(pixels * 3);
    for (let i = 0; i < pixels; i++) {
      out[3 * i] = rgba[4 * i];
      out[3 * i + 1] = rgba[4 * i + 1];
      out[3 * i + 2] = rgba[4 * i + 2];
    }
    return out;
  }
  if (input.dtype !== "float32") throw new Error(`unsupported input dtype ${input.dtype}`);
  const [lo, hi] = input.range;
  const scale = (hi - lo) / 255;
  const out = new Float32Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = rgba[4 * i + c] * scale + lo;
  }
  return out;
}

/** The model's output (uint8 or float RGB in meta's range) -> RGBA bytes for ImageData. */
export function toRgba(values, output) {
  const pixels = values.length / 3;
  const rgba = new Uint8ClampedArray(pixels * 4);
  const [lo, hi] = output.range;
  const scale = 255 / (hi - lo);
  const isBytes = output.dtype === "uint8";
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) {
      const v = values[3 * i + c];
      rgba[4 * i + c] = isBytes ? v : Math.round((v - lo) * scale);
    }
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}
