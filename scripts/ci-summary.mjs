// Adds up vitest JSON reports into CI's closing line. A missing report (a
// suite that crashed before reporting) counts as a failure.
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.log(`no test report at ${file}: counted as a failure`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, "utf8"));
  passed += r.numPassedTests;
  // A suite that fails to load has no failed test, only a failed file.
  const brokenFiles = r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
  failed += r.numFailedTests + brokenFiles;
  skipped += r.numPendingTests + r.numTodoTests;
}
const started = Number(process.env.CI_STARTED);
if (started) console.log(`elapsed: ${Math.round(Date.now() / 1000 - started)}s`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
