#!/usr/bin/env node
// Sums every suite's results into the one closing line `N passed, N failed, N skipped`.
// Inputs in the results dir: jest*.json (Jest's --json output) and *.counts files written by
// the shell suites, each `passed failed skipped` on one line. Exits non-zero on a failure or
// when no test ran at all.
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;

const jestFiles = fs.readdirSync(dir).filter(f => /^jest.*\.json$/.test(f));
if (jestFiles.length === 0) {
  console.log('Jest wrote no results: it did not run');
  failed += 1;
}
for (const file of jestFiles) {
  const jest = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  console.log(
    `${file}: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed, ${jest.numPendingTests} skipped`,
  );
  passed += jest.numPassedTests;
  failed += jest.numFailedTests + jest.numRuntimeErrorTestSuites;
  skipped += jest.numPendingTests + jest.numTodoTests;
  for (const suite of jest.testResults) {
    if (suite.status === 'failed') {
      console.log(`FAILED ${path.relative(process.cwd(), suite.name)}`);
      for (const t of suite.assertionResults.filter(
        a => a.status === 'failed',
      )) {
        console.log(`  ✕ ${t.fullName}`);
      }
      if (suite.assertionResults.length === 0 && suite.message) {
        console.log(suite.message.split('\n').slice(0, 15).join('\n'));
      }
    }
  }
}

for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.counts'))) {
  const [p, f, s] = fs
    .readFileSync(path.join(dir, file), 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  console.log(
    `${path.basename(file, '.counts')}: ${p} passed, ${f} failed, ${s} skipped`,
  );
  passed += p;
  failed += f;
  skipped += s;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
