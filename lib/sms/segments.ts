// How many SMS segments a text costs, in GSM-7 or UCS-2, the way carriers split and bill it.

import { gsmSeptets } from './gsm';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentInfo {
  encoding: SmsEncoding;
  /** Parts the message is sent (and billed) as; 0 for empty text. */
  segments: number;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  units: number;
  /** Units that fit in one segment: 160 / 70 for a single one, 153 / 67 once the header is needed. */
  perSegment: number;
  /** Characters that forced UCS-2, each once, in order of appearance. */
  nonGsmChars: string[];
}

export const SEGMENT_LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

/**
 * Fills segments greedily without cutting a character in two: an escape pair (GSM-7) or a surrogate
 * pair (UCS-2) that does not fit moves whole to the next segment, as handsets reassemble it.
 */
function countMultipart(costs: readonly number[], perSegment: number): number {
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > perSegment) {
      segments++;
      used = cost;
    } else {
      used += cost;
    }
  }
  return segments;
}

export function analyzeSms(text: string): SegmentInfo {
  const chars = Array.from(text);
  const septets = chars.map(gsmSeptets);
  const nonGsmChars = [...new Set(chars.filter((_, i) => septets[i] === 0))];
  const encoding: SmsEncoding = nonGsmChars.length === 0 ? 'GSM-7' : 'UCS-2';
  const costs = encoding === 'GSM-7' ? septets : chars.map((ch) => ch.length);
  const units = costs.reduce<number>((sum, cost) => sum + cost, 0);
  const limits = SEGMENT_LIMITS[encoding];
  if (units <= limits.single) {
    return { encoding, segments: units === 0 ? 0 : 1, units, perSegment: limits.single, nonGsmChars };
  }
  return {
    encoding,
    segments: countMultipart(costs, limits.multi),
    units,
    perSegment: limits.multi,
    nonGsmChars,
  };
}

/** An error message naming the count when the text needs more segments than the company allows. */
export function checkSegmentLimit(text: string, maxSegments: number): string | undefined {
  if (!Number.isInteger(maxSegments) || maxSegments < 1) {
    throw new RangeError(`maxSegments must be a positive whole number, got ${maxSegments}`);
  }
  const info = analyzeSms(text);
  if (info.segments <= maxSegments) return undefined;
  const unit = info.encoding === 'GSM-7' ? 'characters' : 'UTF-16 units';
  const why =
    info.encoding === 'UCS-2'
      ? `; UCS-2 because of ${info.nonGsmChars
          .slice(0, 10)
          .map((c) => JSON.stringify(c))
          .join(' ')}`
      : '';
  return (
    `message needs ${info.segments} SMS segments (${info.encoding}, ${info.units} ${unit}, ${info.perSegment} per segment${why}); ` +
    `the limit is ${maxSegments}`
  );
}
