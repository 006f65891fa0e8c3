// The demo page: load the exported model with LiteRT.js, turn a photo into an anime picture,
// show before/after, the inference time, and let the user save the result.
import {
  isWebGPUSupported,
  loadAndCompile,
  loadLiteRt,
  supportsFeature,
  Tensor,
} from "@litertjs/core";
import {
  alignmentMatrix,
  centreMatrix,
  detectFaces,
  drawWarped,
  loadFaceFraming,
  pasteBack,
} from "./faces.js";
import { centreSquare, toModelInput, toRgba } from "./pixels.js";
import "./style.css";

const $ = (id) => document.getElementById(id);
// The smallest module using a SIMD instruction (as in wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

const OFFLINE_CACHE = "selfie2anime-v1"; // the service worker (public/sw.js) serves from it
const demo = { ready: false, runs: [] }; // read by the browser test
window.demo = demo;

function showError(sentence) {
  $("error").textContent = sentence;
  $("error").hidden = false;
  demo.error = sentence;
}

async function chooseAccelerator() {
  const asked = new URLSearchParams(location.search).get("accelerator");
  if (asked) return asked;
  try {
    return navigator.gpu && (await isWebGPUSupported()) ? "webgpu" : "wasm";
  } catch {
    return "wasm";
  }
}

async function loadModel() {
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new Error(
      "This browser does not support WebAssembly SIMD, which the model runtime needs. " +
        "Please update it, or use a recent Chrome, Edge, Firefox or Safari.",
    );
  }
  let meta;
  try {
    const response = await fetch("./model/model.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    meta = await response.json();
  } catch (e) {
    throw new Error(`The model description model/model.json could not be loaded (${e.message}).`);
  }
  // Multi-threaded wasm needs a cross-origin isolated page (COOP/COEP headers) and relaxed SIMD;
  // it is checked before loading because loadLiteRt may be called only once per page.
  const threads = await canUseThreads();
  await loadLiteRt(new URL("./litert-wasm/", location.href).href, { threads });
  demo.threads = threads;
  const accelerator = await chooseAccelerator();
  let model;
  try {
    model = await loadAndCompile("./model/model.tflite", { accelerator });
  } catch (e) {
    throw new Error(`The model model/model.tflite failed to load (${e.message ?? e}).`);
  }
  return { meta, model, accelerator };
}

async function canUseThreads() {
  if (!self.crossOriginIsolated) return false;
  try {
    return (await supportsFeature("relaxedSimd")) && (await supportsFeature("threads"));
  } catch {
    return false;
  }
}

function drawSquare(bitmap, size) {
  const canvas = $("before");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  const [sx, sy, side] = centreSquare(bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, sx, sy, side, side, 0, 0, size, size);
  return ctx.getImageData(0, 0, size, size).data;
}

async function translate(state, rgba) {
  const { meta, model } = state;
  const size = meta.input.shape[1];
  const input = toModelInput(rgba, meta.input);
  const tensor = new Tensor(input, [1, size, size, 3]);
  const start = performance.now();
  const [output] = await model.run(tensor);
  const onCpu = output.accelerator === "wasm" ? output : await output.moveTo("wasm");
  const values = onCpu.toTypedArray().slice();
  const ms = performance.now() - start;
  tensor.delete();
  if (onCpu !== output) onCpu.delete();
  output.delete();
  return { input, values, ms };
}

/** Where the model's input comes from: the aligned face, or the centre square without one. */
async function frame(state, bitmap, size) {
  const start = performance.now();
  const centre = centreMatrix(bitmap.width, bitmap.height, size);
  if (!$("frame-face").checked) {
    return { found: false, matrix: centre, message: "Face framing is off: the centre of the photo was used." };
  }
  if (!state.faces) {
    return { found: false, matrix: centre, message: `Face framing is not available (${state.facesError}): the centre of the photo was used.` };
  }
  const faces = await detectFaces(state.faces, bitmap);
  const ms = performance.now() - start;
  if (!faces.length) {
    return { found: false, matrix: centre, ms, message: "No face found: the centre of the photo was used." };
  }
  const eyes = faces[0].keypoints.slice(0, 2);
  const matrix = alignmentMatrix(eyes, size, state.faces.config.framing);
  const others = faces.length > 1 ? ` (the largest of ${faces.length})` : "";
  return { found: true, matrix, eyes, score: faces[0].score, faces: faces.length, ms, message: `Framed on the face${others}.` };
}

function cropPixels(bitmap, framing, size) {
  if (!framing.found) return drawSquare(bitmap, size); // the centre crop, exactly as before
  const crop = drawWarped(bitmap, framing.matrix, size, size);
  const canvas = $("before");
  canvas.width = canvas.height = size;
  canvas.getContext("2d").drawImage(crop, 0, 0);
  return crop.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, size, size).data;
}

/** Before/after as the square crop, or (paste-back) as the whole photo with the face put back. */
function show(state) {
  const { bitmap, framing, rgba, anime, size } = state.last;
  const before = $("before");
  const after = $("after");
  if ($("paste-back").checked) {
    const scale = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height));
    const feather = state.faces?.config.paste.feather ?? 0.12;
    const pasted = pasteBack(bitmap, anime, framing.matrix, feather, scale);
    for (const canvas of [before, after]) {
      canvas.width = pasted.width;
      canvas.height = pasted.height;
    }
    before.getContext("2d").drawImage(bitmap, 0, 0, pasted.width, pasted.height);
    after.getContext("2d").drawImage(pasted, 0, 0);
    $("compare").style.setProperty("--aspect", `${pasted.width} / ${pasted.height}`);
  } else {
    before.width = before.height = after.width = after.height = size;
    before.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), size), 0, 0);
    after.getContext("2d").drawImage(anime, 0, 0);
    $("compare").style.setProperty("--aspect", "1");
  }
  after.toBlob((blob) => ($("save").href = URL.createObjectURL(blob)), "image/png");
}

