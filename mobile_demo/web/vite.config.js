// Builds the static site (default dist/) and copies LiteRT.js's wasm runtime next to it, so the
// page serves everything from its own origin (no CDN). The model the package ships
// (selfie2anime-mobile, int8 with uint8 I/O) becomes the site's default model/model.tflite;
// `npm run serve -- --model FILE` replaces it. The face detector (BlazeFace) and the framing
// constants of cyclegan_tf/faces become model/face_detector.tflite and model/face_framing.json.
import { copyFileSync, cpSync, existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const wasmDir = fileURLToPath(new URL("./node_modules/@litertjs/core/wasm/", import.meta.url));
const shippedModel = fileURLToPath(
  new URL("../../cyclegan_tf/pretrained/selfie2anime-mobile/generator_ab_int8", import.meta.url),
);

const faces = fileURLToPath(new URL("../../cyclegan_tf/faces/", import.meta.url));

let outDir = "dist";

export default defineConfig({
  base: "./",
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  plugins: [
    {
      name: "copy-litert-wasm",
      configResolved(config) {
        outDir = resolve(config.root, config.build.outDir);
      },
      closeBundle() {
        cpSync(wasmDir, resolve(outDir, "litert-wasm"), { recursive: true });
        // The face detector and framing the Python side uses (cyclegan_tf/faces): one framing.
        mkdirSync(resolve(outDir, "model"), { recursive: true });
        copyFileSync(`${faces}blazeface_short_range.tflite`, resolve(outDir, "model", "face_detector.tflite"));
        copyFileSync(`${faces}framing.json`, resolve(outDir, "model", "face_framing.json"));
        if (existsSync(`${shippedModel}.tflite`)) {
          mkdirSync(resolve(outDir, "model"), { recursive: true });
          copyFileSync(`${shippedModel}.tflite`, resolve(outDir, "model", "model.tflite"));
          copyFileSync(`${shippedModel}.json`, resolve(outDir, "model", "model.json"));
        }
      },
    },
  ],
});
