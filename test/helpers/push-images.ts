/** What `berth push-images --json` prints for each image (src/cli/push-images.ts). */
export interface Pushed {
  image: string;
  pushed: string;
  digest: string;
  blobs: { copied: number; skipped: number; mounted: number };
  bytes: number;
}
