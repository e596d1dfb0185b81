#!/usr/bin/env node
// Entry point; the program is compiled to dist/ by `npm run build`.
import '../dist/main.js';
