#!/usr/bin/env node
/* eslint-disable */
// Copies installed packages and the closure of their runtime dependencies into an image's
// node_modules, as `npm install --omit=dev` would lay them out, but from the workspace's own
// install: no registry, and the very versions the bundle was built and tested against.
//
//   node copy-packages.cjs FROM_DIR TARGET_NODE_MODULES NAME...
//
// FROM_DIR is where resolution starts (the package that depends on NAME...). A package is placed
// at the top of TARGET unless another version of it is there already; then it nests under the
// package that needs it, which is where Node's resolution looks first.
const fs = require('node:fs');
const path = require('node:path');

const [fromDir, target, ...names] = process.argv.slice(2);
if (!fromDir || !target || names.length === 0) {
  process.stderr.write(
    'usage: copy-packages.cjs FROM_DIR TARGET_NODE_MODULES NAME...\n',
  );
  process.exit(2);
}

/** The directory of package NAME as Node would resolve it from DIR (walking up node_modules). */
function packageDir(name, dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json')))
      return fs.realpathSync(candidate);
    if (d === path.dirname(d))
      throw new Error(`cannot resolve ${name} from ${dir}`);
  }
}

function readManifest(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

const copied = new Map(); // source dir -> target dir

function place(name, source, parentTarget) {
  const top = path.join(target, name);
  if (!fs.existsSync(top)) return top;
  if (readManifest(top).version === readManifest(source).version) return top;
  return path.join(parentTarget, 'node_modules', name);
}

function copy(name, fromDirectory, parentTarget) {
  const source = packageDir(name, fromDirectory);
  if (copied.has(source)) return;
  const dest = place(name, source, parentTarget);
  if (fs.existsSync(dest)) return;
  copied.set(source, dest);
  fs.cpSync(source, dest, {
    recursive: true,
    dereference: true,
    // A package's own nested node_modules are resolved (and copied) through its dependencies.
    filter: src =>
      path.relative(source, src).split(path.sep)[0] !== 'node_modules',
  });
  const manifest = readManifest(source);
  const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
  for (const dep of Object.keys(deps)) {
    try {
      copy(dep, source, dest);
    } catch (error) {
      // An optional dependency for another platform is not installed; a required one must be.
      if (
        !(manifest.optionalDependencies && dep in manifest.optionalDependencies)
      )
        throw error;
    }
  }
}

fs.mkdirSync(target, { recursive: true });
for (const name of names) copy(name, fromDir, target);
process.stdout.write(`${copied.size} packages\n`);
