#!/usr/bin/env node
// Runs after `backstage-repo-tools package schema openapi generate --server --client-package
// plugins/chaos-common` (see `yarn generate:openapi`), from plugins/chaos-backend:
// 1. repo-tools reports a failed client generation but still exits 0, leaving an emptied
//    folder: fail loudly instead.
// 2. openapi-generator's mustache templates HTML-escape enum values, so the comparison enum
//    ('<', '>=', ...) comes out as '&lt;' in the generated models. Undo exactly that.
// 3. Stamp the client with the spec it came from: src/schema/openapi.test.ts fails when the
//    spec has moved on since (the server carries the whole spec in router.ts already).
const fs = require('node:fs');
const path = require('node:path');
const {
  openapiFingerprint,
  CLIENT_FINGERPRINT_FILE,
} = require('./openapiFingerprint');

const SPEC = path.resolve(__dirname, '../src/schema/openapi.yaml');
const SERVER = path.resolve(__dirname, '../src/schema/openapi/generated');
const CLIENT = path.resolve(
  __dirname,
  '../../chaos-common/src/schema/openapi/generated',
);

for (const required of [
  path.join(SERVER, 'router.ts'),
  path.join(CLIENT, 'apis/Api.client.ts'),
]) {
  if (!fs.existsSync(required)) {
    console.error(
      `OpenAPI generation did not produce ${path.relative(
        process.cwd(),
        required,
      )}`,
    );
    process.exit(1);
  }
}

const ENTITIES = {
  '&lt;': '<',
  '&gt;': '>',
  '&#x3D;': '=',
  '&#x27;': "'",
  '&quot;': '"',
  '&amp;': '&',
};
for (const dir of [SERVER, CLIENT]) {
  for (const entry of fs.readdirSync(dir, { recursive: true })) {
    const file = path.join(dir, String(entry));
    if (!file.endsWith('.ts')) continue;
    const text = fs.readFileSync(file, 'utf8');
    const fixed = text.replace(
      /&lt;|&gt;|&#x3D;|&#x27;|&quot;|&amp;/g,
      m => ENTITIES[m],
    );
    if (fixed !== text) fs.writeFileSync(file, fixed);
  }
}

fs.writeFileSync(
  path.join(CLIENT, CLIENT_FINGERPRINT_FILE),
  `${JSON.stringify(
    {
      generatedFrom: 'plugins/chaos-backend/src/schema/openapi.yaml',
      sha256: openapiFingerprint(SPEC),
    },
    null,
    2,
  )}\n`,
);
