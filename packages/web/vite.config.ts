import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The practice node serves dist/ itself; `npm run dev` proxies the API to a node on :8080.
export default defineConfig({
  plugins: [react()],
  base: '/',
  // nhsuk-frontend ships minified CSS with old-IE hacks that esbuild's minifier warns about; it needs no second pass.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, cssMinify: false, chunkSizeWarningLimit: 1200 },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/fhir': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
