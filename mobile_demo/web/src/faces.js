// Face framing in the page: the same BlazeFace short-range .tflite, the same search, decoding and
// framing constants as the Python side (cyclegan_tf/faces; the constants come from the package's
// framing.json, copied into the site by the build), so a photo is cropped here as
// `cyclegan-tf translate --face` crops it. Matrices are [a, b, c, d, e, f]:
// x' = a x + b y + c, y' = d x + e y + f (photo pixels -> crop pixels).
import { loadAndCompile, Tensor } from "@litertjs/core";

/** The detector model and the constants it is used with; throws a sentence on failure. */
export async function loadFaceFraming() {
  let config;
  try {
    const response = await fetch("./model/face_framing.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = await response.json();
  } catch (e) {
    throw new Error(`model/face_framing.json could not be loaded (${e.message})`);
  }
  let model;
  try {
    model = await loadAndCompile("./model/face_detector.tflite", { accelerator: "wasm" });
  } catch (e) {
    throw new Error(`the face detector model/face_detector.tflite failed to load (${e.message ?? e})`);
  }
  return { config, model, anchors: blazefaceAnchors(config.detector.input_size) };
}

/** Anchor centres in [0, 1]: 2 per cell of the 16x16 grid, then 6 per cell of the 8x8 grid. */
export function blazefaceAnchors(n) {
  const out = [];
  for (const [stride, perCell] of [[8, 2], [16, 6]]) {
    const cells = n / stride;
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++)
        for (let k = 0; k < perCell; k++) out.push([(x + 0.5) / cells, (y + 0.5) / cells]);
  }
  return out;
}

function canvas2d(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  return [canvas, ctx];
}

async function runDetector(fd, rgba) {
  const n = fd.config.detector.input_size;
  const input = new Float32Array(n * n * 3);
  for (let i = 0; i < n * n; i++)
    for (let c = 0; c < 3; c++) input[3 * i + c] = rgba[4 * i + c] / 127.5 - 1;
  const tensor = new Tensor(input, [1, n, n, 3]);
  const outputs = await fd.model.run(tensor);
  tensor.delete();
  const arrays = outputs.map((t) => {
    const values = t.toTypedArray().slice();
    t.delete();
    return values;
  });
  const count = fd.anchors.length;
  return {
    regressors: arrays.find((a) => a.length === count * 16),
    scores: arrays.find((a) => a.length === count),
  };
}

function decode(fd, { regressors, scores }, view) {
  const n = fd.config.detector.input_size;
  const toPhoto = (t, axis) => view.origin[axis] + t * view.extent[axis];
  const faces = [];
  for (let i = 0; i < fd.anchors.length; i++) {
    const logit = Math.min(100, Math.max(-100, scores[i]));
    const score = 1 / (1 + Math.exp(-logit));
    if (score < fd.config.detector.model_min_score) continue;
    const [ax, ay] = fd.anchors[i];
    const r = regressors.subarray(16 * i, 16 * i + 16);
    const cx = r[0] / n + ax;
    const cy = r[1] / n + ay;
    const hw = r[2] / n / 2;
    const hh = r[3] / n / 2;
    const box = [toPhoto(cx - hw, 0), toPhoto(cy - hh, 1), toPhoto(cx + hw, 0), toPhoto(cy + hh, 1)];
    const keypoints = [];
    for (let k = 0; k < 6; k++)
      keypoints.push([toPhoto(r[4 + 2 * k] / n + ax, 0), toPhoto(r[5 + 2 * k] / n + ay, 1)]);
    faces.push({ box, keypoints, score });
  }
  return faces;
}

