import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The packed tarball from node_modules, as an app gets it. The SSR build (the flow run in Node)
// bundles the package too, so Vite's own resolution of its exports is what runs.
export default defineConfig({
  plugins: [react()],
  ssr: { noExternal: true },
  logLevel: 'warn',
});
