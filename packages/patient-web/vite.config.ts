import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const nhsukImages = fileURLToPath(new URL('../../node_modules/nhsuk-frontend/dist/nhsuk/assets/images', import.meta.url));

/** As the staff app: nhsuk-frontend's CSS made self-contained (icons bundled, remote web fonts dropped). */
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

// Served by the node at /consult/<practice>/ (packages/server/src/webapp/patient-form.ts).
export default defineConfig({
  plugins: [nhsukOffline(), react()],
  base: '/consult/',
  resolve: { alias: { '@nhsuk-images': nhsukImages } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, cssMinify: false, chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false } } },
});