function iou(a, b) {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** MediaPipe's weighted NMS: each cluster becomes its score-weighted mean, scored by its best. */
function weightedNms(faces, threshold) {
  let remaining = [...faces].sort((a, b) => b.score - a.score);
  const merged = [];
  while (remaining.length) {
    const best = remaining[0];
    const cluster = remaining.filter((f) => iou(best.box, f.box) > threshold);
    remaining = remaining.filter((f) => iou(best.box, f.box) <= threshold);
    const total = cluster.reduce((s, f) => s + f.score, 0);
    const box = [0, 1, 2, 3].map((j) => cluster.reduce((s, f) => s + f.box[j] * f.score, 0) / total);
    const keypoints = best.keypoints.map((_, k) =>
      [0, 1].map((j) => cluster.reduce((s, f) => s + f.keypoints[k][j] * f.score, 0) / total),
    );
    merged.push({ box, keypoints, score: best.score });
  }
  return merged;
}

function letterboxWindow(width, height, margin) {
  const side = Math.round(Math.max(width, height) * (1 + 2 * margin));
  return { x0: Math.floor((width - side) / 2), y0: Math.floor((height - side) / 2), side };
}

function tileWindows(width, height, share) {
  const side = Math.max(1, Math.round(Math.min(width, height) * share));
  const step = Math.max(1, Math.floor(side / 2));
  const starts = (extent) => {
    const last = Math.max(0, extent - side);
    const out = [];
    for (let s = 0; s < last; s += step) out.push(s);
    if (!out.includes(last)) out.push(last);
    return out;
  };
  const windows = [];
  for (const y0 of starts(height)) for (const x0 of starts(width)) windows.push({ x0, y0, side });
  return windows;
}

/** Faces found in one square window of the photo (what lies outside the photo is black). */
async function detectIn(fd, source, width, height, win) {
  const n = fd.config.detector.input_size;
  const [, ctx] = canvas2d(n, n);
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, n, n);
  const visible = [
    Math.max(0, win.x0),
    Math.max(0, win.y0),
    Math.min(width, win.x0 + win.side),
    Math.min(height, win.y0 + win.side),
  ];
  const k = n / win.side;
  const t = visible.map((v, i) => Math.min(n, Math.max(0, Math.round((v - (i % 2 ? win.y0 : win.x0)) * k))));
  const tw = Math.max(1, t[2] - t[0]);
  const th = Math.max(1, t[3] - t[1]);
  const vw = visible[2] - visible[0];
  const vh = visible[3] - visible[1];
  if (vw <= 0 || vh <= 0) return [];
  ctx.drawImage(source, visible[0], visible[1], vw, vh, t[0], t[1], tw, th);
  const per = [vw / tw, vh / th];
  const view = {
    origin: [visible[0] - t[0] * per[0], visible[1] - t[1] * per[1]],
    extent: [per[0] * n, per[1] * n],
  };
  return decode(fd, await runDetector(fd, ctx.getImageData(0, 0, n, n).data), view);
}

export function alignmentMatrix(eyes, size, framing) {
  const { eye_x: ex, eye_y: ey, eye_distance: ed } = framing;
  const target = [
    [(ex - ed / 2) * size, ey * size],
    [(ex + ed / 2) * size, ey * size],
  ];
  const sx = eyes[1][0] - eyes[0][0];
  const sy = eyes[1][1] - eyes[0][1];
  const length = Math.hypot(sx, sy);
  if (length < 1e-6) throw new Error("the two eye positions coincide");
  const scale = (target[1][0] - target[0][0]) / length;
  const angle = -Math.atan2(sy, sx);
  const cos = scale * Math.cos(angle);
  const sin = scale * Math.sin(angle);
  const mx = (eyes[0][0] + eyes[1][0]) / 2;
  const my = (eyes[0][1] + eyes[1][1]) / 2;
  const tx = (target[0][0] + target[1][0]) / 2;
  const ty = target[0][1];
  return [cos, -sin, tx - (cos * mx - sin * my), sin, cos, ty - (sin * mx + cos * my)];
}

export function centreMatrix(width, height, size) {
  const side = Math.min(width, height);
  const s = size / side;
  return [s, 0, (-(width - side) / 2) * s, 0, s, (-(height - side) / 2) * s];
}

