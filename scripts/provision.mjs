// What the test suites need beyond `npm ci`, from Debian's packages:
// Chromium for the browser tests, CJK fonts for Chinese pages and PDFs, and
// poppler's pdftotext to read PDFs back. Missing ones are installed with
// apt-get when running as root; otherwise the command says what to install
// and fails. Never downloads a browser of its own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const onPath = (command) =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, command)));

export const needs = [
  {
    pkg: 'chromium',
    why: 'the browser tests (web/e2e) drive it through playwright-core',
    present: () => fs.existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
  },
  {
    pkg: 'fonts-noto-cjk',
    why: 'Chinese pages in the browser tests, and the PDF test that refuses its CFF outlines',
    present: () => fs.existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'),
  },
  {
    pkg: 'fonts-wqy-microhei',
    why: 'the TrueType CJK font the packing lists and labels embed',
    present: () => fs.existsSync('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'),
  },
  {
    pkg: 'poppler-utils',
    why: 'pdftotext, which the PDF tests read documents back with',
    present: () => onPath('pdftotext'),
  },
];

/** Installs what is missing when it can; answers whether everything is there. */
export function provision() {
  const missing = needs.filter((need) => !need.present());
  if (missing.length === 0) {
    console.log(`present: ${needs.map((need) => need.pkg).join(', ')}`);
    return true;
  }
  const names = missing.map((need) => need.pkg);
  for (const need of missing) console.log(`missing: ${need.pkg} (${need.why})`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !onPath('apt-get')) {
    console.error(
      `\nThe test suites need these Debian packages: ${names.join(' ')}\n` +
        (onPath('apt-get')
          ? `Install them as root, then run the tests again:\n\n  sudo apt-get install -y ${names.join(' ')}\n`
          : 'This system has no apt-get: install the equivalents (Chromium at /usr/bin/chromium or CHROMIUM_PATH, Noto Sans CJK, WenQuanYi Micro Hei, pdftotext) with its package manager.\n'),
    );
    return false;
  }
  const t0 = Date.now();
  console.log(`installing with apt-get: ${names.join(' ')} (once; a minute or two)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', ...names], { stdio: ['ignore', 'ignore', 'inherit'], env }) : update;
  const still = needs.filter((need) => !need.present());
  if (install.status !== 0 || still.length > 0) {
    console.error(`\napt-get could not install ${still.map((need) => need.pkg).join(' ') || names.join(' ')} (exit ${install.status}); install them by hand and run the tests again.`);
    return false;
  }
  console.log(`installed ${names.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return true;
}
