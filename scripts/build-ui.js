// The web UI (src/webui, docs/web-ui.md) bundled for the browser at build time: React and the app
// into dist/ui-assets/app.js, the styles into app.css. `wf dev` and `wf serve` serve these files
// as they are; nothing is built or fetched at run time.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}/dist/ui-assets`;
mkdirSync(outdir, { recursive: true });

await build({
  entryPoints: { app: `${root}/src/webui/main.tsx` },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  tsconfig: `${root}/src/webui/tsconfig.json`,
  logLevel: 'warning',
});
