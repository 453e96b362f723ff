// The committed schema.d.ts must be what the generator makes from the current OpenAPI
// document, so the client never drifts from the server it talks to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("../..", import.meta.url)); // dist/test -> package root

test("schema.d.ts is generated from the current internal/api/openapi.json", () => {
  const dir = mkdtempSync(join(tmpdir(), "sealpost-schema-"));
  try {
    const fresh = join(dir, "schema.d.ts");
    const cli = join(pkg, "node_modules", "openapi-typescript", "bin", "cli.js");
    const run = spawnSync(process.execPath, [cli, "../../internal/api/openapi.json", "-o", fresh], {
      cwd: pkg,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, `openapi-typescript failed:\n${run.stderr}`);
    const committed = readFileSync(join(pkg, "schema.d.ts"), "utf8");
    assert.ok(
      readFileSync(fresh, "utf8") === committed,
      "clients/typescript/schema.d.ts is out of date with internal/api/openapi.json: " +
        "run `npm run generate` in clients/typescript and commit the result",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
