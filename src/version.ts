/** The plugin's version, set at build time by esbuild's define (scripts/build.mjs). */
declare const __KUBECTL_EPHEMERAL_VERSION__: string;
export const VERSION = typeof __KUBECTL_EPHEMERAL_VERSION__ === 'string' ? __KUBECTL_EPHEMERAL_VERSION__ : 'v0.0.0-dev';

/** `kubectl ephemeral --help` for the built-in presets, rendered by the build (empty in tests and the first build pass). */
declare const __KUBECTL_EPHEMERAL_HELP__: string;
export const PREBUILT_HELP = typeof __KUBECTL_EPHEMERAL_HELP__ === 'string' ? __KUBECTL_EPHEMERAL_HELP__ : '';
