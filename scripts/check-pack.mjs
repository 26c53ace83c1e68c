// Checks what `npm pack` would publish: the built package, the step scripts
// beside the compiled renderer, the TypeScript sources the multi-language
// schema is derived from, the docs and the plugin file; no tests, fixtures,
// examples or build leftovers. Run after `npm run build`.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";

const [{ files }] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" }));
const packed = new Set(files.map((f) => f.path));
const problems = [];

const steps = readdirSync("src/scripts/steps").filter((f) => !f.endsWith(".md"));
const required = [
  "package.json",
  "README.md",
  "LICENSE",
  "CHANGELOG.md",
  "PulumiPlugin.yaml",
  "tsconfig.json",
  "src/index.ts",
  "dist/index.js",
  "dist/index.d.ts",
  "dist/testing.js",
  "dist/testing.d.ts",
  "testing/package.json",
  ...steps.map((f) => `dist/scripts/steps/${f}`),
];
for (const path of required) if (!packed.has(path)) problems.push(`missing: ${path}`);

const forbidden = [
  /^test\//,
  /^bench\//,
  /^examples\//,
  /^program\//,
  /^\.ci\//,
  /fixture/i,
  /\.test\.[cm]?[jt]s(\.map)?$/,
  /^dist\/(test|bench)\//,
  /\.tsbuildinfo$/,
  /^node_modules\//,
];
for (const path of packed) if (forbidden.some((re) => re.test(path))) problems.push(`must not be packed: ${path}`);

// Every compiled module ships its declarations, and nothing in dist/ is stale.
for (const path of packed) {
  if (!/^dist\/.*\.js$/.test(path)) continue;
  if (!packed.has(path.replace(/\.js$/, ".d.ts"))) problems.push(`no declarations for ${path}`);
  const source = path.replace(/^dist\//, "src/").replace(/\.js$/, ".ts");
  if (!packed.has(source)) problems.push(`${path} has no source in src/ (stale build output?)`);
}

if (problems.length > 0) {
  console.error(`npm pack contents: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`npm pack contents: ${packed.size} files, all required present, nothing forbidden`);
