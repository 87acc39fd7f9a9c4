// The fingerprint of openapi.yaml that the generated client is stamped with: a hash of the
// parsed document, so that reformatting the YAML or its comments does not count as a change.
const crypto = require('node:crypto');
const fs = require('node:fs');
const { parse } = require('yaml');

const CLIENT_FINGERPRINT_FILE = 'openapi-fingerprint.json';

/** JSON with object keys sorted, so that key order does not count as a change either. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map(key => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function openapiFingerprint(specPath) {
  const doc = parse(fs.readFileSync(specPath, 'utf8'));
  return crypto.createHash('sha256').update(canonical(doc)).digest('hex');
}

module.exports = { openapiFingerprint, CLIENT_FINGERPRINT_FILE };
