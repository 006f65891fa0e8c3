// The demo page: load the exported model with LiteRT.js, turn a photo into an anime picture,
// show before/after, the inference time, and let the user save the result.
import {
  isWebGPUSupported,
  loadAndCompile,
  loadLiteRt,
  supportsFeature,
  Tensor,
} from "@litertjs/core";
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

async function onPhoto(state, file) {
  if (!file) return;
  $("error").hidden = true;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    showError(`"${file.name}" could not be read as an image. Please choose a JPEG, PNG or WebP photo.`);
    return;
  }
  const size = state.meta.input.shape[1];
  const rgba = drawSquare(bitmap, size);
  $("timing").textContent = "translating…";
  const { input, values, ms } = await translate(state, rgba);
  const after = $("after");
  after.width = after.height = size;
  after.getContext("2d").putImageData(new ImageData(toRgba(values, state.meta.output), size), 0, 0);
  const where = state.accelerator === "wasm" && demo.threads ? "wasm, threads" : state.accelerator;
  $("timing").textContent = `${ms.toFixed(0)} ms on ${where}`;
  $("result").hidden = false;
  after.toBlob((blob) => ($("save").href = URL.createObjectURL(blob)), "image/png");
  demo.runs.push({ name: file.name, ms, input: Array.from(input), output: Array.from(values) });
  demo.lastRgba = rgba;
}

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
