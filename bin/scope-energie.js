#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: no build step between a fresh
// clone and `npm start` (a compiled `dist/` from `npm run build` is used when present).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = `${root}dist/cli.js`;
if (existsSync(compiled) && process.env.SCOPE_ENERGIE_FROM_SOURCE !== '1') {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  // The repository's tsconfig, whatever the working directory: tsx looks for one from the cwd,
  // and without it the dashboard's JSX (jsxImportSource hono/jsx) fails at run time.
  register({ tsconfig: process.env.TSX_TSCONFIG_PATH ?? `${root}tsconfig.json` });
  await import(pathToFileURL(`${root}src/cli.ts`).href);
}
