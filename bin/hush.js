#!/usr/bin/env node
// The hush command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import '../dist/cli/bin.js';
