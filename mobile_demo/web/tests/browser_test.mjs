// Drive the built demo in Debian's Chromium with phone emulation (playwright-core, no browser
// download) and write what happened to a JSON file for the Python test to check.
//
//   node tests/browser_test.mjs --url http://127.0.0.1:8000/ --photo face.png --out results/
//        [--bad-file notes.txt ...] [--benchmark 20] [--chromium /usr/bin/chromium]
//
// Records: the input tensor the page fed the model and its output, the inference time, every
// request the page made (to prove none leaves localhost), a phone screenshot, and the sentences
// shown for a broken model, an undecodable file and a browser without WebAssembly SIMD.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    photo: { type: "string" },
    out: { type: "string" },
    "bad-file": { type: "string", multiple: true },
    benchmark: { type: "string", default: "0" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    timeout: { type: "string", default: "120000" },
    // Face framing instead of the main flow: a photo with a face, one without, N timed framings.
    "face-photo": { type: "string" },
    "no-face-photo": { type: "string" },
    "framing-benchmark": { type: "string", default: "0" },
  },
});
const timeout = Number(args.timeout);
mkdirSync(args.out, { recursive: true });

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const phone = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/150.0.0.0 Mobile Safari/537.36",
};
const result = { requests: [], offsite: [], console: [] };
const wasmUrl = new URL("?accelerator=wasm", args.url).href; // headless Chromium has no GPU

async function newPage(context) {
  const page = await context.newPage();
  page.on("request", (r) => {
    result.requests.push(r.url());
    const host = new URL(r.url()).hostname;
    if (!["127.0.0.1", "localhost"].includes(host) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) {
      result.offsite.push(r.url());
    }
  });
  page.on("console", (m) => result.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => result.console.push(`pageerror: ${e.message}`));
  return page;
}

/** Upload `photo` and wait for its translation; returns what the page recorded. */
async function translatePhoto(page, photo, runsBefore) {
  await page.setInputFiles("#picker", photo);
  await page.waitForFunction((n) => window.demo.runs.length > n || window.demo.error, runsBefore, { timeout });
  return page.evaluate(() => ({
    framing: window.demo.framing,
    message: document.getElementById("framing").textContent,
    input: window.demo.runs.at(-1)?.input ?? null,
    error: window.demo.error ?? null,
  }));
}

async function framingFlow() {
  const context = await browser.newContext(phone);
  const page = await newPage(context);
  await page.goto(wasmUrl);
  await page.waitForFunction(() => window.demo?.ready || window.demo?.error, null, { timeout });
  result.load_error = await page.evaluate(() => window.demo.error ?? null);
  if (result.load_error) return;
  result.face = await translatePhoto(page, args["face-photo"], 0);
  await page.screenshot({ path: join(args.out, "phone_face.png") });
  await page.check("#paste-back");
  result.pasted_canvas = await page.evaluate(() => {
    const c = document.getElementById("after");
    return { width: c.width, height: c.height };
  });
  await page.screenshot({ path: join(args.out, "phone_face_pasted.png") });
  await page.uncheck("#paste-back");
  if (Number(args["framing-benchmark"]) > 0) {
    result.framing_benchmark = await page.evaluate((n) => window.demo.benchmarkFraming(n), Number(args["framing-benchmark"]));
  }
  if (args["no-face-photo"]) result.no_face = await translatePhoto(page, args["no-face-photo"], 1);
  await context.close();
}

try {
  if (args["face-photo"]) {
    await framingFlow();
  } else {
    await mainFlow();
  }
} finally {
  await browser.close();
  writeFileSync(join(args.out, "results.json"), JSON.stringify(result));
}

async function mainFlow() {
  const context = await browser.newContext(phone);
  const page = await newPage(context);
  await page.goto(wasmUrl);
  await page.waitForFunction(() => window.demo?.ready || window.demo?.error, null, { timeout });
  result.load_error = await page.evaluate(() => window.demo.error ?? null);
  if (!result.load_error) {
    result.model_info = await page.textContent("#model-info");
    await page.setInputFiles("#picker", args.photo);
    await page.waitForFunction(() => window.demo.runs.length > 0 || window.demo.error, null, { timeout });
    const run = await page.evaluate(() => window.demo.runs[0] ?? null);
    result.run = run;
    result.timing_text = await page.textContent("#timing");
    result.save_href = await page.getAttribute("#save", "href");
    await page.screenshot({ path: join(args.out, "phone.png") });
    if (Number(args.benchmark) > 0) {
      result.benchmark = await page.evaluate((n) => window.demo.benchmark(n), Number(args.benchmark));
    }
    // Offline after the first visit: reload with the network gone and translate again.
    result.offline_cached = await page.evaluate(() => window.demo.offlineReady);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => window.demo?.ready || window.demo?.error, null, { timeout });
    result.offline_error = await page.evaluate(() => window.demo.error ?? null);
    if (!result.offline_error) {
      await page.setInputFiles("#picker", args.photo);
      await page.waitForFunction(() => window.demo.runs.length > 0 || window.demo.error, null, { timeout });
      result.offline_run = await page.evaluate(() => window.demo.runs[0]?.output ?? null);
    }
    await context.setOffline(false);
    // Files the page must answer with a sentence, each within the timeout (no hang).
    result.bad_file_errors = {};
    for (const file of args["bad-file"] ?? []) {
      await page.evaluate(() => {
        document.getElementById("error").hidden = true;
        window.demo.error = null;
      });
      await page.setInputFiles("#picker", file);
      await page.waitForFunction(() => !document.getElementById("error").hidden, null, { timeout });
      result.bad_file_errors[file.split("/").pop()] = await page.textContent("#error");
    }
    result.bad_file_error = Object.values(result.bad_file_errors)[0] ?? null;
  }
  await context.close();

  // A model file that is not a model.
  const broken = await browser.newContext(phone);
  await broken.route("**/model/model.tflite", (route) =>
    route.fulfill({ status: 200, contentType: "application/octet-stream", body: "not a model" }),
  );
  const brokenPage = await newPage(broken);
  await brokenPage.goto(wasmUrl);
  await brokenPage.waitForFunction(() => window.demo?.error, null, { timeout });
  result.broken_model_error = await brokenPage.textContent("#error");
  await broken.close();

  // A browser without WebAssembly SIMD.
  const old = await browser.newContext(phone);
  await old.addInitScript(() => {
    WebAssembly.validate = () => false;
  });
  const oldPage = await newPage(old);
  await oldPage.goto(wasmUrl);
  await oldPage.waitForFunction(() => window.demo?.error, null, { timeout });
  result.no_simd_error = await oldPage.textContent("#error");
  await old.close();
}
