import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The page imports the library from its source, so the example always shows the code in this
// repository. In your app, drop the alias: `npm install authcharts xstate axios` and import as usual.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^authcharts$/, replacement: fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
    ],
  },
  // Relative asset URLs: the built page works from any directory of any static server.
  base: './',
});
