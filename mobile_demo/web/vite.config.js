// Builds the static site (default dist/) and copies LiteRT.js's wasm runtime next to it, so the
// page serves everything from its own origin (no CDN).
import { cpSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const wasmDir = fileURLToPath(new URL("./node_modules/@litertjs/core/wasm/", import.meta.url));

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
      },
    },
  ],
});
