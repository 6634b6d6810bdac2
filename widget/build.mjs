// Builds the widget with esbuild: deterministic output, served by the backend from
// backend/bugline/static/widget/ (or --outdir DIR), plus manifest.json (bytes and gzip bytes).
//
//   node build.mjs                 loader.js (IIFE, es2019) + ESM chunks (es2020, code splitting)
//   node build.mjs --outdir DIR    the same into DIR (the build test compares it byte for byte)
//   node build.mjs --test          bundle test/*.test.{ts,mjs} into a temp folder and run `node --test`
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const common = {
  bundle: true,
  minify: true,
  legalComments: "none",
  sourcemap: false,
  logLevel: "warning",
  absWorkingDir: here,
  metafile: true,
};

async function buildWidget(outdir) {
  mkdirSync(outdir, { recursive: true });
  // Remove what an earlier build wrote (only our own file names), so no stale chunk survives.
  for (const name of readdirSync(outdir)) {
    if (/\.js$/.test(name) || name === "manifest.json") rmSync(join(outdir, name));
  }
  const loader = await build({
    ...common,
    entryPoints: ["src/loader.ts"],
    outfile: join(outdir, "loader.js"),
    format: "iife",
    target: "es2019",
    // The loader imports the dialog by URL at run time; every browser with shadow DOM has import().
    supported: { "dynamic-import": true },
    charset: "utf8",
  });
  // The other chunks may not exist yet while engineers write them: build those that do.
  const chunks = ["dialog", "capture", "screenshot", "recorder"].filter((n) => existsSync(join(here, "src", `${n}.ts`)));
  const esm = await build({
    ...common,
    entryPoints: Object.fromEntries(chunks.map((n) => [n, `src/${n}.ts`])),
    outdir,
    format: "esm",
    splitting: true,
    target: "es2020",
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    charset: "utf8",
  });
  writeManifest(outdir, [loader.metafile, esm.metafile]);
}

function writeManifest(outdir, metafiles) {
  const files = {};
  for (const meta of metafiles) {
    for (const [path, out] of Object.entries(meta.outputs)) {
      const name = path.split("/").pop();
      const bytes = readFileSync(resolve(here, path));
      files[name] = {
        bytes: bytes.length,
        gzip: gzipSync(bytes, { level: 9 }).length,
        imports: out.imports.filter((i) => i.kind === "import-statement").map((i) => i.path.split("/").pop()).sort(),
      };
    }
  }
  const sorted = Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]]));
  writeFileSync(join(outdir, "manifest.json"), JSON.stringify({ files: sorted }, null, 2) + "\n");
}

async function runTests() {
  const dir = join(here, "test");
  const entries = existsSync(dir) ? readdirSync(dir).filter((n) => /\.test\.(ts|mjs)$/.test(n)).sort() : [];
  if (entries.length === 0) {
    console.log("no tests in widget/test/");
    return 0;
  }
  const out = mkdtempSync(join(tmpdir(), "bugline-widget-tests-"));
  try {
    await build({
      ...common,
      minify: false,
      entryPoints: entries.map((n) => `test/${n}`),
      outdir: out,
      outExtension: { ".js": ".mjs" },
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
    });
    const files = readdirSync(out).filter((n) => n.endsWith(".mjs")).sort().map((n) => join(out, n));
    return spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" }).status ?? 1;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (args.includes("--test")) {
  process.exitCode = await runTests();
} else {
  const outdir = resolve(here, flag("--outdir") ?? "../backend/bugline/static/widget");
  await buildWidget(outdir);
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8"));
  for (const [name, f] of Object.entries(manifest.files)) console.log(`${name.padEnd(24)} ${String(f.bytes).padStart(7)} B  ${String(f.gzip).padStart(6)} B gzip`);
}
