// Draws the add-in's padlock icons (16 to 128 px) as PNG without any dependency.
// Run once with `node scripts/make-icons.mjs`; the PNGs are committed under web/assets/.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};

/** Coverage (0..1) of a pixel by the padlock shape, sampled 4x4 for smooth edges. */
function shape(x, y) {
  // Coordinates in a unit square. Background: rounded square.
  const r = 0.18;
  const inRounded = (px, py) => {
    const dx = Math.max(r - px, 0, px - (1 - r));
    const dy = Math.max(r - py, 0, py - (1 - r));
    return dx * dx + dy * dy <= r * r;
  };
  if (!inRounded(x, y)) return 'none';
  // Lock body.
  if (x >= 0.25 && x <= 0.75 && y >= 0.46 && y <= 0.82) {
    // Keyhole.
    const kx = x - 0.5, ky = y - 0.6;
    if (kx * kx + ky * ky <= 0.06 * 0.06 || (Math.abs(kx) <= 0.025 && y >= 0.6 && y <= 0.72)) return 'bg';
    return 'fg';
  }
  // Shackle: ring between radii, upper half, above the body.
  const sx = x - 0.5, sy = y - 0.46;
  const d = Math.sqrt(sx * sx + sy * sy);
  if (y <= 0.46 && d >= 0.13 && d <= 0.2) return 'fg';
  return 'bg';
}

function png(size) {
  const bg = [0x0b, 0x4f, 0x8a]; // dark blue
  const fg = [0xff, 0xff, 0xff];
  const rows = [];
  const n = 4;
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let px = 0; px < size; px++) {
      let a = 0, f = 0;
      for (let sy = 0; sy < n; sy++) for (let sx = 0; sx < n; sx++) {
        const s = shape((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
        if (s !== 'none') a++;
        if (s === 'fg') f++;
      }
      const t = a ? f / a : 0;
      const o = 1 + px * 4;
      for (let i = 0; i < 3; i++) row[o + i] = Math.round(bg[i] + (fg[i] - bg[i]) * t);
      row[o + 3] = Math.round((255 * a) / (n * n));
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const out = fileURLToPath(new URL('../web/assets/', import.meta.url));
// Button icons: 16, 32 and 80 px are required, 20, 24, 40, 48 and 64 px supported (manifest Icon element);
// IconUrl is 64 px and HighResolutionIconUrl 128 px.
for (const size of [16, 20, 24, 32, 40, 48, 64, 80, 128]) writeFileSync(`${out}icon-${size}.png`, png(size));
