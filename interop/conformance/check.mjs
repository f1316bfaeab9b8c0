#!/usr/bin/env node
// Reads the MCP conformance suite's results (`conformance server ... -o DIR`) and compares them
// with the expected-failures list.
//
//   node check.mjs [--expected FILE] [--report-only] REVISION=DIR [REVISION=DIR ...]
//
// Prints one table per revision (scenario, checks passed/total, failed checks) and exits 1 if a
// check failed that the list does not name, or if the list names something that no longer fails
// (the list must stay as short as the truth allows). A check counts when its status is SUCCESS,
// FAILURE or WARNING; SKIPPED and INFO are shown but not counted. Only FAILURE is a failure.
//
// Expected-failures file: sections `[REVISION]`, then one entry a line,
//   scenario[/check-id] — reason
// where a bare scenario expects any of its checks to fail, and `#` starts a comment.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
let expectedPath = null;
let reportOnly = false;
const runs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--expected") expectedPath = args[++i];
  else if (args[i] === "--report-only") reportOnly = true;
  else if (args[i].includes("=")) {
    const at = args[i].indexOf("=");
    runs.push({ revision: args[i].slice(0, at), dir: args[i].slice(at + 1) });
  } else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}
if (runs.length === 0) {
  console.error("usage: check.mjs [--expected FILE] [--report-only] REVISION=DIR ...");
  process.exit(2);
}

/** revision -> [{ scenario, check, reason, line }] */
function readExpected(path) {
  const entries = new Map();
  if (!path) return entries;
  let revision = null;
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const section = line.match(/^\[(.+)\]$/);
    if (section) {
      revision = section[1];
      if (!entries.has(revision)) entries.set(revision, []);
      return;
    }
    const m = line.match(/^(\S+?)(?:\/(\S+))?\s+—\s+(.+)$/);
    if (!m || revision === null) {
      console.error(`${path}:${index + 1}: expected "scenario[/check] — reason" inside a [REVISION] section`);
      process.exit(2);
    }
    entries.get(revision).push({ scenario: m[1], check: m[2] ?? null, reason: m[3], line: index + 1 });
  });
  return entries;
}

/** scenario -> checks[] from a result directory */
function readResults(dir) {
  const results = new Map();
  if (!existsSync(dir)) return results;
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, "checks.json");
    if (!existsSync(file)) continue;
    const scenario = name.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/, "");
    results.set(scenario, JSON.parse(readFileSync(file, "utf8")));
  }
  return results;
}

const counted = new Set(["SUCCESS", "FAILURE", "WARNING"]);
const expected = readExpected(expectedPath);
const problems = [];
let totalPassed = 0;
let totalCounted = 0;

for (const { revision, dir } of runs) {
  const results = readResults(dir);
  const entries = expected.get(revision) ?? [];
  if (results.size === 0) {
    problems.push(`${revision}: no results in ${dir} (did the suite run?)`);
    continue;
  }
  let passed = 0;
  let count = 0;
  console.log(`\n${revision}: ${results.size} scenarios\n`);
  console.log("| scenario | checks passed/total | not passed |");
  console.log("|---|---|---|");
  for (const [scenario, checks] of results) {
    const ok = checks.filter((c) => c.status === "SUCCESS").length;
    const n = checks.filter((c) => counted.has(c.status)).length;
    passed += ok;
    count += n;
    const notPassed = checks
      .filter((c) => c.status !== "SUCCESS")
      .map((c) => `${c.id} (${c.status.toLowerCase()})`);
    console.log(`| ${scenario} | ${ok}/${n} | ${notPassed.join(", ") || "—"} |`);
    for (const check of checks.filter((c) => c.status === "FAILURE")) {
      const listed = entries.some(
        (e) => e.scenario === scenario && (e.check === null || e.check === check.id),
      );
      if (!listed) {
        problems.push(
          `${revision} ${scenario}/${check.id} failed and is not in the expected failures: ${check.errorMessage ?? ""}`,
        );
      }
    }
  }
  console.log(`\n${revision}: ${passed}/${count} checks passed`);
  totalPassed += passed;
  totalCounted += count;
  for (const e of entries) {
    const checks = results.get(e.scenario);
    const label = `${e.scenario}${e.check ? `/${e.check}` : ""}`;
    if (!checks) {
      problems.push(`${revision} ${label} is listed (line ${e.line}) but the scenario did not run`);
      continue;
    }
    const failing = checks.filter((c) => c.status === "FAILURE" && (e.check === null || c.id === e.check));
    if (failing.length === 0) {
      problems.push(`${revision} ${label} is listed (line ${e.line}) but no longer fails: remove it`);
    }
  }
}

if (runs.length > 1) console.log(`\nall revisions: ${totalPassed}/${totalCounted} checks passed`);
if (problems.length > 0) {
  console.log("");
  for (const p of problems) console.log(`conformance: ${p}`);
  if (!reportOnly) process.exit(1);
} else if (expectedPath) {
  console.log("\nconformance: every failure is an expected one, and every expected one still fails");
}
