import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web UI's bundle: `vite build` writes `dist/app` (index.html and hashed `assets/`),
 * which the controller serves at `/`. No inline script or style ends up in index.html, so
 * the controller's strict Content-Security-Policy holds. `vite` (dev) proxies the API to a
 * controller on FLOTILLA_DEV_API (default http://127.0.0.1:8080).
 */
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    // Everything from assets/, never inlined as data: URLs into the script.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': process.env.FLOTILLA_DEV_API ?? 'http://127.0.0.1:8080',
    },
  },
});
