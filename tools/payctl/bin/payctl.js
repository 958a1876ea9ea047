#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step), like every service here.
require('tsx/cjs');
require('../src/main.ts');
