// Bundles the console and the citizen page, with Leaflet and their CSS, into OUTDIR (default
// dist/). The hub's build.rs runs this and embeds every file written, chunks/ included.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] ?? path.join(here, 'dist'));

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir,
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'img/[name]-[hash]',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
// One build per page, so that neither page's first script waits on a chunk shared with the
// other. The citizen page splits: its map arrives as a chunk after the form works.
const pages = {
  // The console splits too: the charting library arrives only when the statistics are opened.
  console: await build({ ...common, entryPoints: { console: 'src/console/main.js' }, splitting: true }),
  citizen: await build({ ...common, entryPoints: { citizen: 'src/citizen/main.js' }, splitting: true }),
  // The archive and the figures: the notice page's map arrives as a chunk after the words.
  public: await build({ ...common, entryPoints: { public: 'src/public/main.js' }, splitting: true }),
};
for (const [page, result] of Object.entries(pages)) {
  await writeFile(path.join(outdir, `${page}.html`), html(page, staticImports(result.metafile, `${page}.js`)));
}
await installable(pages.citizen.metafile);

/** The citizens' page as an installable web app: its manifest and icons, and a service worker
 * (served at /sw.js) that precaches every file of the page, so it opens with no connection. */
async function installable(metafile) {
  await mkdir(path.join(outdir, 'pwa'), { recursive: true });
  for (const file of ['manifest.webmanifest', 'icon-192.png', 'icon-512.png', 'icon-maskable-512.png']) {
    await copyFile(path.join(here, 'src/pwa', file), path.join(outdir, file === 'manifest.webmanifest' ? file : `pwa/${file}`));
  }
  const files = Object.keys(metafile.outputs)
    .map((file) => path.relative(outdir, path.resolve(here, file)))
    .filter((file) => !file.endsWith('.map') && !file.endsWith('.LEGAL.txt'));
  const precache = await Promise.all([...files, 'pwa/icon-192.png'].map(async (file) => ({
    url: `/ui/${file}`,
    // Hashed names never change; the others are told apart by their content.
    revision: /-[A-Z0-9]{8}\./.test(file) ? null : await digest(path.join(outdir, file)),
  })));
  await build({
    ...common,
    entryPoints: { sw: 'src/pwa/sw.js' },
    format: 'iife',
    metafile: false,
    define: { 'self.__WB_MANIFEST': JSON.stringify(precache), 'process.env.NODE_ENV': '"production"' },
  });
}

async function digest(file) {
  return createHash('sha256').update(await readFile(file)).digest('hex').slice(0, 16);
}

/** The chunks an entry imports statically: the page names them, so that they load alongside
 * it rather than after it. Dynamic imports (the map) are left to load when asked for. */
function staticImports(metafile, entry) {
  const outputs = Object.fromEntries(Object.entries(metafile.outputs)
    .map(([file, output]) => [path.relative(outdir, path.resolve(here, file)), output]));
  const found = new Set();
  const visit = (file) => {
    for (const imported of outputs[file]?.imports ?? []) {
      if (imported.kind !== 'import-statement' || imported.external) continue;
      const chunk = path.relative(outdir, path.resolve(here, imported.path));
      if (!found.has(chunk)) {
        found.add(chunk);
        visit(chunk);
      }
    }
  };
  visit(entry);
  return [...found];
}

// Each page is its bundle: the script draws everything, in the reader's language.
function html(page, preloads) {
  const links = preloads.map((chunk) => `<link rel="modulepreload" href="/ui/${chunk}">\n`).join('');
  return `<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vedetta</title>
<link rel="icon" href="data:,">
${page === 'citizen' ? `<link rel="manifest" href="/manifest.webmanifest">
<link rel="apple-touch-icon" href="/ui/pwa/icon-192.png">
<meta name="theme-color" content="#0d47a1">
` : ''}<link rel="stylesheet" href="/ui/${page}.css">
<script type="module" src="/ui/${page}.js"></script>
${links}</head>
<body>
<noscript>Vedetta needs JavaScript. / Vedetta richiede JavaScript.</noscript>
</body>
</html>
`;
}
