// Bundles the console and the citizen page, with Leaflet and their CSS, into OUTDIR (default
// dist/). The hub's build.rs runs this and embeds the result in the binary.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] ?? path.join(here, 'dist'));

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: { console: 'src/console/main.js', citizen: 'src/citizen/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir,
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'img/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
});
// Each page is its bundle: the script draws everything, in the reader's language.
for (const page of ['console', 'citizen']) {
  await writeFile(path.join(outdir, `${page}.html`), `<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vedetta</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/${page}.css">
<script type="module" src="/ui/${page}.js"></script>
</head>
<body>
<noscript>Vedetta needs JavaScript. / Vedetta richiede JavaScript.</noscript>
</body>
</html>
`);
}
