/** The plugin's version, set at build time by esbuild's define (scripts/build.mjs). */
declare const __KUBECTL_EPHEMERAL_VERSION__: string;
export const VERSION = typeof __KUBECTL_EPHEMERAL_VERSION__ === 'string' ? __KUBECTL_EPHEMERAL_VERSION__ : 'v0.0.0-dev';
