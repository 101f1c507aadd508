/**
 * Screenshots at a given width, for timelines and lists: a 200-step episode shows 200 small
 * JPEGs, not 200 full-size PNGs, so the page's memory stays bounded. Made with sharp on demand
 * and kept in a small cache (the widths are a closed set, THUMBNAIL_WIDTHS).
 */
import sharp from 'sharp';
import type { ThumbnailWidth } from '../../common/contract.ts';

/** Bytes of thumbnails kept in memory. */
const CACHE_BYTES = 32 * 1024 * 1024;

export class Thumbnails {
  private readonly cache = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly readPng: (sha256: string) => Buffer | Promise<Buffer>) {}

  async get(sha256: string, width: ThumbnailWidth): Promise<Buffer> {
    const key = `${width}/${sha256}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const png = await this.readPng(sha256);
    const jpeg = await sharp(png).resize({ width, withoutEnlargement: true }).jpeg({ quality: 80, mozjpeg: false }).toBuffer();
    this.cache.set(key, jpeg);
    this.bytes += jpeg.length;
    for (const [k, v] of this.cache) {
      if (this.bytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.bytes -= v.length;
    }
    return jpeg;
  }
}
