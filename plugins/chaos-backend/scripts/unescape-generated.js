#!/usr/bin/env node
// openapi-generator's mustache templates HTML-escape enum values, so the comparison enum
// ('<', '>=', ...) comes out as '&lt;' in the generated models. Undo exactly that.
const fs = require('node:fs');
const path = require('node:path');

const ENTITIES = { '&lt;': '<', '&gt;': '>', '&#x3D;': '=', '&#x27;': "'", '&quot;': '"', '&amp;': '&' };
const dir = path.resolve(__dirname, '../src/schema/openapi/generated');

for (const entry of fs.readdirSync(dir, { recursive: true })) {
  const file = path.join(dir, String(entry));
  if (!file.endsWith('.ts')) continue;
  const text = fs.readFileSync(file, 'utf8');
  const fixed = text.replace(/&lt;|&gt;|&#x3D;|&#x27;|&quot;|&amp;/g, m => ENTITIES[m]);
  if (fixed !== text) fs.writeFileSync(file, fixed);
}
