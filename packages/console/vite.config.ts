import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server serves dist/ under a strict Content-Security-Policy (script-src 'self'; style-src 'self'),
// so the build must not inline scripts or styles: assets stay files, and there is no inline loader.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev -w @brier/console` proxies the API to a server started with `npm start`.
    proxy: { '/api': { target: 'http://localhost:8080', ws: true } },
  },
});