export function invert(m) {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

export function apply(m, [x, y]) {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/** The photo seen through matrix `m` in a width x height canvas; a strong reduction goes through
 * a smoothed resize first, as on the Python side, so a small face is not aliased. */
export function drawWarped(source, m, width, height) {
  const scale = Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
  let picture = source;
  let matrix = m;
  if (scale < 0.5) {
    const factor = scale * 1.5;
    const w = Math.max(1, Math.round(source.width * factor));
    const h = Math.max(1, Math.round(source.height * factor));
    const [small, sctx] = canvas2d(w, h);
    sctx.drawImage(source, 0, 0, w, h);
    const fx = w / source.width;
    const fy = h / source.height;
    picture = small;
    matrix = [m[0] / fx, m[1] / fy, m[2], m[3] / fx, m[4] / fy, m[5]];
  }
  const [canvas, ctx] = canvas2d(width, height);
  ctx.setTransform(matrix[0], matrix[3], matrix[1], matrix[4], matrix[2], matrix[5]);
  ctx.drawImage(picture, 0, 0);
  return canvas;
}

async function refine(fd, source, face) {
  const n = fd.config.detector.input_size;
  const m = alignmentMatrix(face.keypoints.slice(0, 2), n, fd.config.framing);
  const crop = drawWarped(source, m, n, n);
  const rgba = crop.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, n, n).data;
  const found = decode(fd, await runDetector(fd, rgba), { origin: [0, 0], extent: [n, n] });
  if (!found.length) return face;
  const best = weightedNms(found, fd.config.detector.nms_iou).sort((a, b) => b.score - a.score)[0];
  const back = invert(m);
  return { box: face.box, keypoints: best.keypoints.map((p) => apply(back, p)), score: face.score };
}

/** Tiles of a copy shrunk once so a tile is the model's input size (as on the Python side). */
async function detectInTiles(fd, source) {
  const n = fd.config.detector.input_size;
  const { width, height } = source;
  const factor = Math.min(1, n / Math.max(1, Math.round(Math.min(width, height) * fd.config.detector.tile_share)));
  const [small, ctx] = canvas2d(Math.max(1, Math.round(width * factor)), Math.max(1, Math.round(height * factor)));
  ctx.drawImage(source, 0, 0, small.width, small.height);
  const sx = width / small.width;
  const sy = height / small.height;
  const found = [];
  for (const win of tileWindows(small.width, small.height, fd.config.detector.tile_share))
    found.push(...(await detectIn(fd, small, small.width, small.height, win)));
  return found.map((f) => ({
    box: [f.box[0] * sx, f.box[1] * sy, f.box[2] * sx, f.box[3] * sy],
    keypoints: f.keypoints.map(([x, y]) => [x * sx, y * sy]),
    score: f.score,
  }));
}

/** The faces of a photo (ImageBitmap, image or canvas), largest first; [] when none. */
export async function detectFaces(fd, source) {
  const { width, height } = source;
  const d = fd.config.detector;
  const whole = () => detectIn(fd, source, width, height, letterboxWindow(width, height, 0));
  const withMargin = () => detectIn(fd, source, width, height, letterboxWindow(width, height, d.margin));
  for (const search of [whole, withMargin, () => detectInTiles(fd, source)]) {
    const found = await search();
    const faces = weightedNms(found, d.nms_iou).filter((f) => f.score >= d.min_score);
    if (faces.length) {
      const refined = [];
      for (const face of faces) refined.push(await refine(fd, source, face));
      const area = (f) => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
      return refined.sort((a, b) => area(b) - area(a));
    }
  }
  return [];
}

/** The photo with `crop` (size x size canvas) blended back through `m`, feathered at its edges,
 * drawn at `scale` of the photo's size. */
export function pasteBack(source, crop, m, feather, scale = 1) {
  const size = crop.width;
  const [masked, mctx] = canvas2d(size, size);
  mctx.drawImage(crop, 0, 0);
  const image = mctx.getImageData(0, 0, size, size);
  const ramp = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const r = Math.min(1, (i + 0.5) / (feather * size), (size - i - 0.5) / (feather * size));
    ramp[i] = r * r * (3 - 2 * r);
  }
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) image.data[4 * (y * size + x) + 3] = Math.round(255 * ramp[x] * ramp[y]);
  mctx.putImageData(image, 0, 0);
  const width = Math.round(source.width * scale);
  const height = Math.round(source.height * scale);
  const [out, ctx] = canvas2d(width, height);
  ctx.drawImage(source, 0, 0, width, height);
  const back = invert(m).map((v) => v * scale); // crop -> photo -> the drawn size
  ctx.setTransform(back[0], back[3], back[1], back[4], back[2], back[5]);
  ctx.drawImage(masked, 0, 0);
  return out;
}
