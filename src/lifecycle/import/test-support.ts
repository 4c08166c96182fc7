/** For the import's tests: registry:2 trees written by hand, as distribution's filesystem driver lays them out. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema, type Config } from '../../config/schema.ts';
import { openSqliteBackend } from '../../meta/sqlite/backend.ts';
import type { Backend } from '../../meta/backend.ts';
import { silentProgress } from '../../migrate/progress.ts';
import { digestOf } from '../../registry/digest.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../../registry/media-types.ts';
import { importRegistry, type ImportOptions, type ImportSummary } from './import.ts';

export { OCI_INDEX, OCI_MANIFEST };

export function sha256(bytes: Buffer | string): string {
  return digestOf(Buffer.from(bytes));
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** A registry:2 root under construction, beside a berth root, in a temp directory. */
export class Tree {
  readonly dir: string;
  /** distribution's rootdirectory. */
  readonly root: string;
  readonly v2: string;
  /** berth's storage root. */
  readonly berth: string;

  constructor(prefix = 'berth-import-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.root = path.join(this.dir, 'registry');
    this.v2 = path.join(this.root, 'docker', 'registry', 'v2');
    this.berth = path.join(this.dir, 'berth');
    fs.mkdirSync(path.join(this.v2, 'repositories'), { recursive: true });
    fs.mkdirSync(path.join(this.v2, 'blobs'), { recursive: true });
  }

  write(relative: string, content: Buffer | string): string {
    const file = path.join(this.v2, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  }

  blobPath(digest: string): string {
    const hex = digest.slice(7);
    return path.join(this.v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }

  /** A blob's data file; returns its descriptor. */
  blob(content: Buffer | string, mediaType = 'application/octet-stream'): Descriptor {
    const bytes = Buffer.from(content);
    const digest = sha256(bytes);
    this.write(path.relative(this.v2, this.blobPath(digest)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  layerLink(repo: string, digest: string, content = digest): void {
    this.write(`repositories/${repo}/_layers/sha256/${digest.slice(7)}/link`, content);
  }

  revision(repo: string, digest: string, content = digest): void {
    this.write(`repositories/${repo}/_manifests/revisions/sha256/${digest.slice(7)}/link`, content);
  }

  tag(repo: string, tag: string, digest: string): void {
    this.write(`repositories/${repo}/_manifests/tags/${tag}/current/link`, digest);
    this.write(`repositories/${repo}/_manifests/tags/${tag}/index/sha256/${digest.slice(7)}/link`, digest);
  }

  upload(repo: string, id: string): void {
    this.write(`repositories/${repo}/_uploads/${id}/data`, 'half');
    this.write(`repositories/${repo}/_uploads/${id}/startedat`, new Date().toISOString());
  }

  /** A manifest pushed to `repo`: its blob and revision link (and tag). */
  manifest(repo: string, doc: object, tag?: string): Descriptor {
    const d = this.blob(JSON.stringify(doc), (doc as { mediaType?: string }).mediaType ?? OCI_MANIFEST);
    this.revision(repo, d.digest);
    if (tag !== undefined) this.tag(repo, tag, d.digest);
    return d;
  }

  /** An image (config, one layer, manifest) pushed to `repo` as distribution would keep it. */
  image(repo: string, label: string, tag?: string, extra: object = {}): { manifest: Descriptor; config: Descriptor; layer: Descriptor } {
    const config = this.blob(JSON.stringify({ architecture: 'amd64', os: 'linux', label }), 'application/vnd.oci.image.config.v1+json');
    const layer = this.blob(`layer of ${label}`, 'application/vnd.oci.image.layer.v1.tar+gzip');
    this.layerLink(repo, config.digest);
    this.layerLink(repo, layer.digest);
    const manifest = this.manifest(repo, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], ...extra }, tag);
    return { manifest, config, layer };
  }

  config(overrides: object = {}): Config {
    return configSchema.parse({ log: { level: 'error' }, storage: { filesystem: { rootdirectory: this.berth } }, ...overrides });
  }

  run(opts: Partial<ImportOptions> = {}): Promise<ImportSummary> {
    return importRegistry({ root: this.root, config: this.config(), progress: silentProgress, ...opts });
  }

  /** berth's database after an import. */
  backend(): Backend {
    return openSqliteBackend({ path: path.join(this.berth, 'berth.db') });
  }

  /** Whether berth's storage holds the blob. */
  held(digest: string): boolean {
    const hex = digest.slice(7);
    return fs.existsSync(path.join(this.berth, 'blobs', 'sha256', hex.slice(0, 2), hex));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
