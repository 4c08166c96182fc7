/**
 * The repositories a Dockerfile's FROM lines pull from berth, so that a build's token may pull
 * exactly those besides pushing its own repository (credentials.ts). A FROM naming an earlier
 * stage, `scratch`, another registry or an ARG the file does not settle is left out (a public
 * image is pulled anonymously then; a private one fails the build with buildah's message).
 */
import { isValidName } from '../registry/reference.ts';

/** `registry` is berth's address as the builder sees it (`127.0.0.1:5000`). */
export function baseRepositories(dockerfile: string, registry: string): string[] {
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const args = new Map<string, string>();
  const stages = new Set<string>();
  const found = new Set<string>();
  for (const raw of lines) {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=("?)([^"\s]*)\2\s*$/i.exec(line);
    if (arg?.[1] !== undefined && arg[3] !== undefined) args.set(arg[1], arg[3]);
    const from = /^FROM\s+(.*)$/i.exec(line);
    if (from?.[1] === undefined) continue;
    const words = from[1].split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = (words[0] ?? '').replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => args.get(name) ?? m);
    if (words[1]?.toLowerCase() === 'as' && words[2] !== undefined) stages.add(words[2].toLowerCase());
    if (image === '' || image.includes('$') || image === 'scratch' || stages.has(image.toLowerCase())) continue;
    const name = repositoryOf(image, registry);
    if (name !== undefined) found.add(name);
  }
  return [...found];
}

/** The berth repository an image reference names, undefined for another registry's. */
function repositoryOf(image: string, registry: string): string | undefined {
  let rest = image.split('@')[0] ?? '';
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  if (hasHost) {
    if (first !== registry && first !== 'docker.io') return undefined;
    rest = rest.slice(slash + 1);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) rest = rest.slice(0, colon);
  if (!rest.includes('/')) rest = `library/${rest}`;
  return isValidName(rest) ? rest : undefined;
}
