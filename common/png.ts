/** Reading a PNG's size from its first 24 bytes, without decoding it (store, loaders). */

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian), or undefined when the bytes are not a PNG. */
export function pngSize(header: Uint8Array): { width: number; height: number } | undefined {
  if (header.length < 24) return undefined;
  for (let i = 0; i < 8; i++) if (header[i] !== PNG_SIGNATURE[i]) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint32(8) !== 13) return undefined;
  const type = String.fromCharCode(header[12]!, header[13]!, header[14]!, header[15]!);
  if (type !== 'IHDR') return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0) return undefined;
  return { width, height };
}
