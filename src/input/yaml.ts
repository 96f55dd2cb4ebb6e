// The one loader of the yaml package, kept with the input side: the readers of kubeconfigs, OIDC
// token updates and preset files parse with it; output/render.ts only stringifies through it.
//
// The yaml package is CommonJS. Loaded with import() from the dev build's split ES modules it has
// only a default export (esbuild cannot know a CommonJS module's export names there); loaded from
// CommonJS (the single binary, Jest) it has the names as well.
type Yaml = typeof import('yaml');

/** The yaml module's exports, whichever way it was bundled. */
export async function loadYaml(): Promise<Yaml> {
  const mod = await import('yaml');
  return (mod as Yaml & { default?: Yaml }).default ?? mod;
}
