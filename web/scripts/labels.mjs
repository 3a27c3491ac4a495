// Chinese labels of the enums, read from the protos' comments (`TRAINING_LEVEL_COUNTY = 4; // 县级`),
// so the page says what the contract says. Values whose comment has no Chinese get theirs from
// the page's own table (src/labels.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function protoFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...protoFiles(path));
    else if (name.endsWith('.proto')) out.push(path);
  }
  return out;
}

export function enumLabels(protoRoot) {
  const labels = {};
  const line = /^\s*([A-Z][A-Z0-9_]*)\s*=\s*\d+\s*;\s*\/\/\s*([^\s(,;:：]*[\u4e00-\u9fff][^\s(,;:：]*)/;
  for (const file of protoFiles(protoRoot).sort()) {
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      const m = line.exec(text);
      if (m) labels[m[1]] = m[2];
    }
  }
  return labels;
}
