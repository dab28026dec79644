#!/usr/bin/env node
import { execute } from '@oclif/core/execute';
import { settings } from '@oclif/core/settings';

// wf's commands always run compiled (dist/): without this, NODE_ENV=development makes oclif look for
// their TypeScript sources and try to register a TypeScript loader, doubling the start-up time.
settings.enableAutoTranspile = false;

await execute({ dir: import.meta.url });
