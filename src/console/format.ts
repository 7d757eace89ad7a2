// Numbers and bytes for people: 1234567 -> "1,234,567", 1536 -> "1.5 KiB"; message
// payloads: JSON pretty-printed, other text as is, binary as spaced hex.

import type { ShownBytes } from '../http/console-types.js';

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${scaled.toFixed(scaled < 10 ? 2 : 1)} ${units[unit]}`;
}

export function time(timestampMs: number): string {
  return new Date(timestampMs).toISOString().replace('T', ' ').replace('Z', '');
}

export type Shown = { kind: 'null' } | { kind: 'json'; text: string } | { kind: 'text'; text: string } | { kind: 'hex'; text: string };

export function payload(value: ShownBytes | null): Shown {
  if (value === null) return { kind: 'null' };
  if ('hex' in value) return { kind: 'hex', text: (value.hex.match(/.{1,2}/g) ?? []).join(' ') + (value.truncated ? ' …' : '') };
  const trimmed = value.text.trim();
  if (!value.truncated && (trimmed.startsWith('{') || trimmed.startsWith('['))) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(trimmed), null, 2) };
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return { kind: 'text', text: value.text + (value.truncated ? ' …' : '') };
}

/** An inline SVG sparkline of the values (newest last, at the right edge; `capacity` points span the width). */
export function sparkline(values: number[], width = 240, height = 40, capacity = values.length): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'sparkline');
  if (values.length < 2) return svg;
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, Math.max(capacity, values.length) - 1);
  const left = width - step * (values.length - 1);
  const points = values.map((value, index) => `${(left + index * step).toFixed(1)},${(height - 2 - (value / max) * (height - 4)).toFixed(1)}`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.join(' '));
  svg.appendChild(line);
  return svg;
}