// Bigger files are refused before decoding (a phone's photo is 2-12 MB), and decoded photos over
// MAX_PIXELS are let go at once: a tab holding a 400-megapixel bitmap is killed on a phone.
const MAX_PHOTO_MB = 40;
const MAX_PIXELS = 50e6;

async function onPhoto(state, file) {
  if (!file) return;
  $("error").hidden = true;
  if (file.size > MAX_PHOTO_MB * 2 ** 20) {
    const mb = (file.size / 2 ** 20).toFixed(0);
    showError(`"${file.name}" is ${mb} MB; photos up to ${MAX_PHOTO_MB} MB are accepted. Please choose a smaller copy.`);
    return;
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    if (/\.(heic|heif)$/i.test(file.name) || /image\/hei[cf]/i.test(file.type)) {
      showError(
        `"${file.name}" is a HEIC photo, which this browser cannot read. Choose a JPEG copy ` +
          "(on an iPhone: Settings → Camera → Formats → Most Compatible, or share it as JPEG).",
      );
    } else {
      showError(`"${file.name}" could not be read as an image. Please choose a JPEG, PNG or WebP photo.`);
    }
    return;
  }
  if (bitmap.width * bitmap.height > MAX_PIXELS) {
    const mp = ((bitmap.width * bitmap.height) / 1e6).toFixed(0);
    bitmap.close();
    showError(`"${file.name}" has ${mp} megapixels; photos up to ${MAX_PIXELS / 1e6} megapixels are accepted.`);
    return;
  }
  const size = state.meta.input.shape[1];
  $("timing").textContent = "finding the face…";
  const framing = await frame(state, bitmap, size);
  $("framing").textContent = framing.message;
  demo.framing = { found: framing.found, eyes: framing.eyes ?? null, matrix: framing.matrix, ms: framing.ms ?? null, message: framing.message, width: bitmap.width, height: bitmap.height };
  const rgba = cropPixels(bitmap, framing, size);
  $("timing").textContent = "translating…";
  const { input, values, ms } = await translate(state, rgba);
  const anime = document.createElement("canvas");
  anime.width = anime.height = size;
  anime.getContext("2d").putImageData(new ImageData(toRgba(values, state.meta.output), size), 0, 0);
  state.last = { bitmap, framing, rgba, anime, size };
  show(state);
  const where = state.accelerator === "wasm" && demo.threads ? "wasm, threads" : state.accelerator;
  $("timing").textContent = `${ms.toFixed(0)} ms on ${where}`;
  $("result").hidden = false;
  demo.runs.push({ name: file.name, ms, input: Array.from(input), output: Array.from(values) });
  demo.lastRgba = rgba;
  demo.lastBitmap = bitmap;
}

/** Median time of `count` more framings (detect + align) of the last photo (for benchmarks). */
demo.benchmarkFraming = async (count) => {
  const times = [];
  const size = demo.state.meta.input.shape[1];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const framing = await frame(demo.state, demo.lastBitmap, size);
    cropPixels(demo.lastBitmap, framing, size);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median_ms: times[Math.floor(count / 2)], p95_ms: times[Math.min(count - 1, Math.floor(count * 0.95))], min_ms: times[0], runs: count };
};

/** Median time of `count` more runs on the last photo (for benchmarks). */
demo.benchmark = async (count) => {
  const times = [];
  for (let i = 0; i < count; i++) times.push((await translate(demo.state, demo.lastRgba)).ms);
  times.sort((a, b) => a - b);
  return { median_ms: times[Math.floor(count / 2)], min_ms: times[0], runs: count };
};

async function main() {
  $("slider").addEventListener("input", (e) =>
    $("compare").style.setProperty("--split", `${e.target.value}%`),
  );
  let state;
  try {
    state = await loadModel();
  } catch (e) {
    $("model-info").textContent = "The model is not available.";
    showError(e.message);
    return;
  }
  try {
    state.faces = await loadFaceFraming();
  } catch (e) {
    state.facesError = e.message; // framing is a bonus: without it, the centre crop as before
  }
  demo.state = state;
  const { meta } = state;
  const s = meta.input.shape[1];
  $("model-info").textContent =
    `${meta.direction === "AtoB" ? "photo → anime" : "anime → photo"}, ${meta.quantization}, ` +
    `${s}×${s} px, ${meta.input.dtype} input, on ${state.accelerator}`;
  for (const id of ["camera", "picker"]) {
    $(id).disabled = false;
    $(id).addEventListener("change", (e) =>
      onPhoto(state, e.target.files[0]).catch((err) => showError(`Translation failed: ${err.message}`)),
    );
  }
  $("paste-back").addEventListener("change", () => state.last && show(state));
  demo.ready = true;
  demo.offlineReady = cacheForOffline().catch(() => false); // offline is a bonus, never an error
}

/** Register the service worker and cache what this visit loaded (app, chosen wasm, model). */
async function cacheForOffline() {
  if (!("serviceWorker" in navigator) || !("caches" in window)) return false;
  await navigator.serviceWorker.register("./sw.js");
  const loaded = performance
    .getEntriesByType("resource")
    .map((entry) => entry.name)
    .filter((url) => new URL(url).origin === location.origin);
  const cache = await caches.open(OFFLINE_CACHE);
  await cache.addAll([...new Set([new URL("./", location.href).href, ...loaded])]);
  return true;
}

main();
