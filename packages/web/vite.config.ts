import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const nhsukImages = fileURLToPath(new URL('../../node_modules/nhsuk-frontend/dist/nhsuk/assets/images', import.meta.url));

/**
 * The app must work with no wider network, so nhsuk-frontend's CSS is made self-contained: its icon
 * urls (/assets/images/...) are bundled, and its web fonts, loaded from assets.nhs.uk, are dropped
 * (the stylesheet falls back to Arial, as NHS services do when the font cannot load).
 */
function nhsukOffline(): Plugin {
  return {
    name: 'steadfast-nhsuk-offline',
    enforce: 'pre',
    transform(code, id) {
      if (!/nhsuk-frontend[\\/].*\.css$/.test(id.split('?')[0] ?? '')) return undefined;
      return code.replace(/@font-face\{[^}]*assets\.nhs\.uk[^}]*\}/g, '').replace(/url\(\/assets\/images\//g, 'url(@nhsuk-images/');
    },
  };
}

// The practice node serves dist/ itself; `npm run dev` proxies the API to a node on :8080.
export default defineConfig({
  plugins: [nhsukOffline(), react()],
  base: '/',
  resolve: { alias: { '@nhsuk-images': nhsukImages } },
  // nhsuk-frontend ships minified CSS with old-IE hacks that esbuild's minifier warns about; it needs no second pass.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, cssMinify: false, chunkSizeWarningLimit: 1200 },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/fhir': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
