// Empties dist/ before a build: tsc never deletes output, so a file moved or removed from src/ (a
// test fixture, a renamed module) would otherwise stay in dist/ and ship in the package.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
