// Serve the built site on localhost, with the shipped selfie2anime-mobile model (copied by the
// build) or an exported model of your own:
//
//   npm run build && npm run serve [-- --model ../../export/generator_ab_int8.tflite] [--port 8000]
//
// The model's sidecar JSON (written by `cyclegan-tf export` beside the .tflite) is copied as
// dist/model/model.json; the page reads shape, dtype and value range from it.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    port: { type: "string", default: "8000" },
    root: { type: "string", default: new URL("../dist/", import.meta.url).pathname },
  },
});
const root = resolve(values.root);
if (!existsSync(join(root, "index.html"))) {
  console.error(`no built site in ${root}: run \`npm run build\` first`);
  process.exit(2);
}
if (!values.model && !existsSync(join(root, "model", "model.tflite"))) {
  console.error("no model in the built site: pass --model FILE.tflite (an export's int8 file)");
  process.exit(2);
}
if (values.model) {
  const model = resolve(values.model);
  const sidecar = model.replace(/\.tflite$/, ".json");
  if (!model.endsWith(".tflite") || !existsSync(model)) {
    console.error(`--model ${values.model}: not an existing .tflite file`);
    process.exit(2);
  }
  if (!existsSync(sidecar)) {
    console.error(`--model ${values.model}: its sidecar ${sidecar} is missing (export it with cyclegan-tf export)`);
    process.exit(2);
  }
  mkdirSync(join(root, "model"), { recursive: true });
  copyFileSync(model, join(root, "model", "model.tflite"));
  copyFileSync(sidecar, join(root, "model", "model.json"));
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".tflite": "application/octet-stream",
};

const server = createServer((request, response) => {
  const path = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
  let file = normalize(join(root, path));
  if (!file.startsWith(root)) {
    response.writeHead(403).end();
    return;
  }
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
  if (!existsSync(file)) {
    response.writeHead(404, { "Content-Type": "text/plain" }).end(`not found: ${path}`);
    return;
  }
  response.writeHead(200, {
    "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
    // Cross-origin isolation lets LiteRT.js use its multi-threaded wasm.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cache-Control": "no-cache",
  });
  response.end(readFileSync(file));
});
server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`serving ${root} at http://127.0.0.1:${server.address().port}/`);
});
